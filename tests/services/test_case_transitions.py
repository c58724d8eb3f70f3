"""The case state machine (services/states.py CASE_MOVES) as the case services drive it."""

import pytest
from django.utils import timezone

from services.cases import invariants as audit
from services.cases import steps as case_services
from services.cases import tasks as task_services
from services.cases.tasks import TaskSpec
from services.errors import IllegalTransition, InvalidInput
from services.states import CASE_MOVES, case_actions_allowed
from services.time import calendar
from tests.factories import (
    CASE_ACTORS,
    after_verdict_window,
    case_at,
    events_since,
    run_case_action,
    run_task_action,
    snapshot,
)
from tracker.models import Case, CaseEvent, Feedback, Task

CS = Case.Status
TS = Task.Status
Kind = CaseEvent.Kind

LEGAL = sorted((status, action) for action, move in CASE_MOVES.items() for status in move.sources)
# Decomposing an in-progress case adds tasks to work under way (after a reopen): not a case transition, and
# tested on its own below.
ILLEGAL = sorted(
    (status, action)
    for status in CS.values
    for action, move in CASE_MOVES.items()
    if status not in move.sources and (status, action) != (CS.IN_PROGRESS, "decompose")
)
# The task events a case transition may bring with it.
TASK_EVENTS_OF = {"decompose": {Kind.TASK_CREATED}, "withdraw": {Kind.TASK_CANCELLED}}


def _ids(pairs):
    return [f"{action}-from-{status}" for status, action in pairs]


@pytest.mark.parametrize(("status", "action"), LEGAL, ids=_ids(LEGAL))
def test_every_legal_case_transition_moves_the_case_and_writes_one_event(zone, status, action):
    # Given a case at `status` (an in-progress one with its task done, so that it may be resolved)
    case = case_at(zone, status)
    if (status, action) == (CS.IN_PROGRESS, "resolve"):
        task = case.tasks.get()
        run_task_action(zone, "start", task)
        run_task_action(zone, "complete", task)
    before = snapshot(case)

    # When the person the role table gives the action to performs it
    run_case_action(zone, action, case)

    # Then the case is at the move's target, with one case event saying who moved it from where to where
    move = CASE_MOVES[action]
    case.refresh_from_db()
    assert case.status == move.target
    new_events = events_since(case, before)
    case_events = [(e.kind, e.from_status, e.to_status, e.actor) for e in new_events if e.task_id is None]
    assert case_events == [(move.event, status, move.target, getattr(zone, CASE_ACTORS[action]))]
    # And any other event belongs to a task the move touched; the version counts every event
    assert {e.kind for e in new_events if e.task_id is not None} <= TASK_EVENTS_OF.get(action, set())
    assert case.version == before.version + len(new_events)
    assert audit.violations([case]) == []


@pytest.mark.parametrize(("status", "action"), ILLEGAL, ids=_ids(ILLEGAL))
def test_every_illegal_case_transition_is_refused_and_changes_nothing(zone, status, action):
    # Given a case at `status`, where the state machine does not allow `action`
    case = case_at(zone, status)
    before = snapshot(case)

    # When the person the role table gives the action to tries it anyway
    with pytest.raises(IllegalTransition) as refused:
        run_case_action(zone, action, case)

    # Then it is refused as a conflict naming the current state and the moves it does allow
    assert refused.value.http_status == 409
    assert refused.value.current == status
    if action != "decompose":  # decompose_case writes its own list; see the xfail test below
        assert refused.value.allowed == sorted(case_actions_allowed(status))
    # And nothing changed: status, version, timeline, tasks, verdicts
    assert snapshot(case) == before


def test_a_refused_decomposition_lists_the_moves_the_case_does_allow(zone):
    # Given a submitted case and a resolved one
    for status in (CS.SUBMITTED, CS.RESOLVED):
        case = case_at(zone, status)
        # When the concierge tries to decompose it
        with pytest.raises(IllegalTransition) as refused:
            run_case_action(zone, "decompose", case)
        # Then the refusal lists what the state machine allows from there, like every other refusal
        assert refused.value.allowed == sorted(case_actions_allowed(status))


