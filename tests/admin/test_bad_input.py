"""Bad input to the workbench gets a clear answer, never a server error, and changes nothing."""

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import case_at
from tracker.models import Case, CaseEvent

pytestmark = pytest.mark.django_db

JUNK = [
    {"status__exact": "nonsense"},
    {"o": "99.-42"},
    {"p": "99999"},
    {"deadline": "yesterday", "queue": "theirs", "state": "?", "timeliness": "x"},
    {"enterprise": "9" * 30, "project": "%00", "unit_department": "abc", "contact": "x"},
    {"category__id__exact": "abc"},
    {"q": "'; drop table tracker_case; --"},
]


def test_lists_and_export_answer_junk_parameters_without_a_server_error(client, zone):
    case_at(zone, Case.Status.IN_PROGRESS)
    client.force_login(zone.leader)
    urls = [reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist") for m in admin.site._registry]
    urls += [reverse("admin:tracker_case_export"), reverse("admin:dashboard")]
    for url in urls:
        for params in JUNK:
            response = client.get(url, params)
            assert response.status_code in (200, 302, 403), (url, params, response.status_code)


def test_actions_answer_junk_without_a_server_error_and_change_nothing(client, zone):
    case = case_at(zone, Case.Status.ACCEPTED)
    events = CaseEvent.objects.count()
    client.force_login(zone.concierge)
    for object_id, action in [("abc", "accept"), ("999999", "accept"), (case.pk, "explode"), (case.pk, "withdraw")]:
        response = client.post(reverse("admin:tracker_case_action", args=[object_id, action]), {"version": "x"})
        assert response.status_code == 404, (object_id, action)
    # A form with values of the wrong type is answered on the form
    url = reverse("admin:tracker_case_action", args=[case.pk, "decompose"])
    data = {
        "version": "not-a-number",
        "tasks-TOTAL_FORMS": "1",
        "tasks-INITIAL_FORMS": "0",
        "tasks-0-title": "事项",
        "tasks-0-task_force": "999999",
        "tasks-0-due_on": "2026-13-45",
        "tasks-0-assignee": "abc",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    # A tampered formset (no management form) is refused, not a crash
    assert client.post(url, {"version": case.version}).status_code == 200
    assert CaseEvent.objects.count() == events
    assert Case.objects.get(pk=case.pk).status == Case.Status.ACCEPTED
