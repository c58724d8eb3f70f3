"""Reference data (reference/*.yaml) and the deterministic generator of a realistic demo zone."""
