"""The task state machine (services/states.py TASK_MOVES) and decomposition (services/cases/tasks.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from services.cases import invariants as audit
from services.cases import steps as case_services
from services.cases import tasks as task_services
from services.cases.tasks import TaskSpec
from services.errors import IllegalTransition, InvalidInput, NotFound, StaleVersion
from services.states import TASK_MOVES, task_actions_allowed
from services.time import calendar
from tests.factories import TASK_ACTORS, UserFactory, case_at, events_since, run_task_action, snapshot, task_at
from tracker.models import Case, CaseEvent, Task

CS = Case.Status
TS = Task.Status
Kind = CaseEvent.Kind

LEGAL = sorted((status, action) for action, move in TASK_MOVES.items() for status in move.sources)
ILLEGAL = sorted(
    (status, action) for status in TS.values for action, move in TASK_MOVES.items() if status not in move.sources
)


def _ids(pairs):
    return [f"{action}-from-{status}" for status, action in pairs]


@pytest.mark.parametrize(("status", "action"), LEGAL, ids=_ids(LEGAL))
def test_every_legal_task_transition_moves_the_task_and_writes_one_event(zone, status, action):
    # Given a task at `status` on a case in progress
    task = task_at(zone, status)
    before = snapshot(task.case)

    # When the person the role table gives the action to performs it
    run_task_action(zone, action, task)

    # Then the task is at the move's target, one version on, with one event on the case's timeline
    move = TASK_MOVES[action]
    moved = Task.objects.get(pk=task.pk)
    assert moved.status == move.target and moved.version == task.version + 1
    assert [(e.kind, e.task_id, e.from_status, e.to_status, e.actor) for e in events_since(task.case, before)] == [
        (move.event, task.pk, status, move.target, getattr(zone, TASK_ACTORS[action]))
    ]
    assert snapshot(task.case).version == before.version + 1
    assert audit.violations([task.case]) == []


@pytest.mark.parametrize(("status", "action"), ILLEGAL, ids=_ids(ILLEGAL))
def test_every_illegal_task_transition_is_refused_and_changes_nothing(zone, status, action):
    # Given a task at `status`, where the state machine does not allow `action`
    task = task_at(zone, status)
    before = snapshot(task.case)

    # When the person the role table gives the action to tries it anyway
    with pytest.raises(IllegalTransition) as refused:
        run_task_action(zone, action, task)

    # Then it is refused naming the task's state and the moves it does allow, and nothing changed
    assert refused.value.current == status
    assert refused.value.allowed == sorted(task_actions_allowed(status))
    assert snapshot(task.case) == before


@pytest.mark.parametrize(
    ("status", "call", "field"),
    [
        (TS.IN_PROGRESS, lambda z, t: task_services.complete_task(actor=z.member, task=t, result=" "), "result"),
        (TS.PENDING, lambda z, t: task_services.return_task(actor=z.member, task=t, reason=""), "reason"),
        (TS.IN_PROGRESS, lambda z, t: task_services.return_task(actor=z.member, task=t, reason=None), "reason"),
        (TS.RETURNED, lambda z, t: task_services.redispatch_task(actor=z.concierge, task=t), "task_force"),
        (TS.DONE, lambda z, t: task_services.reopen_task(actor=z.concierge, task=t, note=""), "note"),
        (TS.PENDING, lambda z, t: task_services.cancel_task(actor=z.concierge, task=t, reason=""), "reason"),
    ],
    ids=["complete-without-result", "return-without-reason", "return-started-without-reason",
         "redispatch-without-unit", "reopen-without-note", "cancel-without-reason"],
)  # fmt: skip
def test_a_task_step_missing_what_it_requires_names_the_field_and_changes_nothing(zone, status, call, field):
    # Given a task at a status where the step is allowed
    task = task_at(zone, status)
    before = snapshot(task.case)
    # When the step is taken without what it requires
    with pytest.raises(InvalidInput) as refused:
        call(zone, task)
    # Then that field is named and nothing changed
    assert field in refused.value.fields
    assert snapshot(task.case) == before


def test_completing_a_task_keeps_its_result(zone):
    # Given a task in progress
    task = task_at(zone, TS.IN_PROGRESS)
    # When the unit completes it with a result
    task_services.complete_task(actor=zone.member, task=task, result="  规划许可已批复  ")
    # Then the result is what the concierge reads, and the completion time is set
    task.refresh_from_db()
    assert task.result == "规划许可已批复" and task.completed_at is not None


def test_a_returned_task_is_redispatched_to_another_unit_with_a_fresh_deadline(zone):
    # Given a task the task force returned
    task = task_at(zone, TS.RETURNED)
    assert task.events.filter(kind=Kind.TASK_RETURNED, note="不属于本单位职责").exists()

    # When the concierge gives it to a department instead
    task_services.redispatch_task(actor=zone.concierge, task=task, department=zone.other_department)

    # Then it is pending at that department, due in the category's working days from today
    task.refresh_from_db()
    assert task.status == TS.PENDING
    assert (task.task_force, task.department) == (None, zone.other_department)
    expected = calendar.add_working_days(timezone.localdate(), zone.category.task_days)
    assert (task.due_on, task.due_is_provisional) == (expected.date, expected.used_fallback)
    # And the old unit no longer sees it while the new one may work it
    with pytest.raises(NotFound):
        task_services.start_task(actor=zone.member, task=task)
    task_services.start_task(actor=zone.other_officer, task=task)


def test_a_done_task_cannot_be_reopened_once_the_case_is_resolved(zone):
    # Given a resolved case whose task is done
    case = case_at(zone, CS.RESOLVED)
    task = case.tasks.get()
    before = snapshot(case)
    # When the concierge tries to reopen the task without the enterprise reopening the case
    with pytest.raises(IllegalTransition) as refused:
        task_services.reopen_task(actor=zone.concierge, task=task, note="再核实一下")
    # Then it is refused because of the case's state, and nothing changed
    assert refused.value.current == CS.RESOLVED
    assert snapshot(case) == before


def test_a_reopened_task_gets_a_new_deadline_and_forgets_its_old_progress(zone):
    # Given a case the enterprise reopened, with its task done
    case = case_at(zone, CS.RESOLVED)
    case_services.reopen_case(actor=zone.enterprise_user, case=case, reason="证书未送达")
    task = case.tasks.get()
    due_on = timezone.localdate() + timedelta(days=20)
    # When the concierge reopens the task with an explicit deadline
    task_services.reopen_task(actor=zone.concierge, task=task, note="请送达证书", due_on=due_on)
    # Then the unit has it again as new, due on that date
    task.refresh_from_db()
    assert (task.status, task.due_on, task.started_at, task.completed_at) == (TS.PENDING, due_on, None, None)


def test_a_task_step_with_a_stale_version_is_refused(zone):
    # Given a task the unit has read at version 1, then started from another screen
    task = task_at(zone, TS.PENDING)
    read_version = task.version
    task_services.start_task(actor=zone.member, task=task)
    before = snapshot(task.case)
    # When the unit submits a completion based on what it read
    with pytest.raises(StaleVersion) as refused:
        task_services.complete_task(actor=zone.member, task=task, result="已办结", expected_version=read_version)
    # Then it is told the task changed, and nothing changed
    assert refused.value.http_status == 409 and refused.value.current_version == read_version + 1
    assert snapshot(task.case) == before


# Decomposition


def test_decompose_requires_at_least_one_task(zone):
    # Given an accepted case
    case = case_at(zone, CS.ACCEPTED)
    before = snapshot(case)
    # When the concierge decomposes it into nothing
    with pytest.raises(InvalidInput) as refused:
        task_services.decompose_case(actor=zone.concierge, case=case, tasks=[])
    # Then the tasks field is named and the case is still only accepted
    assert set(refused.value.fields) == {"tasks"}
    assert snapshot(case) == before


def test_decompose_names_every_bad_field_by_its_task_and_writes_nothing(zone):
    # Given an accepted case
    case = case_at(zone, CS.ACCEPTED)
    before = snapshot(case)
    # When the concierge gives one task without a title and another without a unit
    with pytest.raises(InvalidInput) as refused:
        task_services.decompose_case(
            actor=zone.concierge,
            case=case,
            tasks=[TaskSpec(title="", task_force=zone.task_force), TaskSpec(title="核实用电容量")],
        )
    # Then both fields are named at once, by task, and nothing was written
    assert set(refused.value.fields) == {"tasks[0].title", "tasks[1].task_force"}
    assert snapshot(case) == before


def test_decompose_defaults_each_due_date_to_the_category_working_days(zone):
    # Given an accepted case in a category with 10 working days for tasks
    case = case_at(zone, CS.ACCEPTED)
    # When the concierge gives a task without a due date
    (task,) = task_services.decompose_case(
        actor=zone.concierge, case=case, tasks=[TaskSpec(title="落实用地指标", task_force=zone.task_force)]
    )
    # Then it is due 10 working days from today, and the case is in progress
    expected = calendar.add_working_days(timezone.localdate(), zone.category.task_days)
    assert (task.due_on, task.due_is_provisional) == (expected.date, expected.used_fallback)
    assert task.status == TS.PENDING and task.created_by == zone.concierge
    assert Case.objects.get(pk=case.pk).status == CS.IN_PROGRESS


def test_decompose_keeps_an_explicit_due_date_from_today_on(zone):
    # Given an accepted case
    case = case_at(zone, CS.ACCEPTED)
    today = timezone.localdate()
    # When the concierge gives one task due today and another due in a month
    due_today, due_later = task_services.decompose_case(
        actor=zone.concierge,
        case=case,
        tasks=[
            TaskSpec(title="今日核实", task_force=zone.task_force, due_on=today),
            TaskSpec(title="月内办结", department=zone.department, due_on=today + timedelta(days=30)),
        ],
    )
    # Then both dates are kept as given (moved to the next working day where one falls on a rest day)
    days = calendar.WorkingCalendar.load()
    expected = (days.next_working_day(today), days.next_working_day(today + timedelta(days=30)))
    assert (due_today.due_on, due_later.due_on) == expected


def test_decompose_refuses_a_due_date_in_the_past(zone):
    # Given an accepted case
    case = case_at(zone, CS.ACCEPTED)
    before = snapshot(case)
    # When the concierge gives a task due yesterday
    with pytest.raises(InvalidInput) as refused:
        task_services.decompose_case(
            actor=zone.concierge,
            case=case,
            tasks=[
                TaskSpec(title="落实用地指标", task_force=zone.task_force, due_on=timezone.localdate() - timedelta(1))
            ],
        )
    # Then the due date is named and nothing was written
    assert set(refused.value.fields) == {"tasks[0].due_on"}
    assert snapshot(case) == before


@pytest.mark.parametrize("assignee", ["other_officer", "concierge", "enterprise_user"])
def test_decompose_refuses_an_assignee_outside_the_unit(zone, assignee):
    # Given an accepted case
    case = case_at(zone, CS.ACCEPTED)
    before = snapshot(case)
    # When the concierge names as assignee someone who is not in the department
    with pytest.raises(InvalidInput) as refused:
        task_services.decompose_case(
            actor=zone.concierge,
            case=case,
            tasks=[TaskSpec(title="落实用地指标", department=zone.department, assignee=getattr(zone, assignee))],
        )
    # Then the assignee is named and nothing was written
    assert set(refused.value.fields) == {"tasks[0].assignee"}
    assert snapshot(case) == before


@pytest.mark.parametrize(
    ("unit", "assignee"),
    [("department", "officer"), ("task_force", "officer"), ("task_force", "member")],
)
def test_decompose_accepts_an_assignee_from_the_unit(zone, unit, assignee):
    # Given an accepted case
    case = case_at(zone, CS.ACCEPTED)
    # When the concierge names an officer of the department, or of the task force's lead department, or a member
    (task,) = task_services.decompose_case(
        actor=zone.concierge,
        case=case,
        tasks=[TaskSpec(title="落实用地指标", assignee=getattr(zone, assignee), **{unit: getattr(zone, unit)})],
    )
    # Then the task is given to that person, who may start it
    assert task.assignee == getattr(zone, assignee)
    task_services.start_task(actor=getattr(zone, assignee), task=task)


def test_decompose_refuses_an_inactive_assignee(zone):
    # Given an accepted case and an officer of the department who has left
    case = case_at(zone, CS.ACCEPTED)
    gone = UserFactory(department=zone.department, is_active=False)
    # When the concierge names them
    with pytest.raises(InvalidInput) as refused:
        task_services.decompose_case(
            actor=zone.concierge,
            case=case,
            tasks=[TaskSpec(title="落实用地指标", department=zone.department, assignee=gone)],
        )
    # Then the assignee is named
    assert set(refused.value.fields) == {"tasks[0].assignee"}
