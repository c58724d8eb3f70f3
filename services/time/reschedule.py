"""Deadlines counted again once a year's holiday schedule is confirmed (docs/states-and-roles.md).

Until an administrator confirms a year the library does not know (`services.time.holidays.mark_year_complete`), a
deadline that counts across it knows only the statutory holidays and the weekends: the year's notice may add
bridging rest days and make-up working Saturdays. Once the year is confirmed, `reschedule_year` counts again every
open deadline that touches it — each open task's `due_on`, and each case's live deadline: `accept_due_on` while
submitted, `verdict_due_on` while resolved, `redo_due_on` while sent back (重办) — under the calendar as it now
stands. A deadline that keeps what it counts (`due_counted_from` + `due_working_days`, `deadline_counted_from` +
`deadline_working_days`) is counted again from there, a paused case's as any other; an older one without it only
moves off a day that is now a rest day (民法典 第二百零三条). A deadline that moves gets one DEADLINE_RESCHEDULED event,
whose notice tells the people it binds (`services.delivery.notifications`); its reminders re-arm by themselves, the
reminder log being keyed by deadline. A task's provisional flag (期限待核) follows the calendar too.

It runs after the confirmation commits, in a worker (`tracker.tasks.reschedule_deadlines`), one case per short
transaction; running it again changes nothing and writes nothing.

Only a confirmation triggers it. Reopening a year (deleting its HolidayYear) triggers nothing: no deadline moves
until the year is confirmed again. Called for a year whose schedule is not known (neither confirmed nor in the
library), `reschedule_year` moves nothing and writes no event — it only sets the tasks' provisional flags as the
calendar now says. Called for a year the library knows (`manage.py reschedule_deadlines 2026`), it moves the older
deadlines left on a rest day of it to the next working day.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from services.cases.transitions import record_event
from services.states import OPEN_TASK_STATES
from services.time.calendar import DueDate, WorkingCalendar
from tracker.models import Case, CaseEvent, Task

logger = logging.getLogger(__name__)

CS = Case.Status
# The field of a case's live deadline, by its status (a case in progress has one only while sent back).
LIVE_DEADLINE = {CS.SUBMITTED: "accept_due_on", CS.RESOLVED: "verdict_due_on", CS.IN_PROGRESS: "redo_due_on"}


@dataclass(frozen=True)
class RescheduleResult:
    year: int
    cases: int  # cases written to
    moved: int  # deadlines moved, one event each
    flagged: int  # tasks whose provisional flag alone changed


class Recount:
    """The calendar as it now stands, counting deadlines again: each distinct count is computed once a run."""

    def __init__(self, calendar: WorkingCalendar, today: date):
        self.calendar = calendar
        self.today = today
        self._counts: dict[tuple, DueDate] = {}

    def due(self, due_on: date, counted_from: date | None, working_days: int | None) -> DueDate:
        """The deadline `working_days` working days after `counted_from`; without them (an older row), `due_on`
        itself, or the next working day when it is now a rest day — provisional if any day from today up to it is
        decided by the law alone."""
        basis = counted_from is not None and working_days is not None
        key = (counted_from, working_days) if basis else (due_on,)
        if key not in self._counts:
            if basis:
                self._counts[key] = self.calendar.add_working_days(counted_from, working_days)
            else:
                moved = self.calendar.next_working_day(due_on)
                self._counts[key] = DueDate(moved, self._provisional_between(min(self.today, due_on), moved))
        return self._counts[key]

    def _provisional_between(self, start: date, end: date) -> bool:
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.calendar.check(day)[1]:
                return True
        return False


def _label(field: str, task: Task | None) -> str:
    """What the timeline calls the deadline, kept with the event in the zone's language (like a task's title)."""
    with translation.override(settings.LANGUAGE_CODE):
        if task is not None:
            return _("“%(task)s”的办理期限") % {"task": task.title}
        return str(Case._meta.get_field(field).verbose_name)


def _moved_note(old: date, new: date) -> str:
    """The move in any language, carried by the notice to the people the deadline binds."""
    return f"{old.isoformat()} → {new.isoformat()}"


def _event_data(field: str, old: date, new: date, year: int, task: Task | None = None) -> dict:
    data = {"field": field, "from": old.isoformat(), "to": new.isoformat(), "year": year}
    if task is not None:
        data["task"] = task.title
    data["deadline"] = _label(field, task)
    return data


@dataclass
class _CasePlan:
    task_ids: list[int]
    deadline: bool  # the case's own live deadline moves


def _plan(year: int, recount: Recount, confirmed: bool) -> dict[int, _CasePlan]:
    """The cases with something to change, found in two queries (tasks, cases) whatever their number."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    plans: dict[int, _CasePlan] = defaultdict(lambda: _CasePlan([], False))
    task_basis = Q(due_counted_from__isnull=False, due_working_days__isnull=False)
    # A count touches the year when it ends in or after it and starts in or before it; a date alone, when it is in it.
    tasks = Task.objects.filter(status__in=OPEN_TASK_STATES, due_on__gte=first).filter(
        Q(task_basis, due_counted_from__lte=last) | (~task_basis & Q(due_on__lte=last))
    )
    fields = ("pk", "case_id", "due_on", "due_counted_from", "due_working_days", "due_is_provisional")
    for pk, case_id, due_on, counted_from, working_days, provisional in tasks.values_list(*fields).iterator():
        new = recount.due(due_on, counted_from, working_days)
        if (confirmed and new.date != due_on) or new.used_fallback != provisional:
            plans[case_id].task_ids.append(pk)
    if not confirmed:
        return plans
    live = (
        Q(status=CS.SUBMITTED, accept_due_on__gte=first)
        | Q(status=CS.RESOLVED, verdict_due_on__gte=first)
        | Q(status=CS.IN_PROGRESS, redo_due_on__gte=first)
    )
    fields = ("pk", "status", *LIVE_DEADLINE.values(), "deadline_counted_from", "deadline_working_days")
    for pk, status, *dates, counted_from, working_days in Case.objects.filter(live).values_list(*fields).iterator():
        due_on = dict(zip(LIVE_DEADLINE.values(), dates, strict=True))[LIVE_DEADLINE[status]]
        has_basis = counted_from is not None and working_days is not None
        if (counted_from > last) if has_basis else (due_on > last):
            continue
        if recount.due(due_on, counted_from, working_days).date != due_on:
            plans[pk].deadline = True
    return plans