def test_decomposing_an_in_progress_case_adds_tasks_without_a_case_transition(zone):
    # Given a case already in progress with one task
    case = case_at(zone, CS.IN_PROGRESS)
    before = snapshot(case)

    # When the concierge gives one more task
    (task,) = task_services.decompose_case(
        actor=zone.concierge, case=case, tasks=[TaskSpec(title="核实用电容量", department=zone.other_department)]
    )

    # Then the case stays in progress and the timeline gains only the task's creation
    case.refresh_from_db()
    assert case.status == CS.IN_PROGRESS and case.tasks.count() == 2
    assert [(e.kind, e.task_id) for e in events_since(case, before)] == [(Kind.TASK_CREATED, task.pk)]
    assert case.version == before.version + 1


@pytest.mark.parametrize("walk", [[], ["start"], ["return"]], ids=["pending", "in_progress", "returned"])
def test_resolve_is_refused_while_any_task_is_open(zone, walk):
    # Given an in-progress case with one finished task and one still open (pending, in progress or returned)
    case = case_at(zone, CS.IN_PROGRESS)
    done = case.tasks.get()
    run_task_action(zone, "start", done)
    run_task_action(zone, "complete", done)
    (open_task,) = task_services.decompose_case(
        actor=zone.concierge, case=case, tasks=[TaskSpec(title="核实用电容量", task_force=zone.task_force)]
    )
    for action in walk:
        run_task_action(zone, action, open_task)
    before = snapshot(case)

    # When the concierge tries to answer the enterprise
    with pytest.raises(IllegalTransition) as refused:
        case_services.resolve_case(actor=zone.concierge, case=case, answer="已全部办结")

    # Then it is refused naming the open task, and nothing changed
    assert refused.value.current == CS.IN_PROGRESS
    assert "核实用电容量" in refused.value.message
    assert snapshot(case) == before


@pytest.mark.parametrize("last_task_ends", ["complete", "cancel"])
def test_resolve_is_allowed_once_every_task_is_done_or_cancelled(zone, last_task_ends):
    # Given an in-progress case whose tasks are each done or cancelled
    case = case_at(zone, CS.IN_PROGRESS)
    first = case.tasks.get()
    run_task_action(zone, "start", first)
    run_task_action(zone, "complete", first)
    (second,) = task_services.decompose_case(
        actor=zone.concierge, case=case, tasks=[TaskSpec(title="核实用电容量", task_force=zone.task_force)]
    )
    if last_task_ends == "complete":
        run_task_action(zone, "start", second)
    run_task_action(zone, last_task_ends, second)

    # When the concierge answers the enterprise
    case_services.resolve_case(actor=zone.concierge, case=case, answer="用地与用电问题均已解决。")

    # Then the case awaits the enterprise's verdict, due in the category's verdict days
    case.refresh_from_db()
    assert case.status == CS.RESOLVED
    assert case.answer == "用地与用电问题均已解决。" and case.resolved_at is not None
    expected = calendar.add_working_days(timezone.localdate(), zone.category.verdict_days).date
    assert case.verdict_due_on == expected
    assert audit.violations([case]) == []


def test_an_accepted_case_can_be_resolved_directly_without_tasks(zone):
    # Given an accepted case that was never decomposed
    case = case_at(zone, CS.ACCEPTED)

    # When the concierge answers it directly
    case_services.resolve_case(actor=zone.concierge, case=case, answer="政策咨询：按新政可申请补贴，已告知流程。")

    # Then it is resolved without any task
    case.refresh_from_db()
    assert case.status == CS.RESOLVED and not case.tasks.exists()
    assert case.events.filter(kind=Kind.RESOLVED, from_status=CS.ACCEPTED).count() == 1


def test_a_resolve_without_an_answer_names_the_field_and_changes_nothing(zone):
    # Given an accepted case
    case = case_at(zone, CS.ACCEPTED)
    before = snapshot(case)
    # When the concierge resolves it with a blank answer
    with pytest.raises(InvalidInput) as refused:
        case_services.resolve_case(actor=zone.concierge, case=case, answer="   ")
    # Then the answer field is named and nothing changed
    assert set(refused.value.fields) == {"answer"}
    assert snapshot(case) == before


