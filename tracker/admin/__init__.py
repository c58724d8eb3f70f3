"""The staff workbench (DESIGN.md §7): each module registers the admin of one part of the domain."""

from tracker.admin import cases, integrations, records, reference, tasks, zone  # noqa: F401  (registers the ModelAdmins)
