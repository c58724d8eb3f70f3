"""Deadlines that do not slip: which reminders are due, to whom, and writing each exactly once.

docs/states-and-roles.md. Every item has a deadline in working days: a case's acceptance (`accept_due_on`), each task's
`due_on`, the enterprise's verdict (`verdict_due_on`), a case sent back (`redo_due_on`). The sweep (a Celery beat
task every few minutes) finds what is due and writes one `Reminder` per item, kind and deadline — the reminder
log's unique key makes a second sweep, an overlapping beat or a redelivered message write nothing — with the in-app
notices and the pushes (email, WeCom) it calls for, all in one transaction. An approved extension moves `due_on`,
so the new deadline's reminders are due again.

The escalation thresholds are the case's category's (an administrator sets them per category; empty means the
zone's default, REMINDER_YELLOW_AFTER_DAYS, REMINDER_RED_AFTER_DAYS, REMINDER_ACCEPT_ESCALATE_AFTER_DAYS; see
services.register.reference). A change applies from the next sweep. With N, M and E the category's yellow, red and
escalation thresholds, in working days:
- a task due on the next working day → its assignee (or its unit); due today → the same;
- a task overdue → the assignee and the task force's lead; overdue by N → the department head (黄牌督办);
  by M → the linked leader of the enterprise or project (红牌督办);
- a case not accepted in time → its concierge and backup; overdue by E → the linked leader;
- a verdict due today → the enterprise's users; not given in time → the concierge, to call back (回访);
- a case sent back (重办) and not taken up by `redo_due_on` (no task reopened or added, no new answer) → its
  concierge and backup; overdue by E → the linked leader.
A case that is paused (挂起, `clock_paused_at` set: waiting for information asked of the enterprise) has no
reminder at all while it is: its clocks stand still, and its deadlines move when it resumes.
Who each of these people is (the case's concierge, the backup, a task's workers, the unit head, the linked leader)
is decided in `services.delivery.recipients`.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from services.delivery import pushes, recipients
from services.register.reference import category_thresholds, default_thresholds
from services.states import WORKING_TASK_STATES
from services.time.calendar import WorkingCalendar
from services.time.deadlines import clock_running_q
from tracker.models import Case, Notification, Reminder, Task, User

Kind = Reminder.Kind
CS = Case.Status


@dataclass(frozen=True)
class Due:
    kind: str
    case_id: int
    task_id: int | None
    deadline: date

    @property
    def item_key(self) -> str:
        return f"task:{self.task_id}" if self.task_id else f"case:{self.case_id}"


def working_days_ago(today: date, days: int, calendar: WorkingCalendar) -> date:
    """The latest date with at least `days` working days after it up to `today` (inclusive): a deadline on or
    before it is overdue by `days` working days or more."""
    day, counted = today, 0
    while counted < days:
        if calendar.is_working_day(day):
            counted += 1
        day -= timedelta(days=1)
    return day


@dataclass(frozen=True)
class Cutoffs:
    """The latest deadlines that have escalated on a day: a deadline on or before `yellow` is overdue by the
    yellow threshold or more; `red`, by the red one; `accept_escalate`, by the acceptance (and redo) one."""

    yellow: date
    red: date
    accept_escalate: date


@dataclass(frozen=True)
class EscalationDates:
    """Each category's cut-off dates on one day, from its own thresholds (services.register.reference); `default` for a
    category that sets none, or one created since they were read."""

    by_category: dict[int, Cutoffs]
    default: Cutoffs

    @classmethod
    def on(cls, today: date, calendar: WorkingCalendar | None = None) -> "EscalationDates":
        """One query for the thresholds (and two for the calendar when none is given), whatever the categories."""
        calendar = calendar or WorkingCalendar.load(since=today - timedelta(days=400))
        ago: dict[int, date] = {}  # categories mostly share their thresholds: count each number of days once

        def cutoffs(yellow: int, red: int, accept_escalate: int) -> Cutoffs:
            for days in (yellow, red, accept_escalate):
                if days not in ago:
                    ago[days] = working_days_ago(today, days, calendar)
            return Cutoffs(ago[yellow], ago[red], ago[accept_escalate])

        default = default_thresholds()
        return cls(
            by_category={pk: cutoffs(t.yellow, t.red, t.accept_escalate) for pk, t in category_thresholds().items()},
            default=cutoffs(default.yellow, default.red, default.accept_escalate),
        )

    def of(self, category_id: int) -> Cutoffs:
        return self.by_category.get(category_id, self.default)


def due_reminders(now: datetime | None = None, calendar: WorkingCalendar | None = None) -> list[Due]:
    """Every reminder the rules call for at `now`, sent or not (the reminder log tells). A fixed number of queries."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    calendar = calendar or WorkingCalendar.load(since=today - timedelta(days=400))
    escalation = EscalationDates.on(today, calendar)
    due: list[Due] = []

    # A paused case's clocks stand still: neither it nor its tasks are due anything while it is paused.
    cases = Case.objects.filter(clock_running_q())
    tasks = Task.objects.filter(clock_running_q("case__"), status__in=WORKING_TASK_STATES, case__status=CS.IN_PROGRESS)
    # On a working day, what falls due on the next one (on a rest day the "today" reminder comes in time).
    if calendar.is_working_day(today):
        next_day = calendar.add_working_days(today, 1).date
        for pk, case_id, due_on in tasks.filter(due_on=next_day).values_list("pk", "case_id", "due_on"):
            due.append(Due(Kind.TASK_DUE_TOMORROW, case_id, pk, due_on))
    for pk, case_id, due_on in tasks.filter(due_on=today).values_list("pk", "case_id", "due_on"):
        due.append(Due(Kind.TASK_DUE_TODAY, case_id, pk, due_on))
    overdue = tasks.filter(due_on__lt=today).values_list("pk", "case_id", "due_on", "case__category_id")
    for pk, case_id, due_on, category_id in overdue:
        cutoffs = escalation.of(category_id)
        due.append(Due(Kind.TASK_OVERDUE, case_id, pk, due_on))
        if due_on <= cutoffs.yellow:
            due.append(Due(Kind.TASK_YELLOW, case_id, pk, due_on))
        if due_on <= cutoffs.red:
            due.append(Due(Kind.TASK_RED, case_id, pk, due_on))

    late = cases.filter(status=CS.SUBMITTED, accept_due_on__lt=today)
    for pk, accept_due_on, category_id in late.values_list("pk", "accept_due_on", "category_id"):
        due.append(Due(Kind.ACCEPT_OVERDUE, pk, None, accept_due_on))
        if accept_due_on <= escalation.of(category_id).accept_escalate:
            due.append(Due(Kind.ACCEPT_ESCALATED, pk, None, accept_due_on))

    redo_late = cases.filter(status=CS.IN_PROGRESS, redo_due_on__lt=today)
    for pk, redo_due_on, category_id in redo_late.values_list("pk", "redo_due_on", "category_id"):
        due.append(Due(Kind.REDO_OVERDUE, pk, None, redo_due_on))
        if redo_due_on <= escalation.of(category_id).accept_escalate:
            due.append(Due(Kind.REDO_ESCALATED, pk, None, redo_due_on))

    resolved = cases.filter(status=CS.RESOLVED, verdict_due_on__lte=today)
    for pk, verdict_due_on in resolved.values_list("pk", "verdict_due_on"):
        kind = Kind.VERDICT_DUE if verdict_due_on == today else Kind.CALLBACK_DUE
        due.append(Due(kind, pk, None, verdict_due_on))
    return due


