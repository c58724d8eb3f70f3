"""Helpers for the service tests: reach a status through the real services, perform any state-machine action
as the person DESIGN.md §4 gives it to, take a snapshot of everything a refused call must leave untouched, and
stop the clock at a moment of the zone's time."""

import threading
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import time_machine
from django.db import close_old_connections, connection
from django.db.models import Max

from services.cases import steps as case_services
from services.cases import tasks as task_services
from services.cases.tasks import TaskSpec
from services.time import calendar
from tests.factories import make_case
from tracker.models import Case, CaseEvent, Task

CS = Case.Status
TS = Task.Status
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: date | str, hour: int = 10, minute: int = 0) -> datetime:
    """A moment of the zone's time (Asia/Shanghai): `at("2026-11-04", 22)` is 22:00 that day."""
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def frozen(moment: datetime):
    """The clock stopped at `moment` for everything inside (services read it through django.utils.timezone)."""
    return time_machine.travel(moment, tick=False)


def after_verdict_window(case: Case):
    """The clock stopped at 10:00 on the first working day after `case`'s verdict window: the enterprise has let
    it pass, so a callback is no longer early."""
    return frozen(at(calendar.add_working_days(case.verdict_due_on, 1).date))


def case_at(zone, status: str, **kwargs) -> Case:
    """A case of `zone.enterprise` walked through the services to `status` (one task to the task force)."""
    return make_case(
        status=status,
        enterprise_user=zone.enterprise_user,
        concierge=zone.concierge,
        category=zone.category,
        unit=zone.task_force,
        worker=zone.member,
        **kwargs,
    )


# Who performs each case action when nobody else is named (DESIGN.md §4).
CASE_ACTORS = {
    "accept": "concierge",
    "decline": "concierge",
    "withdraw": "enterprise_user",
    "decompose": "concierge",
    "resolve": "concierge",
    "confirm": "enterprise_user",
    "reopen": "enterprise_user",
    "callback_confirm": "concierge",
    "callback_reopen": "concierge",
}

_CASE_CALLS = {
    "accept": lambda zone, actor, case: case_services.accept_case(actor=actor, case=case),
    "decline": lambda zone, actor, case: case_services.decline_case(actor=actor, case=case, reason="不属于服务范围"),
    "withdraw": lambda zone, actor, case: case_services.withdraw_case(actor=actor, case=case, reason="问题已自行解决"),
    "decompose": lambda zone, actor, case: task_services.decompose_case(
        actor=actor, case=case, tasks=[TaskSpec(title="核实用地红线", task_force=zone.task_force)]
    ),
    "resolve": lambda zone, actor, case: case_services.resolve_case(
        actor=actor, case=case, answer="规划许可已批复，可领取证书。"
    ),
    "confirm": lambda zone, actor, case: case_services.confirm_case(actor=actor, case=case, rating=5, comment="满意"),
    "reopen": lambda zone, actor, case: case_services.reopen_case(actor=actor, case=case, reason="答复未解决实际问题"),
    # Recorded with whom staff spoke, so that a callback is accepted before the enterprise's window has ended too.
    "callback_confirm": lambda zone, actor, case: case_services.record_callback(
        actor=actor,
        case=case,
        verdict="confirm",
        rating=4,
        comment="电话回访，企业表示满意",
        contact_name="王经理",
        contact_phone="0512-57001234",
    ),
    "callback_reopen": lambda zone, actor, case: case_services.record_callback(
        actor=actor,
        case=case,
        verdict="reopen",
        comment="电话回访，企业认为问题仍未解决",
        contact_name="王经理",
        contact_phone="0512-57001234",
    ),
}


def run_case_action(zone, action: str, case: Case | int, *, actor=None):
    """Perform the case `action` with valid input, as `actor` or else the person the role table expects."""
    return _CASE_CALLS[action](zone, actor or getattr(zone, CASE_ACTORS[action]), case)


TASK_ACTORS = {
    "start": "member",
    "complete": "member",
    "return": "member",
    "redispatch": "concierge",
    "reopen": "concierge",
    "cancel": "concierge",
}

_TASK_CALLS = {
    "start": lambda zone, actor, task: task_services.start_task(actor=actor, task=task),
    "complete": lambda zone, actor, task: task_services.complete_task(actor=actor, task=task, result="已批复"),
    "return": lambda zone, actor, task: task_services.return_task(actor=actor, task=task, reason="不属于本单位职责"),
    "redispatch": lambda zone, actor, task: task_services.redispatch_task(
        actor=actor, task=task, department=zone.department, note="请规划建设局牵头"
    ),
    "reopen": lambda zone, actor, task: task_services.reopen_task(actor=actor, task=task, note="企业不满意，请重办"),
    "cancel": lambda zone, actor, task: task_services.cancel_task(actor=actor, task=task, reason="事项已不需要"),
}


def run_task_action(zone, action: str, task: Task | int, *, actor=None):
    """Perform the task `action` with valid input, as `actor` or else the person the role table expects."""
    return _TASK_CALLS[action](zone, actor or getattr(zone, TASK_ACTORS[action]), task)


# The shortest walk from a freshly given task to each status.
_TASK_WALKS = {
    TS.PENDING: [],
    TS.IN_PROGRESS: ["start"],
    TS.DONE: ["start", "complete"],
    TS.RETURNED: ["return"],
    TS.CANCELLED: ["cancel"],
}


def task_at(zone, status: str) -> Task:
    """The one task of an in-progress case, walked through the services to `status`."""
    case = case_at(zone, CS.IN_PROGRESS)
    task = case.tasks.get()
    for action in _TASK_WALKS[status]:
        run_task_action(zone, action, task)
    return Task.objects.select_related("case").get(pk=task.pk)


@dataclass(frozen=True)
class Snapshot:
    """What a user could notice about a case: its state, version, timeline, tasks, verdicts and files."""

    status: str
    version: int
    events: int
    last_event_id: int
    tasks: tuple
    feedback: int
    attachments: int


def snapshot(case: Case | int) -> Snapshot:
    fresh = Case.objects.get(pk=case.pk if isinstance(case, Case) else case)
    return Snapshot(
        status=fresh.status,
        version=fresh.version,
        events=fresh.events.count(),
        last_event_id=fresh.events.aggregate(last=Max("id"))["last"] or 0,
        tasks=tuple(fresh.tasks.order_by("pk").values_list("pk", "status", "version", "due_on", "task_force_id")),
        feedback=fresh.feedback.count(),
        attachments=fresh.attachments.count(),
    )


def events_since(case: Case, before: Snapshot) -> list[CaseEvent]:
    """The events written to `case` after `before` was taken, oldest first."""
    return list(CaseEvent.objects.filter(case_id=case.pk, pk__gt=before.last_event_id).order_by("id"))


def race(*calls, timeout: float = 30):
    """Run each call in its own thread (own connection), all released at once; return (result or error) each."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=timeout)
            outcomes[index] = call()
        except Exception as error:  # the outcome under test
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"
    close_old_connections()
    return outcomes
