"""Who may do what (docs/states-and-roles.md). Visibility comes first: what a person cannot see does not exist for them
(NotFound, 404); what they see but may not touch is NotPermitted (403)."""

import pytest

from services.cases import steps as case_services
from services.cases import tasks as task_services
from services.cases.tasks import TaskSpec
from services.errors import InvalidInput, NotFound, NotPermitted
from tests.factories import after_verdict_window, case_at, run_case_action, run_task_action, snapshot, task_at
from tracker.models import Case, CaseEvent, Feedback, Task

CS = Case.Status
TS = Task.Status
OK = "ok"

# (action, the status it is legal from, who tries, what happens)
CASE_RULES = [
    # The concierge's work: the linked concierge, the backup and leaders may; nobody else
    *[("accept", CS.SUBMITTED, who, OK) for who in ("concierge", "backup", "leader", "admin")],
    ("accept", CS.SUBMITTED, "other_concierge", NotFound),
    ("accept", CS.SUBMITTED, "other_enterprise_user", NotFound),
    ("accept", CS.SUBMITTED, "officer", NotFound),
    ("accept", CS.SUBMITTED, "enterprise_user", NotPermitted),
    ("accept", CS.SUBMITTED, "integration", NotPermitted),
    *[("decline", CS.SUBMITTED, who, OK) for who in ("concierge", "backup")],
    ("decline", CS.SUBMITTED, "other_concierge", NotFound),
    ("decline", CS.SUBMITTED, "enterprise_user", NotPermitted),
    *[("decompose", CS.ACCEPTED, who, OK) for who in ("concierge", "backup")],
    ("decompose", CS.ACCEPTED, "other_concierge", NotFound),
    ("decompose", CS.ACCEPTED, "enterprise_user", NotPermitted),
    *[("resolve", CS.ACCEPTED, who, OK) for who in ("concierge", "backup")],
    ("resolve", CS.ACCEPTED, "other_concierge", NotFound),
    ("resolve", CS.ACCEPTED, "enterprise_user", NotPermitted),
    # A task's unit sees the case but does not handle it
    ("resolve", CS.IN_PROGRESS, "member", NotPermitted),
    ("resolve", CS.IN_PROGRESS, "officer", NotPermitted),
    *[("callback_confirm", CS.RESOLVED, who, OK) for who in ("concierge", "backup", "leader")],
    ("callback_confirm", CS.RESOLVED, "other_concierge", NotFound),
    ("callback_confirm", CS.RESOLVED, "enterprise_user", NotPermitted),
    ("callback_reopen", CS.RESOLVED, "backup", OK),
    ("callback_reopen", CS.RESOLVED, "member", NotPermitted),
    # The enterprise's own steps: only its own users; staff cannot click them on the portal's behalf
    ("withdraw", CS.SUBMITTED, "enterprise_user", OK),
    ("withdraw", CS.SUBMITTED, "other_enterprise_user", NotFound),
    ("withdraw", CS.SUBMITTED, "concierge", NotPermitted),
    ("withdraw", CS.SUBMITTED, "leader", NotPermitted),
    ("confirm", CS.RESOLVED, "enterprise_user", OK),
    ("confirm", CS.RESOLVED, "other_enterprise_user", NotFound),
    ("confirm", CS.RESOLVED, "concierge", NotPermitted),
    ("confirm", CS.RESOLVED, "backup", NotPermitted),
    ("confirm", CS.RESOLVED, "leader", NotPermitted),
    ("confirm", CS.RESOLVED, "admin", NotPermitted),
    ("confirm", CS.RESOLVED, "integration", NotPermitted),
    ("reopen", CS.RESOLVED, "enterprise_user", OK),
    ("reopen", CS.RESOLVED, "other_enterprise_user", NotFound),
    ("reopen", CS.RESOLVED, "concierge", NotPermitted),
]


