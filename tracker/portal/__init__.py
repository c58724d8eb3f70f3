"""The enterprise portal (/portal/): server-rendered pages where an enterprise submits and follows its cases."""
