"""What is overdue or coming due, as query conditions shared by the workbench filters, the dashboard, the
ledger and (later) the reminder sweep, so every place counts the same items.

A case is waiting on someone while it is submitted (to be accepted by `accept_due_on`), in progress (its open
tasks by their `due_on`; after the enterprise sent it back, the concierge by `redo_due_on`) or resolved (the
enterprise's verdict by `verdict_due_on`, then a callback). A paused case (挂起, `services.cases.clocks`) waits on the
enterprise: neither it nor its tasks are overdue or coming due until its clocks run again.
"""

from datetime import date, timedelta

from django.db.models import Case as Choose
from django.db.models import Exists, IntegerField, Min, OuterRef, Q, QuerySet, Subquery, Value, When

from services.states import OPEN_TASK_STATES
from tracker.models import Case, Task

CS = Case.Status


def clock_running_q(prefix: str = "") -> Q:
    """Cases (or, with prefix "case__", their tasks) whose clocks run: not paused (挂起, services.cases.clocks)."""
    return Q(**{f"{prefix}clock_paused_at__isnull": True})


def _late_tasks_q(today: date) -> Q:
    return Q(status__in=OPEN_TASK_STATES, due_on__lt=today)


def overdue_tasks_q(today: date) -> Q:
    """Open tasks whose due date has passed, their case's clock running."""
    return _late_tasks_q(today) & clock_running_q("case__")


def is_task_overdue(task: Task, today: date) -> bool:
    """The same rule as `overdue_tasks_q`, for a task already loaded (with its case)."""
    return task.status in OPEN_TASK_STATES and task.due_on < today and task.case.clock_paused_at is None


def tasks_due_between_q(start: date, end: date) -> Q:
    """Open tasks due on a day from `start` to `end`, both included, their case's clock running."""
    return _tasks_due_between_q(start, end) & clock_running_q("case__")


def _tasks_due_between_q(start: date, end: date) -> Q:
    return Q(status__in=OPEN_TASK_STATES, due_on__range=(start, end))


def _case_waiting_q(task_q: Q, accept_q: dict, verdict_q: dict, redo_q: dict) -> Q:
    # The case's own clock is checked once, outside: the task subquery need not join the case again.
    open_task = Task.objects.filter(task_q, case=OuterRef("pk"))
    return clock_running_q() & (
        Q(status=CS.SUBMITTED, **accept_q)
        | Q(status=CS.RESOLVED, **verdict_q)
        | Q(status=CS.IN_PROGRESS, **redo_q)
        | Q(Exists(open_task), status__in=[CS.ACCEPTED, CS.IN_PROGRESS])
    )


def overdue_cases_q(today: date) -> Q:
    """Cases not accepted in time, with an overdue open task, past their verdict window, or sent back (重办) and
    not taken up again by the concierge in time."""
    return _case_waiting_q(
        _late_tasks_q(today),
        {"accept_due_on__lt": today},
        {"verdict_due_on__lt": today},
        {"redo_due_on__lt": today},
    )


def cases_due_between_q(start: date, end: date) -> Q:
    """Cases with a deadline (acceptance, an open task, the verdict, the redo) from `start` to `end`."""
    span = (start, end)
    return _case_waiting_q(
        _tasks_due_between_q(start, end),
        {"accept_due_on__range": span},
        {"verdict_due_on__range": span},
        {"redo_due_on__range": span},
    )


def rest_of_week(today: date) -> tuple[date, date]:
    """From `today` to the Sunday of its week: what is still due this week (overdue items are listed apart)."""
    return today, today + timedelta(days=6 - today.weekday())


def annotate_case_deadlines(queryset: QuerySet[Case], today: date) -> QuerySet[Case]:
    """Add `urgency_rank`, `is_overdue` and `next_due` (the next deadline someone must meet), computed in the
    list's one query."""
    next_task_due = (
        Task.objects.filter(case=OuterRef("pk"), status__in=OPEN_TASK_STATES)
        .values("case")
        .annotate(first=Min("due_on"))
        .values("first")
    )
    return queryset.annotate(
        urgency_rank=Choose(
            When(urgency=Case.Urgency.CRITICAL, then=Value(2)),
            When(urgency=Case.Urgency.URGENT, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        ),
        is_overdue=Choose(When(overdue_cases_q(today), then=Value(True)), default=Value(False)),
        next_due=Choose(
            When(clock_paused_at__isnull=False, then=None),  # paused: no deadline runs
            When(status=CS.SUBMITTED, then="accept_due_on"),
            When(status=CS.RESOLVED, then="verdict_due_on"),
            # Sent back (重办) with every task done: the concierge's redo deadline comes first.
            When(status=CS.IN_PROGRESS, redo_due_on__isnull=False, then="redo_due_on"),
            When(status__in=[CS.ACCEPTED, CS.IN_PROGRESS], then=Subquery(next_task_due)),
            default=None,
        ),
    )
