"""Deadline extensions (延期): requested by the task's unit, decided by a leader (services/cases/tasks.py)."""

from datetime import timedelta

import pytest

from services.cases import tasks as task_services
from services.errors import Conflict, IllegalTransition, InvalidInput, NotFound, NotPermitted
from tests.factories import events_since, snapshot, task_at
from tracker.models import CaseEvent, Extension, Task

TS = Task.Status
Kind = CaseEvent.Kind


@pytest.fixture
def task(zone) -> Task:
    """A task the task force has started, on a case in progress."""
    return task_at(zone, TS.IN_PROGRESS)


def _request(zone, task, days: int = 10, actor=None, reason: str = "需等待省厅批复") -> Extension:
    return task_services.request_extension(
        actor=actor or zone.member, task=task, requested_due_on=task.due_on + timedelta(days=days), reason=reason
    )


def test_the_unit_asks_for_more_time(zone, task):
    # Given a task in progress with a deadline
    before = snapshot(task.case)
    # When its unit asks to move the deadline 10 days, with a reason
    extension = _request(zone, task)
    # Then the request waits for a leader, the deadline stays, and the timeline shows it
    assert (extension.status, extension.previous_due_on, extension.requested_by) == (
        Extension.Status.PENDING,
        task.due_on,
        zone.member,
    )
    assert Task.objects.get(pk=task.pk).due_on == task.due_on
    events = events_since(task.case, before)
    assert [(e.kind, e.task_id, e.actor, e.note) for e in events] == [
        (Kind.EXTENSION_REQUESTED, task.pk, zone.member, "需等待省厅批复")
    ]
    assert events[0].data["requested_due_on"] == extension.requested_due_on.isoformat()


@pytest.mark.parametrize("days", [0, -3], ids=["same-day", "earlier"])
def test_the_requested_date_must_be_later_than_the_deadline(zone, task, days):
    # Given a task in progress
    before = snapshot(task.case)
    # When its unit asks for the same or an earlier date
    with pytest.raises(InvalidInput) as refused:
        _request(zone, task, days=days)
    # Then the date field is named and nothing is written
    assert set(refused.value.fields) == {"requested_due_on"}
    assert snapshot(task.case) == before and not Extension.objects.exists()


def test_a_request_needs_a_reason_and_a_date(zone, task):
    with pytest.raises(InvalidInput) as refused:
        task_services.request_extension(actor=zone.member, task=task, requested_due_on="下个月", reason="")
    assert set(refused.value.fields) == {"requested_due_on", "reason"}
    assert not Extension.objects.exists()


def test_only_one_request_may_wait_per_task(zone, task):
    # Given a task with a request waiting for a leader
    _request(zone, task)
    before = snapshot(task.case)
    # When its unit asks again
    with pytest.raises(Conflict) as refused:
        _request(zone, task, days=20, actor=zone.officer)
    # Then it is a conflict (409), and there is still one request
    assert refused.value.http_status == 409
    assert snapshot(task.case) == before and Extension.objects.count() == 1


@pytest.mark.parametrize("who", ["leader", "admin"])
def test_a_leader_approves_and_the_deadline_moves(zone, task, who):
    # Given a waiting request
    extension = _request(zone, task)
    before = snapshot(task.case)
    leader = getattr(zone, who)
    # When a leader approves it
    task_services.approve_extension(actor=leader, extension=extension, note="同意")
    # Then the task is due on the requested date, one version on, and the timeline says who approved
    moved = Task.objects.get(pk=task.pk)
    assert (moved.due_on, moved.due_is_provisional, moved.version) == (
        extension.requested_due_on,
        False,
        task.version + 1,
    )
    extension.refresh_from_db()
    assert (extension.status, extension.decided_by, extension.decision_note) == (
        Extension.Status.APPROVED,
        leader,
        "同意",
    )
    assert [(e.kind, e.task_id, e.actor) for e in events_since(task.case, before)] == [
        (Kind.EXTENSION_APPROVED, task.pk, leader)
    ]
    # And the unit may ask again later
    _request(zone, moved, days=5)


