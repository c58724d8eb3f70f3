"""A task's deadline lies between today and the horizon (settings.TASK_DUE_HORIZON_DAYS), wherever it is set."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from services.cases import tasks as task_services
from services.cases.tasks import TaskSpec
from services.errors import InvalidInput
from services.time import calendar
from tests.factories import case_at, snapshot, task_at
from tracker.models import Case, Extension, Task

pytestmark = pytest.mark.django_db
CS = Case.Status
TS = Task.Status

FAR_FUTURE = date(9999, 12, 31)


def _horizon(settings) -> date:
    return timezone.localdate() + timedelta(days=settings.TASK_DUE_HORIZON_DAYS)


def _decompose(zone, case, due_on):
    return task_services.decompose_case(
        actor=zone.concierge,
        case=case,
        tasks=[TaskSpec(title="协调规划许可", task_force=zone.task_force, due_on=due_on)],
    )


def _refused(call, field: str):
    with pytest.raises(InvalidInput) as refused:
        call()
    assert set(refused.value.fields) == {field}
    return refused.value


def test_the_horizon_defaults_to_a_year_and_a_day(settings):
    assert settings.TASK_DUE_HORIZON_DAYS == 366


@pytest.mark.parametrize("days", [-1, 1], ids=["yesterday", "past-the-horizon"])
def test_decompose_refuses_a_deadline_out_of_bounds(zone, settings, days):
    # Given an accepted case
    case = case_at(zone, CS.ACCEPTED)
    before = snapshot(case)
    due_on = timezone.localdate() + timedelta(days=days) if days < 0 else _horizon(settings) + timedelta(days=days)
    # When it is decomposed with a deadline before today or beyond the horizon
    _refused(lambda: _decompose(zone, case, due_on), "tasks[0].due_on")
    # Then nothing changed
    assert snapshot(case) == before


def test_decompose_refuses_the_end_of_time(zone):
    case = case_at(zone, CS.ACCEPTED)
    _refused(lambda: _decompose(zone, case, FAR_FUTURE), "tasks[0].due_on")
    assert not case.tasks.exists()


def test_decompose_accepts_today_and_the_horizon_itself(zone, settings):
    case = case_at(zone, CS.ACCEPTED)
    (task,) = _decompose(zone, case, _horizon(settings))
    assert task.due_on == calendar.WorkingCalendar.load().next_working_day(_horizon(settings))  # a rest day runs on


def test_the_horizon_is_a_setting(zone, settings):
    # Given a deployment that allows deadlines up to 30 days ahead
    settings.TASK_DUE_HORIZON_DAYS = 30
    case = case_at(zone, CS.ACCEPTED)
    # Then 31 days ahead is refused, naming the latest date allowed
    refused = _refused(lambda: _decompose(zone, case, timezone.localdate() + timedelta(days=31)), "tasks[0].due_on")
    assert (timezone.localdate() + timedelta(days=30)).isoformat() in refused.fields["tasks[0].due_on"][0]


def test_redispatch_refuses_a_deadline_beyond_the_horizon(zone):
    task = task_at(zone, TS.RETURNED)
    before = snapshot(task.case)
    _refused(
        lambda: task_services.redispatch_task(
            actor=zone.concierge, task=task, department=zone.department, note="请牵头", due_on=FAR_FUTURE
        ),
        "due_on",
    )
    assert snapshot(task.case) == before


def test_reopen_refuses_a_deadline_beyond_the_horizon(zone):
    task = task_at(zone, TS.DONE)
    before = snapshot(task.case)
    _refused(
        lambda: task_services.reopen_task(actor=zone.concierge, task=task, note="请重办", due_on=FAR_FUTURE),
        "due_on",
    )
    assert snapshot(task.case) == before


def test_an_extension_beyond_the_horizon_is_refused(zone):
    task = task_at(zone, TS.IN_PROGRESS)
    _refused(
        lambda: task_services.request_extension(
            actor=zone.member, task=task, requested_due_on=FAR_FUTURE, reason="需等待省厅批复"
        ),
        "requested_due_on",
    )
    assert not task.extensions.exists()


def test_an_extension_up_to_the_horizon_is_accepted_and_approved(zone, settings):
    task = task_at(zone, TS.IN_PROGRESS)
    extension = task_services.request_extension(
        actor=zone.member, task=task, requested_due_on=_horizon(settings), reason="需等待省厅批复"
    )
    task_services.approve_extension(actor=zone.leader, extension=extension)
    assert Task.objects.get(pk=task.pk).due_on == calendar.WorkingCalendar.load().next_working_day(_horizon(settings))


def test_approving_an_extension_beyond_todays_horizon_is_refused(zone, settings):
    # Given an extension asked for within the horizon, which was narrowed before the leader decided
    task = task_at(zone, TS.IN_PROGRESS)
    requested = task.due_on + timedelta(days=60)
    extension = task_services.request_extension(
        actor=zone.member, task=task, requested_due_on=requested, reason="需等待省厅批复"
    )
    settings.TASK_DUE_HORIZON_DAYS = (task.due_on - timezone.localdate()).days + 30
    # When the leader approves it, it is refused on the requested date and nothing changed
    _refused(lambda: task_services.approve_extension(actor=zone.leader, extension=extension), "requested_due_on")
    assert Extension.objects.get(pk=extension.pk).status == Extension.Status.PENDING
    assert Task.objects.get(pk=task.pk).due_on == task.due_on
