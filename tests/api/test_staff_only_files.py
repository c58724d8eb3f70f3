"""Over the API, an enterprise's token never lists or downloads the files kept to staff (404 like a missing file);
staff see every file, marked. Staff and integrations submit with the caller's name and phone and the new channels."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from services.cases import tasks as task_services
from tests.factories import PDF, case_at
from tracker.models import Case

pytestmark = pytest.mark.django_db


@pytest.fixture
def internal_reply(zone, private_media):
    case = case_at(zone, Case.Status.IN_PROGRESS)
    task = task_services.start_task(actor=zone.member, task=case.tasks.get())
    upload = SimpleUploadedFile("内部意见.pdf", PDF, content_type="application/pdf")
    task_services.complete_task(actor=zone.member, task=task, result="已核实", files=[upload])
    return case.attachments.get()


def test_the_enterprise_neither_lists_nor_downloads_a_staff_only_file(zone, api, internal_reply):
    url = f"/api/v1/cases/{internal_reply.case_id}/attachments/"
    client = api(zone.enterprise_user)
    assert client.get(url).json() == []
    assert client.get(f"{url}{internal_reply.pk}/").status_code == 404
    assert client.get(f"{url}{internal_reply.pk}/download/").status_code == 404


def test_staff_list_and_download_it_marked_with_its_task(zone, api, internal_reply):
    url = f"/api/v1/cases/{internal_reply.case_id}/attachments/"
    (listed,) = api(zone.concierge).get(url).json()
    assert listed["staff_only"] is True and listed["task"] == internal_reply.task_id
    download = api(zone.concierge).get(listed["download_url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF


def test_a_concierge_submits_a_phone_call_with_the_caller(zone, api):
    response = api(zone.concierge).post(
        "/api/v1/cases/",
        {
            "enterprise": zone.enterprise.pk,
            "category": zone.category.code,
            "title": "用电增容",
            "description": "企业来电反映。",
            "channel": "phone",
            "caller_name": "王经理",
            "caller_phone": "0512-57771234",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["channel"], body["caller_name"], body["caller_phone"]) == ("phone", "王经理", "0512-57771234")


def test_a_phone_call_without_the_callers_phone_is_refused_by_field(zone, api):
    response = api(zone.concierge).post(
        "/api/v1/cases/",
        {
            "enterprise": zone.enterprise.pk,
            "category": zone.category.code,
            "title": "用电增容",
            "description": "企业来电反映。",
            "channel": "walk_in",
            "caller_name": "王经理",
        },
        format="json",
    )
    assert response.status_code == 400 and set(response.json()["fields"]) == {"caller_phone"}
    assert Case.objects.count() == 0


def test_the_schema_describes_the_callers_fields(client, zone):
    schema = client.get("/api/schema/?format=json").json()["components"]["schemas"]
    assert {"caller_name", "caller_phone"} <= set(schema["CaseSubmitInputRequest"]["properties"])
    assert {"staff_only", "task"} <= set(schema["Attachment"]["properties"])
