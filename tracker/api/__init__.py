"""The REST API (`/api/v1/`, docs/architecture.md): thin views that parse input, call `services/`, and render
results."""