# Who hears of it -----------------------------------------------------------------------------------------------


class Recipients:
    """Loads, for a batch of reminders, everyone they go to — a fixed number of queries for the batch."""

    def __init__(self, reminders: list[Reminder]):
        task_ids = {r.task_id for r in reminders if r.task_id}
        case_ids = {r.case_id for r in reminders}
        self.tasks = (
            Task.objects.select_related(*recipients.TASK_RELATED)
            .prefetch_related(*recipients.TASK_PREFETCH)
            .in_bulk(task_ids)
        )
        self.cases = Case.objects.select_related(*recipients.CASE_RELATED).in_bulk(case_ids)
        officer_departments = {t.department_id for t in self.tasks.values() if t.department_id and not t.assignee_id}
        self.officers = recipients.department_officers(officer_departments)
        enterprise_ids = {self.cases[r.case_id].enterprise_id for r in reminders if r.kind == Kind.VERDICT_DUE}
        self.enterprise_users: dict[int, list[User]] = {}
        for user in recipients.enterprise_users(enterprise_ids):
            self.enterprise_users.setdefault(user.enterprise_id, []).append(user)

    def task_workers(self, task: Task) -> list[User]:
        return recipients.task_workers(task, self.officers.get(task.department_id, []))

    def of(self, reminder: Reminder) -> list[User]:
        case = self.cases[reminder.case_id]
        task = self.tasks.get(reminder.task_id) if reminder.task_id else None
        people: list[User | None]
        if reminder.kind in (Kind.TASK_DUE_TOMORROW, Kind.TASK_DUE_TODAY):
            people = self.task_workers(task)
        elif reminder.kind == Kind.TASK_OVERDUE:
            people = [*self.task_workers(task), task.task_force.lead if task.task_force_id else None]
        elif reminder.kind == Kind.TASK_YELLOW:
            people = [recipients.unit_head(task)]
        elif reminder.kind in (Kind.TASK_RED, Kind.ACCEPT_ESCALATED, Kind.REDO_ESCALATED):
            people = [recipients.linked_leader(case)]
        elif reminder.kind in (Kind.ACCEPT_OVERDUE, Kind.REDO_OVERDUE):
            people = [recipients.concierge(case), recipients.backup_concierge(case)]
        elif reminder.kind == Kind.VERDICT_DUE:
            people = self.enterprise_users.get(case.enterprise_id, [])
        else:  # CALLBACK_DUE
            people = [recipients.concierge(case)]
        unique = {}
        for person in people:
            if person is not None and person.is_active:
                unique.setdefault(person.pk, person)
        return list(unique.values())


