"""Paused clocks (挂起): while a case waits for information asked of the enterprise, its deadlines stand still.

The concierge pauses a case when asking the enterprise for information (`services.cases.steps.request_case_info`): a
`ClockPause` row records who, why and when, and `Case.clock_paused_at` marks the case, so no reminder, overdue
badge or escalation counts against anyone while the zone waits. The pause ends when someone of the enterprise
adds information, when the concierge or a leader resumes the clock, or when the case leaves the states that have
clocks (accepted, declined, withdrawn, answered). Ending it moves every running deadline of the case — its
acceptance or redo deadline and each open task's due date — by the working days the pause lasted, so each keeps
the days it had left; tasks given out during the pause move only by the part of it they lived through.

The caller holds the case's row lock inside a transaction (`services.locking.lock_case`).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from services.cases.transitions import record_event
from services.states import OPEN_TASK_STATES
from services.time.calendar import WorkingCalendar
from services.time.reminders import working_days_ago
from tracker.models import Case, CaseEvent, ClockPause, Task, User

Kind = CaseEvent.Kind
EndedBy = ClockPause.EndedBy


def open_pause(case: Case) -> ClockPause | None:
    """The case's running pause, if its clock is stopped."""
    if case.clock_paused_at is None:
        return None
    return ClockPause.objects.filter(case=case, ended_at__isnull=True).first()


def pause(case: Case, *, actor: User, reason: str, at: datetime) -> ClockPause | None:
    """Stop the case's clocks (no-op, returning None, when they are stopped already)."""
    if case.clock_paused_at is not None:
        return None
    paused = ClockPause.objects.create(case=case, reason=reason, paused_by=actor, started_at=at)
    case.clock_paused_at = at
    Case.objects.filter(pk=case.pk).update(clock_paused_at=at)
    record_event(case=case, kind=Kind.CLOCK_PAUSED, actor=actor, note=reason, data={"pause": paused.pk}, at=at)
    return paused


@dataclass(frozen=True)
class Moved:
    what: str  # "accept_due_on", "redo_due_on", or "task:<id>"
    title: str
    before: date
    after: date


def _move(calendar: WorkingCalendar, due: date, days: int) -> date:
    return calendar.add_working_days(due, days).date if days else due


def resume(case: Case, *, actor: User | None, how: str, at: datetime, note: str = "") -> ClockPause | None:
    """End the running pause (no-op, returning None, when there is none): every running deadline moves by the
    working days the pause lasted, recorded in one event on the case. `how` is a `ClockPause.EndedBy`."""
    paused = open_pause(case)
    if paused is None:
        return None
    started, today = timezone.localdate(paused.started_at), timezone.localdate(at)
    calendar = WorkingCalendar.load(since=started)
    days = max(calendar.working_days_between(started, today), 0)
    moved: list[Moved] = []
    if how != EndedBy.CLOSED:
        moved = _move_deadlines(case, calendar, started, today, days, at)
    paused.ended_at, paused.ended_by, paused.end_reason, paused.working_days = at, actor, how, days
    paused.save(update_fields=["ended_at", "ended_by", "end_reason", "working_days"])
    case.clock_paused_at = None
    Case.objects.filter(pk=case.pk).update(clock_paused_at=None)
    record_event(
        case=case,
        kind=Kind.CLOCK_RESUMED,
        actor=actor,
        note=note,
        data={
            "pause": paused.pk,
            "how": how,
            "days": days,
            "moved": [
                {"what": m.what, "title": m.title, "from": m.before.isoformat(), "to": m.after.isoformat()}
                for m in moved
            ],
        },
        at=at,
    )
    return paused


def _move_deadlines(
    case: Case, calendar: WorkingCalendar, started: date, today: date, days: int, at: datetime
) -> list[Moved]:
    moved: list[Moved] = []
    case_field = {Case.Status.SUBMITTED: "accept_due_on", Case.Status.IN_PROGRESS: "redo_due_on"}.get(case.status)
    due = getattr(case, case_field) if case_field else None
    if due is not None and days:
        after = _move(calendar, due, days)
        changes = {case_field: after}
        if case.deadline_working_days is not None:
            changes["deadline_working_days"] = case.deadline_working_days + days
        for name, value in changes.items():
            setattr(case, name, value)
        Case.objects.filter(pk=case.pk).update(**changes)
        moved.append(Moved(case_field, str(Case._meta.get_field(case_field).verbose_name), due, after))
    tasks = case.tasks.select_for_update(of=("self",)).filter(status__in=OPEN_TASK_STATES).order_by("id")
    for task in tasks:
        # A task given out during the pause stood still only from the day it was given.
        given = task.due_counted_from or timezone.localdate(task.created_at)
        lived = days if given <= started else max(calendar.working_days_between(given, today), 0)
        if not lived:
            continue
        after = _move(calendar, task.due_on, lived)
        fields = {"due_on": after, "version": task.version + 1, "updated_at": at}
        if task.due_working_days is not None:
            fields["due_working_days"] = task.due_working_days + lived
        Task.objects.filter(pk=task.pk).update(**fields)
        moved.append(Moved(f"task:{task.pk}", task.title, task.due_on, after))
    return moved


def long_pauses_q(today: date, calendar: WorkingCalendar | None = None) -> Q:
    """Cases paused for CLOCK_PAUSE_LONG_AFTER_DAYS working days or more: the waits a leader looks at."""
    days = settings.CLOCK_PAUSE_LONG_AFTER_DAYS
    calendar = calendar or WorkingCalendar.load(since=today - timedelta(days=days * 2 + 60))
    # Paused on or before this day: `days` working days or more have passed since.
    day = working_days_ago(today, days, calendar)
    return Q(clock_paused_at__lt=timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min)))
