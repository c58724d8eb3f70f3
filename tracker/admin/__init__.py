"""The staff workbench (docs/architecture.md): each module registers the admin of one part of the domain."""

from tracker.admin import (  # noqa: F401  (registers the ModelAdmins)
    cases,
    integrations,
    notifications,
    records,
    reference,
    schedules,
    tasks,
    zone,
)
