"""The REST API (`/api/v1/`, DESIGN.md §7): thin views that parse input, call `services/`, and render results."""
