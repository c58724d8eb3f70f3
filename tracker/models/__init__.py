"""The domain's tables. Rules about them live in `services/`, never here."""

from tracker.models.api import ApiToken, IdempotencyRecord, WebhookAttempt, WebhookDelivery, WebhookSubscription
from tracker.models.audit import AuditEntry, ReferenceChange
from tracker.models.calendar import HolidayOverride, HolidayYear
from tracker.models.cases import (
    Attachment,
    Case,
    CaseEvent,
    CaseNumberSequence,
    Category,
    ClockPause,
    Extension,
    Feedback,
    Task,
    Visit,
)
from tracker.models.notifications import Notification
from tracker.models.org import Department, TaskForce, User
from tracker.models.reminders import PasswordResetRequest, PushDelivery, Reminder
from tracker.models.zone import Enterprise, Project, Tier

__all__ = [
    "ApiToken",
    "Attachment",
    "AuditEntry",
    "Case",
    "CaseEvent",
    "CaseNumberSequence",
    "Category",
    "ClockPause",
    "Department",
    "Enterprise",
    "Extension",
    "Feedback",
    "HolidayOverride",
    "HolidayYear",
    "IdempotencyRecord",
    "Notification",
    "PasswordResetRequest",
    "Project",
    "PushDelivery",
    "ReferenceChange",
    "Reminder",
    "Task",
    "TaskForce",
    "Tier",
    "User",
    "Visit",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
]