def _reschedule_case(case_id: int, plan: _CasePlan, *, year: int, recount: Recount, confirmed: bool) -> tuple[int, int]:
    """Count the case's planned deadlines again under its lock (the rows may have changed since the plan); write
    each that moved with its event. Returns (deadlines moved, flags changed)."""
    moved = flagged = 0
    with transaction.atomic():
        # Locked as services.locking locks a case (the same order as every write: the case, then its tasks).
        case = (
            Case.objects.select_for_update(of=("self",))
            .select_related("concierge", "enterprise__concierge")
            .filter(pk=case_id)
            .first()
        )
        if case is None:
            return 0, 0
        now = timezone.now()
        tasks = []
        if plan.task_ids:
            tasks = list(
                Task.objects.select_for_update(of=("self",))
                .filter(case_id=case_id, pk__in=plan.task_ids, status__in=OPEN_TASK_STATES)
                .select_related("assignee", "task_force__lead")
                .prefetch_related("task_force__members")
                .order_by("pk")
            )
        reflag: dict[bool, list[int]] = {True: [], False: []}
        for task in tasks:
            new = recount.due(task.due_on, task.due_counted_from, task.due_working_days)
            if confirmed and new.date != task.due_on:
                old = task.due_on
                task.due_on, task.due_is_provisional = new.date, new.used_fallback
                task.version += 1
                task.updated_at = now
                task.save(update_fields=["due_on", "due_is_provisional", "version", "updated_at"])
                record_event(
                    case=case,
                    kind=CaseEvent.Kind.DEADLINE_RESCHEDULED,
                    actor=None,
                    task=task,
                    note=_moved_note(old, new.date),
                    data=_event_data("due_on", old, new.date, year, task),
                    at=now,
                )
                moved += 1
            elif new.used_fallback != task.due_is_provisional:
                # The date stands: nothing anyone acts on changed, so the version (an open form's) is left alone.
                reflag[new.used_fallback].append(task.pk)
        for provisional, pks in reflag.items():
            if pks:
                flagged += Task.objects.filter(pk__in=pks).update(due_is_provisional=provisional)
        field = LIVE_DEADLINE.get(case.status)
        old = getattr(case, field) if plan.deadline and field else None
        if old is not None:
            new = recount.due(old, case.deadline_counted_from, case.deadline_working_days)
            if new.date != old:
                Case.objects.filter(pk=case.pk).update(**{field: new.date})
                setattr(case, field, new.date)
                record_event(
                    case=case,
                    kind=CaseEvent.Kind.DEADLINE_RESCHEDULED,
                    actor=None,
                    note=_moved_note(old, new.date),
                    data=_event_data(field, old, new.date, year),
                    at=now,
                )
                moved += 1
    return moved, flagged


def reschedule_year(*, year: int, today: date | None = None) -> RescheduleResult:
    """Count every open deadline that touches `year` again under the calendar as it now stands (see the module's
    docstring): one calendar load and two queries to find what changes, then one short transaction per case that
    has something to change. Safe to run twice, or at once with a second run: what is already right is left alone.

    A confirmation calls it (`mark_year_complete`, once committed), and so may `manage.py reschedule_deadlines`. For
    a year whose schedule is not known — reopened by deleting its HolidayYear, which calls nothing — it moves no
    deadline and only sets the provisional flags.
    """
    today = today or timezone.localdate()
    calendar = WorkingCalendar.load()
    confirmed = calendar.year_is_known(year)  # confirmed by an administrator, or in the library
    recount = Recount(calendar, today)
    plans = _plan(year, recount, confirmed)
    cases = moved = flagged = 0
    for case_id in sorted(plans):
        case_moved, case_flagged = _reschedule_case(
            case_id, plans[case_id], year=year, recount=recount, confirmed=confirmed
        )
        cases += bool(case_moved or case_flagged)
        moved += case_moved
        flagged += case_flagged
    logger.info(
        "deadlines counted again for %s (%s): %d moved, %d flags changed, in %d cases",
        year,
        "known" if confirmed else "not known",
        moved,
        flagged,
        cases,
    )
    return RescheduleResult(year=year, cases=cases, moved=moved, flagged=flagged)


def queue(year: int) -> None:
    """Hand the recount of `year` to the worker; call it once the confirmation has committed. If the broker cannot
    be reached the error is logged, and `reschedule_year` may be run again by hand (it is safe to repeat)."""
    from tracker.tasks import reschedule_deadlines  # the task module imports this one

    try:
        reschedule_deadlines.delay(year)
    except Exception:  # the broker is down: the confirmation stands, the recount waits for a rerun
        logger.error("the deadlines of %s were not queued for counting again; run reschedule_year", year, exc_info=True)
