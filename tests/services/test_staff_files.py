"""Files staff attach to their steps (办结, 退回, 办结答复, 补充材料) and cases staff register (登记诉求): checked
as the portal's are, stored in the step's transaction, kept to staff where they are a unit's internal reply; the
caller's name and phone on a registered case; the enterprise told when a case is filed for it."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from services.cases import steps as case_services
from services.cases import tasks as task_services
from services.cases.attachments import submit_case_with_files
from services.cases.tasks import TaskSpec
from services.errors import InvalidInput, NotFound
from services.selectors import attachments_visible_to
from tests.factories import EXE, PDF, case_at
from tracker.models import Attachment, Case, CaseEvent, Notification, Task

pytestmark = pytest.mark.django_db
CS = Case.Status
TS = Task.Status


def pdf(name: str = "复函.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def fake_pdf(name: str = "承诺函.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, EXE, content_type="application/pdf")


def _stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


@pytest.fixture
def working_task(zone) -> Task:
    """A task the task force has signed for."""
    case = case_at(zone, CS.ACCEPTED)
    (task,) = task_services.decompose_case(
        actor=zone.concierge, case=case, tasks=[TaskSpec(title="协调供电增容", task_force=zone.task_force)]
    )
    return task_services.start_task(actor=zone.member, task=task)


# ---- task files: 办结 and 退回 ---------------------------------------------------------------------------------


def test_a_unit_completes_a_task_with_its_reply_kept_to_staff(zone, private_media, working_task):
    # When the task force member completes the task with the reply letter
    task_services.complete_task(actor=zone.member, task=working_task, result="已出具复函", files=[pdf()])
    # Then the file is kept on the case and the task, by the member, for staff only
    (attachment,) = Attachment.objects.all()
    assert (attachment.case_id, attachment.task_id, attachment.uploaded_by) == (
        working_task.case_id,
        working_task.pk,
        zone.member,
    )
    assert attachment.staff_only is True and attachment.original_name == "复函.pdf"
    assert Path(attachment.file.path).read_bytes() == PDF
    # And the completion's event names it
    event = CaseEvent.objects.get(kind=CaseEvent.Kind.TASK_COMPLETED)
    assert event.data["files"] == ["复函.pdf"]
    # And staff see it, the enterprise does not
    case = working_task.case
    assert list(attachments_visible_to(zone.concierge, case)) == [attachment]
    assert list(attachments_visible_to(zone.enterprise_user, case)) == []


def test_a_unit_may_share_its_completion_files_with_the_enterprise(zone, private_media, working_task):
    task_services.complete_task(
        actor=zone.member, task=working_task, result="已批复", files=[pdf("批复.pdf")], staff_only=False
    )
    (attachment,) = Attachment.objects.all()
    assert attachment.staff_only is False and attachment.task_id == working_task.pk
    assert list(attachments_visible_to(zone.enterprise_user, working_task.case)) == [attachment]


def test_the_papers_of_a_return_stay_with_staff(zone, private_media, working_task):
    task_services.return_task(
        actor=zone.member, task=working_task, reason="不属本专班职责", files=[pdf("职责说明.pdf")]
    )
    (attachment,) = Attachment.objects.all()
    assert attachment.staff_only is True and attachment.task_id == working_task.pk
    assert Task.objects.get(pk=working_task.pk).status == TS.RETURNED
    assert list(attachments_visible_to(zone.enterprise_user, working_task.case)) == []


def test_a_bad_file_refuses_the_completion_and_writes_nothing(zone, private_media, working_task):
    # When the member completes the task with a good file and a program renamed .pdf, and no result
    with pytest.raises(InvalidInput) as refused:
        task_services.complete_task(actor=zone.member, task=working_task, result="", files=[pdf(), fake_pdf()])
    # Then both problems are named on their fields
    assert set(refused.value.fields) == {"result", "files"}
    assert "承诺函.pdf" in refused.value.fields["files"][0]
    # And nothing was written: the task is still being worked, no file row, nothing on disk
    assert Task.objects.get(pk=working_task.pk).status == TS.IN_PROGRESS
    assert Attachment.objects.count() == 0 and _stored_files(private_media) == []
    assert not CaseEvent.objects.filter(kind=CaseEvent.Kind.TASK_COMPLETED).exists()


def test_the_case_file_limit_counts_the_units_files(zone, private_media, working_task, settings):
    settings.ATTACHMENT_MAX_PER_CASE = 2
    with pytest.raises(InvalidInput) as refused:
        task_services.return_task(
            actor=zone.member, task=working_task, reason="材料不全", files=[pdf("1.pdf"), pdf("2.pdf"), pdf("3.pdf")]
        )
    assert "最多上传2个附件" in refused.value.fields["files"][0]
    assert Task.objects.get(pk=working_task.pk).status == TS.IN_PROGRESS and Attachment.objects.count() == 0


# ---- case files: 办结答复 and 补充材料 ---------------------------------------------------------------------------


def test_the_answer_carries_files_the_enterprise_sees(zone, private_media):
    case = case_at(zone, CS.ACCEPTED)
    case_services.resolve_case(actor=zone.concierge, case=case, answer="已协调解决，复函见附件", files=[pdf()])
    (attachment,) = Attachment.objects.all()
    assert (attachment.staff_only, attachment.task_id, attachment.uploaded_by) == (False, None, zone.concierge)
    assert Case.objects.get(pk=case.pk).status == CS.RESOLVED
    assert CaseEvent.objects.get(kind=CaseEvent.Kind.RESOLVED).data["files"] == ["复函.pdf"]
    assert list(attachments_visible_to(zone.enterprise_user, case)) == [attachment]


def test_a_refused_answer_keeps_no_file(zone, private_media):
    case = case_at(zone, CS.ACCEPTED)
    with pytest.raises(InvalidInput) as refused:
        case_services.resolve_case(actor=zone.concierge, case=case, answer="  ", files=[fake_pdf()])
    assert set(refused.value.fields) == {"answer", "files"}
    assert Case.objects.get(pk=case.pk).status == CS.ACCEPTED
    assert Attachment.objects.count() == 0 and _stored_files(private_media) == []


def test_staff_add_files_without_a_note_in_one_event(zone, private_media):
    case = case_at(zone, CS.ACCEPTED)
    before = case.events.count()
    case_services.add_case_info(actor=zone.concierge, case=case, note="", files=[pdf("政策文件.pdf"), pdf("图纸.pdf")])
    assert [a.original_name for a in attachments_visible_to(zone.enterprise_user, case)] == ["政策文件.pdf", "图纸.pdf"]
    (event,) = case.events.all()[before:]
    assert event.kind == CaseEvent.Kind.INFO_ADDED and event.data["files"] == ["政策文件.pdf", "图纸.pdf"]


def test_adding_nothing_is_refused_on_the_note(zone):
    case = case_at(zone, CS.ACCEPTED)
    with pytest.raises(InvalidInput) as refused:
        case_services.add_case_info(actor=zone.concierge, case=case, note=" ")
    assert set(refused.value.fields) == {"note"}


# ---- registering a case for an enterprise (登记诉求) ---------------------------------------------------------------


def _register(zone, actor=None, **fields):
    values = {
        "actor": actor or zone.concierge,
        "enterprise": zone.enterprise,
        "category": zone.category,
        "title": "新厂房用电增容",
        "description": "企业来电：新厂房投产在即，需增容至 2000 千伏安。",
        "channel": Case.Channel.PHONE,
        "caller_name": "王经理",
        "caller_phone": "0512-5777 1234",
    }
    values.update(fields)
    return case_services.submit_case(**values)


def test_a_concierge_registers_a_phone_call_with_the_callers_name_and_phone(zone):
    case = _register(zone)
    assert (case.channel, case.caller_name, case.caller_phone) == (Case.Channel.PHONE, "王经理", "0512-5777 1234")
    assert case.submitted_by == zone.concierge and case.status == CS.SUBMITTED
    # And the enterprise's user is told that a case was filed for it
    assert list(Notification.objects.filter(recipient=zone.enterprise_user).values_list("kind", "case")) == [
        (Notification.Kind.CASE_FILED, case.pk)
    ]


@pytest.mark.parametrize("phone", ["13812345678", "+86 138 1234 5678", "0512-57771234", "57771234", "(0512)57771234"])
def test_phone_numbers_as_people_write_them_are_accepted(zone, phone):
    assert _register(zone, caller_phone=phone).caller_phone == phone


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"caller_name": "", "caller_phone": ""}, {"caller_name", "caller_phone"}),
        ({"caller_phone": "1381234567"}, {"caller_phone"}),  # a mobile number one digit short
        ({"caller_phone": "王经理手机"}, {"caller_phone"}),
        ({"channel": Case.Channel.WALK_IN, "caller_name": " "}, {"caller_name"}),
        ({"channel": Case.Channel.PORTAL}, {"channel"}),  # staff do not submit through the portal
        ({"caller_name": "王" * 51}, {"caller_name"}),
    ],
)
def test_bad_caller_details_are_refused_by_field_and_nothing_is_written(zone, fields, named):
    with pytest.raises(InvalidInput) as refused:
        _register(zone, **fields)
    assert set(refused.value.fields) == named
    assert Case.objects.count() == 0 and Notification.objects.count() == 0


def test_a_hotline_order_may_come_without_the_callers_details(zone):
    case = _register(zone, channel=Case.Channel.HOTLINE, caller_name="", caller_phone="")
    assert case.channel == Case.Channel.HOTLINE and case.caller_phone == ""


def test_the_hotline_integration_cannot_register_a_phone_call(zone):
    with pytest.raises(InvalidInput) as refused:
        _register(zone, actor=zone.integration)
    assert set(refused.value.fields) == {"channel"}


def test_a_concierge_cannot_register_for_an_enterprise_not_linked_to_them(zone):
    with pytest.raises(NotFound):
        _register(zone, enterprise=zone.other_enterprise)
    assert Case.objects.count() == 0


def test_a_registration_with_a_bad_file_writes_nothing(zone, private_media):
    with pytest.raises(InvalidInput) as refused:
        submit_case_with_files(
            actor=zone.concierge,
            enterprise=zone.enterprise,
            category=zone.category,
            title="用电增容",
            description="企业来电反映。",
            channel=Case.Channel.PHONE,
            caller_name="王经理",
            caller_phone="1381234",
            uploads=[pdf(), fake_pdf()],
        )
    assert set(refused.value.fields) == {"caller_phone", "files"}
    assert Case.objects.count() == 0 and Attachment.objects.count() == 0 and _stored_files(private_media) == []
    assert Notification.objects.count() == 0


def test_the_timeline_says_who_registered_the_case_and_from_where(zone):
    from services.cases.timeline import describe_event

    case = _register(zone, channel=Case.Channel.WALK_IN)
    assert describe_event(case.events.get(kind=CaseEvent.Kind.SUBMITTED)) == "张三 登记了诉求（来访）"