def test_a_rejection_needs_a_note_and_keeps_the_deadline(zone, task):
    # Given a waiting request
    extension = _request(zone, task)
    before = snapshot(task.case)
    # When a leader rejects it without a note, the note is asked for and nothing changes
    with pytest.raises(InvalidInput) as refused:
        task_services.reject_extension(actor=zone.leader, extension=extension, note=" ")
    assert set(refused.value.fields) == {"note"}
    assert snapshot(task.case) == before
    assert Extension.objects.get(pk=extension.pk).status == Extension.Status.PENDING
    # When they reject it with a note
    task_services.reject_extension(actor=zone.leader, extension=extension.pk, note="请按期办结")
    # Then the deadline stays and the timeline shows the rejection
    assert Task.objects.get(pk=task.pk).due_on == task.due_on
    assert Extension.objects.get(pk=extension.pk).status == Extension.Status.REJECTED
    assert [(e.kind, e.note) for e in events_since(task.case, before)] == [(Kind.EXTENSION_REJECTED, "请按期办结")]


@pytest.mark.parametrize("who", ["concierge", "backup", "officer", "member", "enterprise_user", "integration"])
def test_only_leaders_decide_extensions(zone, task, who):
    # Given a waiting request
    extension = _request(zone, task)
    before = snapshot(task.case)
    # When someone who is not a leader tries to approve or reject it
    with pytest.raises(NotPermitted):
        task_services.approve_extension(actor=getattr(zone, who), extension=extension)
    with pytest.raises(NotPermitted):
        task_services.reject_extension(actor=getattr(zone, who), extension=extension, note="不同意")
    # Then it still waits and the deadline stays
    assert Extension.objects.get(pk=extension.pk).status == Extension.Status.PENDING
    assert snapshot(task.case) == before


def test_a_decided_request_cannot_be_decided_again(zone, task):
    extension = _request(zone, task)
    task_services.approve_extension(actor=zone.leader, extension=extension)
    before = snapshot(task.case)
    with pytest.raises(IllegalTransition):
        task_services.reject_extension(actor=zone.leader, extension=extension, note="改变主意")
    assert snapshot(task.case) == before


def test_deciding_a_request_that_does_not_exist_is_not_found(zone):
    with pytest.raises(NotFound):
        task_services.approve_extension(actor=zone.leader, extension=999999)


@pytest.mark.parametrize(("who", "error"), [("concierge", NotPermitted), ("other_officer", NotFound)])
def test_only_the_unit_may_ask_for_more_time(zone, task, who, error):
    with pytest.raises(error):
        _request(zone, task, actor=getattr(zone, who))
    assert not Extension.objects.exists()


@pytest.mark.parametrize("status", [TS.DONE, TS.RETURNED, TS.CANCELLED])
def test_a_task_that_is_not_being_worked_cannot_be_extended(zone, status):
    task = task_at(zone, status)
    with pytest.raises(IllegalTransition):
        _request(zone, task)
    assert not Extension.objects.exists()


def test_an_overdue_task_cannot_ask_for_a_date_already_past(zone, task):
    # Given a task that went overdue three weeks ago
    Task.objects.filter(pk=task.pk).update(due_on=task.due_on - timedelta(days=60))
    task.refresh_from_db()
    # When the unit asks to move it to a date that is still in the past
    with pytest.raises(InvalidInput) as refused:
        _request(zone, task, days=1)
    # Then the date is named and no request is filed
    assert "requested_due_on" in refused.value.fields
    assert not Extension.objects.exists()


def test_an_extension_for_a_task_finished_meanwhile_cannot_be_approved(zone, task):
    # Given a pending extension, and then the unit finishes the task anyway
    extension = _request(zone, task)
    task_services.complete_task(actor=zone.member, task=task, result="已提前办结")
    # When the leader approves it
    with pytest.raises(IllegalTransition) as refused:
        task_services.approve_extension(actor=zone.leader, extension=extension)
    # Then the refusal says to reject it instead, and the finished task's deadline is unchanged
    assert refused.value.allowed == ["reject"]
    assert Task.objects.get(pk=task.pk).due_on == task.due_on
    # And the leader can reject it to clear the queue
    task_services.reject_extension(actor=zone.leader, extension=extension, note="事项已办结")
    assert Extension.objects.get(pk=extension.pk).status == Extension.Status.REJECTED