@pytest.mark.parametrize(
    ("action", "status", "who", "outcome"),
    CASE_RULES,
    ids=[f"{action}-by-{who}" for action, _, who, _ in CASE_RULES],
)
def test_case_actions_follow_the_role_table(zone, action, status, who, outcome):
    # Given a case of zone.enterprise at a status where `action` is legal
    case = case_at(zone, status)
    if (status, action) == (CS.IN_PROGRESS, "resolve"):
        task = case.tasks.get()
        run_task_action(zone, "start", task)
        run_task_action(zone, "complete", task)
    before = snapshot(case)

    # When `who` performs it
    if outcome is OK:
        run_case_action(zone, action, case, actor=getattr(zone, who))
        # Then the case moved, recorded as done by them
        after = snapshot(case)
        assert after.status != before.status
        assert CaseEvent.objects.filter(pk__gt=before.last_event_id, case=case, actor=getattr(zone, who)).exists()
    else:
        # Then they are refused (404 for what they may not see, 403 for what they may not do) and nothing changed
        with pytest.raises(outcome):
            run_case_action(zone, action, case, actor=getattr(zone, who))
        assert snapshot(case) == before


# (action, the task's status it is legal from, who tries, what happens); the task is given to the task force
# whose lead department is zone.department and whose member is zone.member.
TASK_RULES = [
    *[(action, status, who, OK) for action, status in (("start", TS.PENDING), ("complete", TS.IN_PROGRESS),
      ("return", TS.PENDING)) for who in ("member", "officer", "admin")],
    *[("start", TS.PENDING, who, NotPermitted) for who in ("concierge", "backup", "leader", "enterprise_user")],
    ("complete", TS.IN_PROGRESS, "concierge", NotPermitted),
    ("return", TS.PENDING, "leader", NotPermitted),
    *[("start", TS.PENDING, who, NotFound) for who in ("other_officer", "other_concierge", "other_enterprise_user")],
    ("complete", TS.IN_PROGRESS, "other_officer", NotFound),
    ("return", TS.IN_PROGRESS, "other_officer", NotFound),
    # The concierge's side of a task: re-dispatch, reopen, cancel
    *[(action, status, who, OK) for action, status in (("redispatch", TS.RETURNED), ("reopen", TS.DONE),
      ("cancel", TS.PENDING)) for who in ("concierge", "backup", "leader")],
    *[(action, status, who, NotPermitted) for action, status in (("redispatch", TS.RETURNED), ("reopen", TS.DONE),
      ("cancel", TS.PENDING)) for who in ("member", "officer", "enterprise_user")],
    ("cancel", TS.PENDING, "other_concierge", NotFound),
    ("redispatch", TS.RETURNED, "other_officer", NotFound),
]  # fmt: skip


@pytest.mark.parametrize(
    ("action", "status", "who", "outcome"),
    TASK_RULES,
    ids=[f"{action}-by-{who}" for action, _, who, _ in TASK_RULES],
)
def test_task_actions_follow_the_role_table(zone, action, status, who, outcome):
    # Given a task of zone.enterprise's case at a status where `action` is legal
    task = task_at(zone, status)
    before = snapshot(task.case)

    # When `who` performs it
    if outcome is OK:
        run_task_action(zone, action, task, actor=getattr(zone, who))
        # Then the task moved, recorded as done by them
        assert Task.objects.get(pk=task.pk).status != status
        assert task.events.filter(pk__gt=before.last_event_id, actor=getattr(zone, who)).count() == 1
    else:
        # Then they are refused and nothing changed
        with pytest.raises(outcome):
            run_task_action(zone, action, task, actor=getattr(zone, who))
        assert snapshot(task.case) == before


def test_a_department_sees_a_shared_case_but_works_only_its_own_task(zone):
    # Given a case with one task for the task force and one for the power company
    case = case_at(zone, CS.IN_PROGRESS)
    land = case.tasks.get()
    (power,) = task_services.decompose_case(
        actor=zone.concierge, case=case, tasks=[TaskSpec(title="核实用电容量", department=zone.other_department)]
    )
    before = snapshot(case)
    # When the power company's officer tries to start the task force's task
    with pytest.raises(NotPermitted):
        task_services.start_task(actor=zone.other_officer, task=land)
    # Then nothing changed, but it may start its own
    assert snapshot(case) == before
    task_services.start_task(actor=zone.other_officer, task=power)


def test_a_named_assignee_from_outside_the_unit_may_work_the_task(zone):
    # Given a task given to a department with a named assignee
    case = case_at(zone, CS.ACCEPTED)
    (task,) = task_services.decompose_case(
        actor=zone.concierge,
        case=case,
        tasks=[TaskSpec(title="核实用电容量", department=zone.other_department, assignee=zone.other_officer)],
    )
    # When the assignee starts it
    task_services.start_task(actor=zone.other_officer, task=task)
    # Then it is in progress
    assert Task.objects.get(pk=task.pk).status == TS.IN_PROGRESS