# The sweep -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    due: int
    reminders: int
    notices: int
    pushes: int


def sweep(now: datetime | None = None) -> SweepResult:
    """Write every due reminder not yet in the reminder log, with its notices and pushes, in one transaction.

    Safe to run twice at once: the second waits on the reminder log's unique key and writes nothing the first wrote.
    """
    now = now or timezone.now()
    # In the reminder log key's order: two sweeps at once then take the key locks in the same order (one waits for the
    # other) instead of each holding a row the other needs (a deadlock, the order of a scan being no promise).
    due = sorted(due_reminders(now), key=lambda d: (d.item_key, d.kind, d.deadline))
    token = uuid.uuid4()
    with transaction.atomic():
        Reminder.objects.bulk_create(
            [
                Reminder(
                    kind=d.kind,
                    item_key=d.item_key,
                    deadline=d.deadline,
                    case_id=d.case_id,
                    task_id=d.task_id,
                    sweep_id=token,
                    created_at=now,
                )
                for d in due
            ],
            ignore_conflicts=True,
            batch_size=1000,
        )
        written = list(Reminder.objects.filter(sweep_id=token).order_by("id"))
        if not written:
            return SweepResult(len(due), 0, 0, 0)
        addressees = Recipients(written)
        notices = [
            Notification(
                recipient=person,
                kind=reminder.kind,
                case_id=reminder.case_id,
                task_id=reminder.task_id,
                reminder=reminder,
                created_at=now,
            )
            for reminder in written
            for person in addressees.of(reminder)
        ]
        Notification.objects.bulk_create(notices, batch_size=1000)
        # The pushes render each notice with its case, task and deadline: attach what is loaded already.
        for notice in notices:
            notice.case = addressees.cases[notice.case_id]
            notice.task = addressees.tasks.get(notice.task_id) if notice.task_id else None
        written_pushes = pushes.pushes_for_notices(notices, now=now)
    return SweepResult(len(due), len(written), len(notices), len(written_pushes))