def test_a_reopened_case_goes_back_to_work_and_can_be_resolved_again(zone):
    # Given a resolved case
    case = case_at(zone, CS.RESOLVED)
    task = case.tasks.get()

    # When the enterprise rejects the answer with a reason
    case_services.reopen_case(actor=zone.enterprise_user, case=case, reason="许可证书仍未领取到")

    # Then the case is back in progress, the verdict window is cleared and the reason is kept as feedback
    case.refresh_from_db()
    assert case.status == CS.IN_PROGRESS and case.verdict_due_on is None and case.resolved_at is None
    assert list(case.feedback.values_list("verdict", "source", "comment")) == [
        (Feedback.Verdict.REOPEN, Feedback.Source.ENTERPRISE, "许可证书仍未领取到")
    ]

    # When the concierge reopens the task, it blocks resolving until the unit finishes it again
    run_task_action(zone, "reopen", task)
    with pytest.raises(IllegalTransition):
        case_services.resolve_case(actor=zone.concierge, case=case, answer="再次答复")
    run_task_action(zone, "start", task)
    run_task_action(zone, "complete", task)
    case_services.resolve_case(actor=zone.concierge, case=case, answer="证书已送达企业。")

    # Then the case is resolved again with a fresh verdict window and a sound timeline
    case.refresh_from_db()
    assert case.status == CS.RESOLVED and case.answer == "证书已送达企业。"
    assert case.verdict_due_on is not None
    assert case.events.filter(kind=Kind.RESOLVED).count() == 2
    assert audit.violations([case]) == []


def test_reopen_requires_a_reason(zone):
    # Given a resolved case
    case = case_at(zone, CS.RESOLVED)
    before = snapshot(case)
    # When the enterprise rejects it without saying why
    with pytest.raises(InvalidInput) as refused:
        case_services.reopen_case(actor=zone.enterprise_user, case=case, reason="")
    # Then the reason is asked for and the case still awaits a verdict
    assert "reason" in refused.value.fields
    assert snapshot(case) == before


@pytest.mark.parametrize("rating", [None, "", 0, 6, "很好"])
def test_confirm_requires_a_rating_from_one_to_five(zone, rating):
    # Given a resolved case
    case = case_at(zone, CS.RESOLVED)
    before = snapshot(case)
    # When the enterprise confirms it without a valid rating
    with pytest.raises(InvalidInput) as refused:
        case_services.confirm_case(actor=zone.enterprise_user, case=case, rating=rating)
    # Then the rating field is named and the case is not closed
    assert set(refused.value.fields) == {"rating"}
    assert snapshot(case) == before


def test_confirm_closes_the_case_verified_by_the_enterprise_itself(zone):
    # Given a resolved case
    case = case_at(zone, CS.RESOLVED)
    # When the enterprise confirms it in the portal
    feedback = case_services.confirm_case(actor=zone.enterprise_user, case=case, rating="4", comment="办理及时")
    # Then the case is closed and the verdict records who verified it and how
    case.refresh_from_db()
    assert case.status == CS.CLOSED and case.closed_at is not None
    assert (feedback.source, feedback.recorded_by, feedback.rating) == (
        Feedback.Source.ENTERPRISE,
        zone.enterprise_user,
        Feedback.Rating.SATISFIED,
    )


def test_a_callback_closes_the_case_recorded_as_staff_verified(zone):
    # Given a resolved case the enterprise did not answer in the portal within its verdict window
    case = case_at(zone, CS.RESOLVED)
    # When the concierge records the enterprise's phone verdict
    with after_verdict_window(case):
        feedback = case_services.record_callback(actor=zone.concierge, case=case, verdict="confirm", rating=5)
    # Then the case is closed, never silently: the feedback says it came from a callback by the concierge
    case.refresh_from_db()
    assert case.status == CS.CLOSED
    assert (feedback.source, feedback.recorded_by, feedback.early) == (Feedback.Source.CALLBACK, zone.concierge, False)
    assert case.events.filter(kind=Kind.CALLBACK_CONFIRMED, actor=zone.concierge).count() == 1


def test_a_callback_with_an_unknown_verdict_names_the_field(zone):
    # Given a resolved case
    case = case_at(zone, CS.RESOLVED)
    before = snapshot(case)
    # When the concierge records a verdict that is neither confirm nor reopen
    with pytest.raises(InvalidInput) as refused:
        case_services.record_callback(actor=zone.concierge, case=case, verdict="maybe", rating=3)
    # Then the verdict field is named and nothing changed
    assert "verdict" in refused.value.fields
    assert snapshot(case) == before