def test_staff_cannot_confirm_but_can_record_the_enterprises_phone_verdict(zone):
    # Given a resolved case
    case = case_at(zone, CS.RESOLVED)
    # When the concierge tries to confirm in the portal's place
    with pytest.raises(NotPermitted):
        case_services.confirm_case(actor=zone.concierge, case=case, rating=5)
    # Then it must record a callback instead (once the enterprise's own window has passed), which says so
    with after_verdict_window(case):
        feedback = case_services.record_callback(
            actor=zone.concierge, case=case, verdict="reopen", comment="企业不满意"
        )
    assert feedback.source == Feedback.Source.CALLBACK
    assert Case.objects.get(pk=case.pk).status == CS.IN_PROGRESS


def test_an_inactive_concierge_sees_nothing(zone):
    # Given a submitted case whose concierge has left
    case = case_at(zone, CS.SUBMITTED)
    zone.concierge.is_active = False
    zone.concierge.save(update_fields=["is_active"])
    # When they try to accept it
    with pytest.raises(NotFound):
        case_services.accept_case(actor=zone.concierge, case=case)
    # Then it is still waiting for someone else
    assert Case.objects.get(pk=case.pk).status == CS.SUBMITTED


# Submitting


def _submit(zone, actor, enterprise, **kwargs):
    return case_services.submit_case(
        actor=actor,
        enterprise=enterprise,
        category=zone.category,
        title="供电线路改造",
        description="新厂房需要双回路供电，希望协调供电公司。",
        **kwargs,
    )


def test_an_enterprise_user_submits_only_for_its_own_enterprise(zone):
    # Given an enterprise user
    # When it submits for its own enterprise, the case comes in through the portal
    case = _submit(zone, zone.enterprise_user, zone.enterprise)
    assert case.channel == Case.Channel.PORTAL and case.submitted_by == zone.enterprise_user
    # When it submits for another enterprise, that enterprise does not exist for it
    with pytest.raises(NotFound):
        _submit(zone, zone.enterprise_user, zone.other_enterprise)
    assert Case.objects.count() == 1


@pytest.mark.parametrize("channel", [Case.Channel.API, Case.Channel.HOTLINE, None])
def test_an_integration_submits_for_any_enterprise_through_api_or_hotline(zone, channel):
    # Given the 12345 hotline's integration account
    # When it submits for an enterprise it is not linked to
    case = _submit(zone, zone.integration, zone.other_enterprise, channel=channel)
    # Then the case is opened for that enterprise, through the channel given (api by default)
    assert case.enterprise == zone.other_enterprise and case.concierge == zone.other_concierge
    assert case.channel == (channel or Case.Channel.API)


def test_an_integration_cannot_submit_as_the_portal(zone):
    # Given the hotline's integration account
    # When it claims the portal as the channel
    with pytest.raises(InvalidInput) as refused:
        _submit(zone, zone.integration, zone.enterprise, channel=Case.Channel.PORTAL)
    # Then the channel is named and no case is opened
    assert set(refused.value.fields) == {"channel"}
    assert not Case.objects.exists()


def test_a_concierge_submits_for_a_linked_enterprise_only_and_must_say_how(zone):
    # Given the concierge of zone.enterprise
    # When they submit without a channel, the channel is asked for
    with pytest.raises(InvalidInput) as refused:
        _submit(zone, zone.concierge, zone.enterprise)
    assert set(refused.value.fields) == {"channel"}
    # When they submit a hotline call for their enterprise, it is opened
    assert _submit(zone, zone.concierge, zone.enterprise, channel=Case.Channel.HOTLINE).status == CS.SUBMITTED
    # When they submit for an enterprise they are not linked to, it does not exist for them
    with pytest.raises(NotFound):
        _submit(zone, zone.concierge, zone.other_enterprise, channel=Case.Channel.HOTLINE)
    assert Case.objects.count() == 1


def test_an_officer_of_an_assisting_department_sees_and_works_the_task_forces_task(zone):
    # Given a task force with the other department assisting, and a task given to the task force
    zone.task_force.assisting_departments.add(zone.other_department)
    task = task_at(zone, Task.Status.PENDING)
    # When an officer of the assisting department signs for it
    task_services.start_task(actor=zone.other_officer, task=task)
    # Then the task is under way, done by them
    assert Task.objects.get(pk=task.pk).status == Task.Status.IN_PROGRESS
    assert task.case.events.last().actor == zone.other_officer
