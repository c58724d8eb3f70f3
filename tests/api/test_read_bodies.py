"""The case and task reads build their bodies directly (tracker/api/serializers.py, "Lean reads"): byte for byte
what DRF's generic ModelSerializer path gives from the same declared fields, for every role and in both languages.
"""

import pytest
from django.utils import timezone
from rest_framework import serializers as drf

from services.cases import steps as case_services
from services.cases import tasks as task_services
from tests.factories import ExtensionFactory, ProjectFactory, case_at
from tracker.api import serializers
from tracker.models import Case, Task

pytestmark = pytest.mark.django_db

CS = Case.Status
LEAN = (
    serializers.CaseSerializer,
    serializers.CaseDetailSerializer,
    serializers.TaskBriefSerializer,
    serializers.FeedbackSerializer,
    serializers.TaskSerializer,
    serializers.TaskDetailSerializer,
)
VIEWERS = ("leader", "concierge", "member", "officer", "enterprise_user")


@pytest.fixture
def cases(zone):
    """Cases in every state the lists show, one about a project, one paused, one with an extension asked for,
    one sent back with a verdict and a rating."""
    made = {status: case_at(zone, status) for status in (CS.SUBMITTED, CS.ACCEPTED, CS.IN_PROGRESS, CS.RESOLVED)}
    made[CS.CLOSED] = case_at(zone, CS.CLOSED)
    made[CS.DECLINED] = case_at(zone, CS.DECLINED)
    Case.objects.filter(pk=made[CS.ACCEPTED].pk).update(project=ProjectFactory(enterprise=zone.enterprise))
    paused = case_at(zone, CS.IN_PROGRESS, title="挂起的诉求")
    case_services.request_case_info(actor=zone.concierge, case=paused, note="请补充用地红线图", pause=True)
    task = Task.objects.filter(case=made[CS.IN_PROGRESS]).get()
    task_services.start_task(actor=zone.member, task=task)
    ExtensionFactory(
        task=task,
        requested_by=zone.member,
        previous_due_on=task.due_on,
        requested_due_on=task.due_on.replace(day=28),
        reason="需等待测绘结果",
    )
    Task.objects.filter(pk=task.pk).update(assignee=zone.member, due_is_provisional=True)
    reopened = case_at(zone, CS.RESOLVED, title="退回重办的诉求")
    case_services.reopen_case(actor=zone.enterprise_user, case=reopened, reason="仍未批复", rating=2)
    return made


def bodies(client, urls, language):
    """Each URL's status and bytes."""
    return {url: (r.status_code, r.content) for url in urls for r in [client.get(url, HTTP_ACCEPT_LANGUAGE=language)]}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_case_and_task_bodies_are_those_of_the_generic_serializer_path(zone, api, cases, monkeypatch, language):
    # Given cases and tasks in many states, read by everyone who works on them
    urls = ["/api/v1/cases/?page_size=200", "/api/v1/tasks/?page_size=200"]
    urls += [f"/api/v1/cases/{pk}/" for pk in Case.objects.values_list("pk", flat=True)]
    urls += [f"/api/v1/tasks/{pk}/" for pk in Task.objects.values_list("pk", flat=True)]
    lean = {viewer: bodies(api(getattr(zone, viewer)), urls, language) for viewer in VIEWERS}

    # When the same reads go through DRF's generic field-by-field path
    for serializer in LEAN:
        monkeypatch.setattr(serializer, "to_representation", drf.ModelSerializer.to_representation)
    generic = {viewer: bodies(api(getattr(zone, viewer)), urls, language) for viewer in VIEWERS}

    # Then every body is the same, byte for byte, and the reads did show something to everyone
    for viewer in VIEWERS:
        assert lean[viewer] == generic[viewer], viewer
        assert sum(status == 200 for status, _ in lean[viewer].values()) > 2, viewer
    assert len(lean["leader"]) == sum(status == 200 for status, _ in lean["leader"].values())


def test_status_labels_follow_the_callers_language(zone, api, cases):
    # Given a case in progress
    case = cases[CS.IN_PROGRESS]
    client = api(zone.leader)

    # When the leader reads it in Chinese, then in English
    chinese = client.get(f"/api/v1/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    english = client.get(f"/api/v1/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="en").json()

    # Then each label is in the language asked for, and the rest is the same
    assert chinese["status_display"] != english["status_display"]
    assert {k: v for k, v in chinese.items() if k != "status_display"} == {
        k: v for k, v in english.items() if k != "status_display"
    }
    assert chinese["submitted_at"] == timezone.localtime(case.submitted_at).isoformat()