def test_decline_requires_a_reason(zone):
    # Given a submitted case
    case = case_at(zone, CS.SUBMITTED)
    before = snapshot(case)
    # When the concierge declines it without a reason the enterprise could read
    with pytest.raises(InvalidInput) as refused:
        case_services.decline_case(actor=zone.concierge, case=case, reason=" ")
    # Then the reason is asked for and the case still waits to be accepted
    assert set(refused.value.fields) == {"reason"}
    assert snapshot(case) == before


def test_withdrawing_a_case_in_progress_cancels_each_open_task_with_its_own_event(zone):
    # Given an in-progress case with a pending, an in-progress, a returned and a done task
    case = case_at(zone, CS.IN_PROGRESS)
    pending = case.tasks.get()
    started, returned, done = task_services.decompose_case(
        actor=zone.concierge,
        case=case,
        tasks=[TaskSpec(title=title, task_force=zone.task_force) for title in ("办理中事项", "退回事项", "已办结事项")],
    )
    run_task_action(zone, "start", started)
    run_task_action(zone, "return", returned)
    run_task_action(zone, "start", done)
    run_task_action(zone, "complete", done)
    before = snapshot(case)

    # When the enterprise withdraws the case
    case_services.withdraw_case(actor=zone.enterprise_user, case=case, reason="问题已自行解决")

    # Then the case is withdrawn, each open task is cancelled with its own event, and the done task stays done
    case.refresh_from_db()
    assert case.status == CS.WITHDRAWN
    statuses = dict(case.tasks.values_list("pk", "status"))
    assert statuses == {pending.pk: TS.CANCELLED, started.pk: TS.CANCELLED, returned.pk: TS.CANCELLED, done.pk: TS.DONE}
    cancelled = [
        (e.task_id, e.from_status, e.to_status) for e in events_since(case, before) if e.kind == Kind.TASK_CANCELLED
    ]
    assert cancelled == [
        (pending.pk, TS.PENDING, TS.CANCELLED),
        (started.pk, TS.IN_PROGRESS, TS.CANCELLED),
        (returned.pk, TS.RETURNED, TS.CANCELLED),
    ]
    assert audit.violations([case]) == []


@pytest.mark.parametrize("rating", [4.7, True, "五", "", None, 0, 6])
def test_a_rating_must_be_one_of_the_five_levels(zone, rating):
    # Given a resolved case
    case = case_at(zone, CS.RESOLVED)
    before = snapshot(case)
    # When the enterprise confirms with something that is not 1-5
    with pytest.raises(InvalidInput) as refused:
        case_services.confirm_case(actor=zone.enterprise_user, case=case, rating=rating)
    # Then the rating is named and the case still awaits its verdict
    assert "rating" in refused.value.fields
    assert snapshot(case) == before


def test_after_a_reopen_the_case_offers_adding_tasks_and_a_resolve_refusal_says_so(zone):
    # Given a case the enterprise sent back, whose task the concierge reopened
    case = case_at(zone, CS.RESOLVED)
    case_services.reopen_case(actor=zone.enterprise_user, case=case, reason="问题仍存在")
    task_services.reopen_task(actor=zone.concierge, task=case.tasks.get(), note="请重新核实")
    # Then adding tasks is among the steps the case allows
    assert "decompose" in case_actions_allowed(CS.IN_PROGRESS)
    # And resolving while the task is open is refused, pointing at what can be done instead
    with pytest.raises(IllegalTransition) as refused:
        case_services.resolve_case(actor=zone.concierge, case=case, answer="已办结")
    assert "decompose" in refused.value.allowed and "resolve" not in refused.value.allowed


def test_information_can_still_be_added_while_the_verdict_is_awaited_but_not_after_closing(zone):
    case = case_at(zone, CS.RESOLVED)
    case_services.add_case_info(actor=zone.enterprise_user, case=case, note="补充：现场照片已上传")
    assert case.events.last().kind == CaseEvent.Kind.INFO_ADDED
    case_services.confirm_case(actor=zone.enterprise_user, case=case, rating=5)
    with pytest.raises(IllegalTransition):
        case_services.add_case_info(actor=zone.enterprise_user, case=case, note="再补充")
