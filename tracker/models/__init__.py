"""The domain's tables. Rules about them live in `services/`, never here."""

from tracker.models.calendar import HolidayOverride
from tracker.models.cases import (
    Attachment,
    Case,
    CaseEvent,
    CaseNumberSequence,
    Category,
    Extension,
    Feedback,
    Task,
    Visit,
)
from tracker.models.org import Department, TaskForce, User
from tracker.models.zone import Enterprise, Project, Tier

__all__ = [
    "Attachment",
    "Case",
    "CaseEvent",
    "CaseNumberSequence",
    "Category",
    "Department",
    "Enterprise",
    "Extension",
    "Feedback",
    "HolidayOverride",
    "Project",
    "Task",
    "TaskForce",
    "Tier",
    "User",
    "Visit",
]
