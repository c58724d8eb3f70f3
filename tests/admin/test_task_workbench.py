"""The task units' side of the workbench, and the leader's extension decisions."""

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from services.time.calendar import WorkingCalendar
from tests.factories import case_at
from tracker.models import Case, Extension, Task

pytestmark = pytest.mark.django_db
CS = Case.Status
TS = Task.Status


def _url(task, action):
    return reverse("admin:tracker_task_action", args=[task.pk, action])


def _buttons(client, task) -> set[str]:
    response = client.get(reverse("admin:tracker_task_change", args=[task.pk]))
    assert response.status_code == 200
    return set(re.findall(r'data-action="([a-z_]+)"', response.content.decode()))


def test_my_tasks_lists_only_the_units_tasks(client, zone):
    # Given a task for the task force and a case of another enterprise given to another department
    mine = case_at(zone, CS.IN_PROGRESS).tasks.get()
    other_case = case_at(zone, CS.ACCEPTED, title="另一件")
    from services.cases.tasks import TaskSpec, decompose_case

    (other,) = decompose_case(
        actor=zone.concierge, case=other_case, tasks=[TaskSpec(title="供电接入", department=zone.other_department)]
    )
    client.force_login(zone.member)
    page = client.get(reverse("admin:tracker_task_changelist") + "?queue=mine&state=open").content.decode()
    assert mine.title in page and "供电接入" not in page
    # And the member cannot open the other department's task
    assert client.get(reverse("admin:tracker_task_change", args=[other.pk])).status_code == 302
    assert client.post(_url(other, "start"), {"version": other.version}).status_code == 404


def test_a_member_starts_and_completes_a_task(client, zone):
    task = case_at(zone, CS.IN_PROGRESS).tasks.get()
    client.force_login(zone.member)
    assert _buttons(client, task) == {"start", "return", "extend"}
    client.post(_url(task, "start"), {"version": task.version})
    task.refresh_from_db()
    assert task.status == TS.IN_PROGRESS
    assert _buttons(client, task) == {"complete", "return", "extend"}
    # Completing without a result is refused on the field
    response = client.post(_url(task, "complete"), {"version": task.version, "result": ""})
    assert "此项不能为空" in response.content.decode()
    assert Task.objects.get(pk=task.pk).status == TS.IN_PROGRESS
    client.post(_url(task, "complete"), {"version": task.version, "result": "规划许可已批复"})
    assert Task.objects.get(pk=task.pk).status == TS.DONE


def test_returned_task_can_be_redispatched_by_the_concierge(client, zone):
    task = case_at(zone, CS.IN_PROGRESS).tasks.get()
    client.force_login(zone.member)
    client.post(_url(task, "return"), {"version": task.version, "reason": "不属于本专班职责"})
    task.refresh_from_db()
    assert task.status == TS.RETURNED
    client.force_login(zone.concierge)
    assert _buttons(client, task) == {"redispatch", "cancel"}
    response = client.post(
        _url(task, "redispatch"), {"version": task.version, "department": zone.department.pk, "note": "请规划局办理"}
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == TS.PENDING and task.department == zone.department and task.task_force is None


def test_extension_requested_by_the_unit_and_approved_by_a_leader(client, zone):
    task = case_at(zone, CS.IN_PROGRESS).tasks.get()
    # Two weeks on, or the next working day if that is a rest day (as the service moves it)
    later = WorkingCalendar.load(since=task.due_on).next_working_day(task.due_on + timedelta(days=14))
    client.force_login(zone.member)
    # A date not after the current deadline is refused on the field
    response = client.post(_url(task, "extend"), {"requested_due_on": task.due_on.isoformat(), "reason": "等待"})
    assert response.status_code == 200 and "应晚于" in response.content.decode()
    assert not Extension.objects.exists()
    client.post(_url(task, "extend"), {"requested_due_on": later.isoformat(), "reason": "需等待省厅批复"})
    extension = Extension.objects.get()
    # The member cannot decide it
    decide = reverse("admin:tracker_extension_action", args=[extension.pk, "approve"])
    response = client.post(decide, {"note": ""}, follow=True)
    assert Extension.objects.get().status == Extension.Status.PENDING
    assert any("领导" in str(m) for m in get_messages(response.wsgi_request))
    # The leader sees it in the pending queue and approves it
    client.force_login(zone.leader)
    queue = client.get(reverse("admin:tracker_extension_changelist") + "?status__exact=pending&task_open=yes")
    assert task.title in queue.content.decode()
    client.post(decide, {"note": "同意"})
    task.refresh_from_db()
    assert Extension.objects.get().status == Extension.Status.APPROVED and task.due_on == later


def test_overdue_and_department_filters(client, zone):
    task = case_at(zone, CS.IN_PROGRESS).tasks.get()
    Task.objects.filter(pk=task.pk).update(due_on=timezone.localdate() - timedelta(days=3))
    client.force_login(zone.leader)
    url = reverse("admin:tracker_task_changelist")
    assert task.title in client.get(url, {"deadline": "overdue"}).content.decode()
    # the task force's lead department answers for it
    assert task.title in client.get(url, {"unit_department": zone.department.pk}).content.decode()
    assert task.title not in client.get(url, {"unit_department": zone.other_department.pk}).content.decode()
    assert task.title not in client.get(url, {"deadline": "week"}).content.decode()
