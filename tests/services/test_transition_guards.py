"""Guards in the state machine (services/states.py): a step its state allows may still be refused now — resolve while
a task is open (`tasks_open`), resume a clock that runs (`not_paused`). The steps offered leave it out, and taking
it is refused with the guard's code and data."""

import pytest

from services.cases import steps as case_services
from services.cases import tasks as task_services
from services.cases.tasks import TaskSpec
from services.errors import IllegalTransition
from services.permissions import case_actions_for, case_actions_held_back
from services.states import annotate_open_task_count, case_actions_allowed, legal_move
from tests.factories import case_at, run_task_action, snapshot
from tracker.models import Case, Task

pytestmark = pytest.mark.django_db
CS = Case.Status


def _with_a_second_open_task(zone) -> tuple[Case, Task, Task]:
    """An in-progress case with its first task done and a second one still pending."""
    case = case_at(zone, CS.IN_PROGRESS)
    first = case.tasks.get()
    run_task_action(zone, "start", first)
    run_task_action(zone, "complete", first)
    (second,) = task_services.decompose_case(
        actor=zone.concierge, case=case, tasks=[TaskSpec(title="协调供电接入", task_force=zone.task_force)]
    )
    return Case.objects.get(pk=case.pk), first, second


def test_the_steps_offered_leave_out_resolve_while_a_task_is_open(zone):
    # Given an in-progress case with one task done and one open
    case, _done, _open = _with_a_second_open_task(zone)
    # When the concierge's steps are listed, Then resolve is not among them, though the state alone allows it
    assert "resolve" in case_actions_allowed(case.status)
    assert "resolve" not in case_actions_allowed(case.status, case)
    assert "resolve" not in case_actions_for(zone.concierge, case)
    # And the page can say why: the guard's code, its message naming the open task, and its id
    refusal = case_actions_held_back(zone.concierge, case)["resolve"]
    assert refusal.code == "tasks_open" and "协调供电接入" in refusal.message
    # And the enterprise, which could not resolve anyway, is told nothing about it
    assert "resolve" not in case_actions_held_back(zone.enterprise_user, case)


@pytest.mark.parametrize("last_task_ends", ["complete", "cancel"])
def test_resolve_is_offered_again_once_every_task_is_done_or_cancelled(zone, last_task_ends):
    # Given the open task ends, done or cancelled
    case, _done, second = _with_a_second_open_task(zone)
    if last_task_ends == "complete":
        run_task_action(zone, "start", second)
    run_task_action(zone, last_task_ends, second)
    case = Case.objects.get(pk=case.pk)
    # Then resolve is offered, with nothing held back, and taking it moves the case
    assert "resolve" in case_actions_for(zone.concierge, case)
    assert case_actions_held_back(zone.concierge, case) == {}
    case_services.resolve_case(actor=zone.concierge, case=case, answer="已全部办结")
    assert Case.objects.get(pk=case.pk).status == CS.RESOLVED


def test_taking_resolve_while_a_task_is_open_is_refused_with_the_code_and_the_open_tasks(zone):
    # Given a case with two open tasks (one just added) and one done
    case, done, second = _with_a_second_open_task(zone)
    (third,) = task_services.decompose_case(
        actor=zone.concierge, case=case, tasks=[TaskSpec(title="核实环评批复", department=zone.other_department)]
    )
    before = snapshot(case)
    # When the concierge answers anyway
    with pytest.raises(IllegalTransition) as refused:
        case_services.resolve_case(actor=zone.concierge, case=case, answer="已全部办结")
    # Then it is refused with the guard's code, listing the open tasks' ids (not the done one), and nothing changed
    error = refused.value
    assert error.code == "tasks_open" and error.http_status == 409
    assert error.data == {"open_tasks": [second.pk, third.pk]} and done.pk not in error.data["open_tasks"]
    assert error.current == CS.IN_PROGRESS and "resolve" not in error.allowed
    assert "协调供电接入" in error.message and "核实环评批复" in error.message
    assert error.as_dict()["data"] == {"open_tasks": [second.pk, third.pk]}
    assert snapshot(case) == before


def test_legal_move_applies_the_guard_and_a_wrong_state_keeps_the_plain_code(zone):
    case, _done, _open = _with_a_second_open_task(zone)
    with pytest.raises(IllegalTransition) as guarded:
        legal_move(case, "resolve")
    assert guarded.value.code == "tasks_open"
    # A step the state does not allow at all stays a plain illegal transition, with no data
    submitted = case_at(zone, CS.SUBMITTED)
    with pytest.raises(IllegalTransition) as plain:
        legal_move(submitted, "resolve")
    assert plain.value.code == "illegal_transition" and plain.value.data == {}
    assert plain.value.allowed == sorted(case_actions_allowed(CS.SUBMITTED))


def test_an_unsaved_case_has_no_stored_tasks_to_guard(zone):
    # The seed generator walks cases in memory through the table: the guard reads nothing for them
    case = Case(status=CS.IN_PROGRESS)
    assert legal_move(case, "resolve").target == CS.RESOLVED


def test_a_list_reads_the_guard_from_its_annotation_without_a_query_per_row(zone, django_assert_num_queries):
    # Given one case with an open task and one whose tasks are all done
    blocked, _done, _open = _with_a_second_open_task(zone)
    free = case_at(zone, CS.IN_PROGRESS)
    task = free.tasks.get()
    run_task_action(zone, "start", task)
    run_task_action(zone, "complete", task)
    case_actions_for(zone.leader, free)  # the leader's roles, read once per person
    # When a list is read with the open-task count annotated
    with django_assert_num_queries(1):
        rows = {
            case.pk: case_actions_for(zone.leader, case)
            for case in annotate_open_task_count(Case.objects.filter(pk__in=[blocked.pk, free.pk]))
        }
    # Then each row's actions follow its own tasks, in the list's one query
    assert "resolve" not in rows[blocked.pk] and "resolve" in rows[free.pk]


def test_resume_clock_is_offered_only_while_paused_and_refused_as_not_paused(zone):
    # Given an accepted case whose clocks run
    case = case_at(zone, CS.ACCEPTED)
    assert "resume_clock" not in case_actions_for(zone.concierge, case)
    # And a page does not explain its absence (there is simply nothing to resume)
    assert "resume_clock" not in case_actions_held_back(zone.concierge, case)
    # When the concierge resumes anyway, Then it is refused with its own code
    with pytest.raises(IllegalTransition) as refused:
        case_services.resume_case_clock(actor=zone.concierge, case=case)
    assert refused.value.code == "not_paused" and refused.value.message == "诉求未挂起，无需恢复计时"
    assert "resume_clock" not in refused.value.allowed
    # Once paused, it is offered and taken
    case_services.request_case_info(actor=zone.concierge, case=case, note="请补充用地红线图")
    case = Case.objects.get(pk=case.pk)
    assert "resume_clock" in case_actions_for(zone.concierge, case)
    case_services.resume_case_clock(actor=zone.concierge, case=case, note="企业已电话说明")
    assert Case.objects.get(pk=case.pk).clock_paused_at is None
