"""督办: what a leader must see first — extensions waiting for a decision, and tasks overdue long enough to
carry a yellow or a red card (the same thresholds as the escalation reminders, in working days)."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet

from services.calendar import WorkingCalendar
from services.reminders import working_days_ago
from services.selectors import tasks_visible_to
from services.states import WORKING_TASK_STATES
from tracker.models import Case, Extension, User

# How many of each a leader's home lists before "see all".
SHOWN = 5


@dataclass(frozen=True)
class CardDates:
    """A task due on or before `yellow` is overdue by REMINDER_YELLOW_AFTER_DAYS working days or more (黄牌);
    on or before `red`, by REMINDER_RED_AFTER_DAYS (红牌)."""

    yellow: date
    red: date

    @classmethod
    def on(cls, today: date, calendar: WorkingCalendar | None = None) -> "CardDates":
        calendar = calendar or WorkingCalendar.load(since=today - timedelta(days=60))
        return cls(
            yellow=working_days_ago(today, settings.REMINDER_YELLOW_AFTER_DAYS, calendar),
            red=working_days_ago(today, settings.REMINDER_RED_AFTER_DAYS, calendar),
        )


def carded_tasks_q(card: str, dates: CardDates) -> Q:
    """Tasks still being worked on a case in progress that carry `card` ("yellow": yellow and not yet red)."""
    working = Q(status__in=WORKING_TASK_STATES, case__status=Case.Status.IN_PROGRESS)
    if card == "red":
        return working & Q(due_on__lte=dates.red)
    return working & Q(due_on__lte=dates.yellow, due_on__gt=dates.red)


def pending_extensions(user: User) -> QuerySet[Extension]:
    """Extension requests waiting for a decision on tasks `user` may see, oldest first."""
    return (
        Extension.objects.filter(status=Extension.Status.PENDING, task__in=tasks_visible_to(user).values("pk"))
        .select_related("task__case__enterprise", "requested_by")
        .order_by("created_at", "id")
    )


def attention(user: User, today: date) -> dict:
    """The leader's first screen: pending extensions and red and yellow cards, each counted and the first
    `SHOWN` listed (oldest request, longest overdue first). A fixed number of queries."""
    dates = CardDates.on(today)
    visible = tasks_visible_to(user).select_related("case__enterprise", "task_force", "department")
    extensions = pending_extensions(user)
    figures = {"extensions": (extensions.count(), list(extensions[:SHOWN]))}
    for card in ("red", "yellow"):
        tasks = visible.filter(carded_tasks_q(card, dates)).order_by("due_on", "id")
        figures[card] = (tasks.count(), list(tasks[:SHOWN]))
    return figures
