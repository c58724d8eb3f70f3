"""督办: what a leader must see first — extensions waiting for a decision, and tasks overdue long enough to
carry a yellow or a red card: the thresholds of the case's category, as the escalation reminders count them
(services.time.reminders.EscalationDates), in working days. A paused case's tasks carry no card: their clocks stand
still.
"""

from collections import defaultdict
from datetime import date

from django.db.models import Count, Q, QuerySet

from services.selectors import extensions_visible_to, tasks_visible_to
from services.states import WORKING_TASK_STATES
from services.time.calendar import WorkingCalendar
from services.time.deadlines import clock_running_q
from services.time.reminders import EscalationDates
from tracker.models import Case, Extension, User

# How many of each a leader's home lists before "see all".
SHOWN = 5


def carded_tasks_q(card: str, dates: EscalationDates) -> Q:
    """Tasks still being worked on a case in progress, not paused, that carry `card` ("yellow": yellow and not yet
    red), each by its case's category's thresholds: one condition per distinct pair of cut-off dates."""

    def carded(yellow: date, red: date) -> Q:
        return Q(due_on__lte=red) if card == "red" else Q(due_on__lte=yellow, due_on__gt=red)

    default = (dates.default.yellow, dates.default.red)
    categories_by_dates: dict[tuple[date, date], list[int]] = defaultdict(list)
    for pk, cutoffs in sorted(dates.by_category.items()):
        if (cutoffs.yellow, cutoffs.red) != default:
            categories_by_dates[(cutoffs.yellow, cutoffs.red)].append(pk)
    # The categories with the default's dates, and any created since the thresholds were read
    own = [pk for pks in categories_by_dates.values() for pk in pks]
    cards = (~Q(case__category_id__in=own) if own else Q()) & carded(*default)
    for cutoffs, pks in categories_by_dates.items():
        cards |= Q(case__category_id__in=pks) & carded(*cutoffs)
    working = Q(status__in=WORKING_TASK_STATES, case__status=Case.Status.IN_PROGRESS) & clock_running_q("case__")
    return working & cards


def pending_extensions(user: User) -> QuerySet[Extension]:
    """Extension requests waiting for a decision on tasks `user` may see, oldest first."""
    return (
        extensions_visible_to(user)
        .filter(status=Extension.Status.PENDING)
        .select_related("task__case__enterprise", "requested_by")
        .order_by("created_at", "id")
    )


def attention(user: User, today: date, calendar: WorkingCalendar | None = None) -> dict:
    """The leader's first screen: pending extensions and red and yellow cards, each counted and the first
    `SHOWN` listed (oldest request, longest overdue first). A fixed number of queries (two fewer with a
    `calendar` the caller loaded already)."""
    dates = EscalationDates.on(today, calendar)
    visible = tasks_visible_to(user)
    extensions = pending_extensions(user)
    figures = {"extensions": (extensions.count(), list(extensions[:SHOWN]))}
    cards = {card: carded_tasks_q(card, dates) for card in ("red", "yellow")}
    counts = visible.aggregate(**{card: Count("pk", filter=q) for card, q in cards.items()})  # both at once
    for card, q in cards.items():
        tasks = visible.filter(q).select_related("case__enterprise", "task_force", "department")
        figures[card] = (counts[card], list(tasks.order_by("due_on", "id")[:SHOWN]))
    return figures
