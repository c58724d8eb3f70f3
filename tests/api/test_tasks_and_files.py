"""Task endpoints (start, complete, return, extend) and case files (upload, list, download)."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from services.time import calendar
from tests.factories import PDF, make_case
from tracker.models import Attachment, Case, Extension, Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def task(zone):
    case = make_case(
        status=Case.Status.IN_PROGRESS,
        enterprise_user=zone.enterprise_user,
        concierge=zone.concierge,
        category=zone.category,
        unit=zone.task_force,
        worker=zone.member,
    )
    return case.tasks.get()


def test_the_unit_starts_and_completes_a_task(zone, api, task):
    client = api(zone.member)
    response = client.post(f"/api/v1/tasks/{task.pk}/start/", {"version": task.version}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "in_progress"
    refused = client.post(f"/api/v1/tasks/{task.pk}/complete/", {"result": ""}, format="json")
    assert refused.status_code == 400 and list(refused.json()["fields"]) == ["result"]
    response = client.post(f"/api/v1/tasks/{task.pk}/complete/", {"result": "已办结"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "done"
    again = client.post(f"/api/v1/tasks/{task.pk}/start/", {}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "illegal_transition"


def test_the_unit_returns_a_task_with_a_reason(zone, api, task):
    client = api(zone.member)
    assert client.post(f"/api/v1/tasks/{task.pk}/return/", {}, format="json").status_code == 400
    response = client.post(f"/api/v1/tasks/{task.pk}/return/", {"reason": "不属于本专班职责"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "returned"


def test_the_unit_asks_for_an_extension(zone, api, task):
    client = api(zone.member)
    later = calendar.WorkingCalendar.load().next_working_day(task.due_on + timedelta(days=10)).isoformat()
    refused = client.post(f"/api/v1/tasks/{task.pk}/extend/", {"requested_due_on": "2020-01-01"}, format="json")
    assert refused.status_code == 400 and set(refused.json()["fields"]) == {"reason"}
    refused = client.post(
        f"/api/v1/tasks/{task.pk}/extend/", {"requested_due_on": "2020-01-01", "reason": "等待图纸"}, format="json"
    )
    assert refused.status_code == 400 and list(refused.json()["fields"]) == ["requested_due_on"]
    response = client.post(
        f"/api/v1/tasks/{task.pk}/extend/", {"requested_due_on": later, "reason": "等待图纸"}, format="json"
    )
    assert response.status_code == 200
    (extension,) = response.json()["extensions"]
    assert extension["status"] == "pending" and extension["requested_due_on"] == later
    twice = client.post(
        f"/api/v1/tasks/{task.pk}/extend/", {"requested_due_on": later, "reason": "等待图纸"}, format="json"
    )
    assert twice.status_code == 409 and Extension.objects.count() == 1


def test_the_enterprise_cannot_work_a_task(zone, api, task):
    response = api(zone.enterprise_user).post(f"/api/v1/tasks/{task.pk}/start/", {}, format="json")
    assert response.status_code == 403
    assert Task.objects.get(pk=task.pk).status == Task.Status.PENDING


def test_a_department_officer_of_another_unit_does_not_see_the_task(zone, api, task):
    client = api(zone.other_officer)
    assert client.get(f"/api/v1/tasks/{task.pk}/").status_code == 404
    assert client.post(f"/api/v1/tasks/{task.pk}/start/", {}, format="json").status_code == 404
    assert client.get("/api/v1/tasks/").json()["results"] == []


def test_task_detail_has_an_etag_and_if_match_guards_steps(zone, api, task):
    client = api(zone.member)
    response = client.get(f"/api/v1/tasks/{task.pk}/")
    assert response["ETag"] == f'"{task.version}"'
    stale = client.post(f"/api/v1/tasks/{task.pk}/start/", {}, format="json", HTTP_IF_MATCH='"999"')
    assert stale.status_code == 412
    assert Task.objects.get(pk=task.pk).status == Task.Status.PENDING


def test_task_filters_overdue_and_due_range(zone, api, task):
    Task.objects.filter(pk=task.pk).update(due_on=timezone.localdate() - timedelta(days=3))
    client = api(zone.member)
    assert [t["id"] for t in client.get("/api/v1/tasks/", {"overdue": "true"}).json()["results"]] == [task.pk]
    assert client.get("/api/v1/tasks/", {"overdue": "false"}).json()["results"] == []
    future = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert client.get("/api/v1/tasks/", {"due_after": future}).json()["results"] == []


# Files ---------------------------------------------------------------------------------------------------------


def test_upload_list_and_download_a_file(zone, api, task):
    client = api(zone.enterprise_user)
    url = f"/api/v1/cases/{task.case_id}/attachments/"
    upload = SimpleUploadedFile("规划许可申请表.pdf", PDF, content_type="application/pdf")
    response = client.post(url, {"file": upload}, format="multipart")
    assert response.status_code == 201, response.json()
    attachment = response.json()
    assert attachment["content_type"] == "application/pdf" and attachment["size"] == len(PDF)
    assert [a["id"] for a in client.get(url).json()] == [attachment["id"]]
    download = api(zone.member).get(attachment["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert "attachment" in download["Content-Disposition"]


def test_a_file_whose_content_is_not_what_its_name_says_is_refused(zone, api, task):
    upload = SimpleUploadedFile("说明.pdf", b"MZ\x90\x00 an executable", content_type="application/pdf")
    response = api(zone.enterprise_user).post(
        f"/api/v1/cases/{task.case_id}/attachments/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 400 and list(response.json()["fields"]) == ["file"]
    assert not Attachment.objects.exists()


def test_an_upload_without_a_file_names_the_field(zone, api, task):
    response = api(zone.enterprise_user).post(
        f"/api/v1/cases/{task.case_id}/attachments/", {"note": "x"}, format="multipart"
    )
    assert response.status_code == 400 and list(response.json()["fields"]) == ["file"]


def test_a_json_upload_is_an_unsupported_media_type(zone, api, task):
    response = api(zone.enterprise_user).post(
        f"/api/v1/cases/{task.case_id}/attachments/", {"file": "x"}, format="json"
    )
    assert response.status_code == 415 and response.json()["code"] == "unsupported_media_type"
