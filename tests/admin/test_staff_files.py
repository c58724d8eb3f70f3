"""Files on the workbench's step forms: 办结 (a unit's task), 退回, 办结答复 and 补充材料 take several files, checked as
the portal's are; the case and task pages list them with who uploaded them, for which task, and which are kept to
staff."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from services.cases import tasks as task_services
from tests.factories import EXE, case_at, pdf
from tracker.models import Attachment, Case, Task

pytestmark = pytest.mark.django_db
CS = Case.Status


@pytest.fixture
def working_task(zone) -> Task:
    task = case_at(zone, CS.IN_PROGRESS).tasks.get()
    return task_services.start_task(actor=zone.member, task=task)


def _task_action(task, action):
    return reverse("admin:tracker_task_action", args=[task.pk, action])


def _case_action(case, action):
    return reverse("admin:tracker_case_action", args=[case.pk, action])


def test_the_step_forms_send_files(client, zone, working_task):
    client.force_login(zone.member)
    for action in ("complete", "return"):
        page = client.get(_task_action(working_task, action)).content.decode()
        assert 'enctype="multipart/form-data"' in page and 'type="file" name="files"' in page and "multiple" in page
    complete = client.get(_task_action(working_task, "complete")).content.decode()
    assert 'name="files_seen_by" value="staff"' in complete and "企业也可在门户中查看" in complete


def test_a_unit_completes_with_a_reply_letter_kept_to_staff(client, zone, private_media, working_task):
    # When the member completes the task with the reply letter, leaving who sees the files as offered
    client.force_login(zone.member)
    response = client.post(
        _task_action(working_task, "complete"),
        {"version": working_task.version, "result": "已出具复函", "files": [pdf("复函.pdf"), pdf("承诺函.pdf")]},
    )
    assert response.status_code == 302
    # Then the task is done and both files are kept on it, for staff only
    assert Task.objects.get(pk=working_task.pk).status == Task.Status.DONE
    assert {(a.original_name, a.task_id, a.staff_only) for a in Attachment.objects.all()} == {
        ("复函.pdf", working_task.pk, True),
        ("承诺函.pdf", working_task.pk, True),
    }
    # And the concierge sees them on the case page: who uploaded them, for which task, kept to staff
    client.force_login(zone.concierge)
    page = client.get(reverse("admin:tracker_case_change", args=[working_task.case_id])).content.decode()
    panel = page[page.index('data-role="attachments"') :]
    assert "复函.pdf" in panel and "周八" in panel and f"事项“{working_task.title}”" in panel
    assert panel.count("仅工作人员可见") >= 2
    # And on the task page
    page = client.get(reverse("admin:tracker_task_change", args=[working_task.pk])).content.decode()
    assert "承诺函.pdf" in page[page.index('data-role="attachments"') :]


def test_a_unit_may_share_its_files_with_the_enterprise(client, zone, private_media, working_task):
    client.force_login(zone.member)
    client.post(
        _task_action(working_task, "complete"),
        {
            "version": working_task.version,
            "result": "已批复",
            "files": [pdf("批复.pdf")],
            "files_seen_by": "enterprise",
        },
    )
    assert Attachment.objects.get().staff_only is False


def test_a_bad_file_is_named_on_the_field_and_the_step_not_taken(client, zone, private_media, working_task):
    client.force_login(zone.member)
    program = SimpleUploadedFile("退回说明.pdf", EXE, content_type="application/pdf")
    response = client.post(
        _task_action(working_task, "return"),
        {"version": working_task.version, "reason": "材料不全", "files": [program]},
    )
    assert response.status_code == 200
    assert "退回说明.pdf" in " ".join(response.context["form"].errors["files"])
    assert Task.objects.get(pk=working_task.pk).status == Task.Status.IN_PROGRESS and Attachment.objects.count() == 0


def test_a_return_keeps_its_papers_with_staff(client, zone, private_media, working_task):
    client.force_login(zone.member)
    client.post(
        _task_action(working_task, "return"),
        {"version": working_task.version, "reason": "不属本专班职责", "files": [pdf("职责分工.pdf")]},
    )
    attachment = Attachment.objects.get()
    assert attachment.staff_only is True and attachment.task_id == working_task.pk


def test_the_concierge_answers_and_adds_files_the_enterprise_sees(client, zone, private_media):
    case = case_at(zone, CS.ACCEPTED)
    client.force_login(zone.concierge)
    client.post(_case_action(case, "add_info"), {"note": "", "files": [pdf("政策原文.pdf")]})
    client.post(
        _case_action(case, "resolve"),
        {"version": Case.objects.get(pk=case.pk).version, "answer": "已答复，见复函", "files": [pdf("复函.pdf")]},
    )
    assert Case.objects.get(pk=case.pk).status == CS.RESOLVED
    assert {(a.original_name, a.staff_only, a.task_id) for a in Attachment.objects.all()} == {
        ("政策原文.pdf", False, None),
        ("复函.pdf", False, None),
    }
    page = client.get(reverse("admin:tracker_case_change", args=[case.pk])).content.decode()
    assert "仅工作人员可见" not in page[page.index('data-role="attachments"') :]
