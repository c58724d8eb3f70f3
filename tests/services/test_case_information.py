"""Information going both ways on a case: the concierge asks for it (services/cases/steps.py request_case_info), the
enterprise submits a case with its files or adds a note and files later (services/cases/attachments.py), all or
nothing; and what the enterprise reads of it on the timeline (services/selectors.py, services/cases/timeline.py)."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from services.cases import attachments as attachment_services
from services.cases import steps as case_services
from services.cases import tasks as task_services
from services.cases.attachments import add_case_information, submit_case_with_files
from services.cases.files import check_upload
from services.cases.timeline import describe_event
from services.errors import IllegalTransition, InvalidInput, NotFound, NotPermitted
from services.selectors import timeline_for
from tests.factories import PDF, PNG, case_at, events_since, pdf, png, run_task_action, snapshot
from tracker.models import Attachment, Case, CaseEvent, Notification

CS = Case.Status
Kind = CaseEvent.Kind
NOT_A_PDF = b"MZ\x90\x00 an executable renamed"


def _stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def _case_fields(zone, **overrides) -> dict:
    return {
        "enterprise": zone.enterprise,
        "category": zone.category,
        "title": "厂房扩建审批进度咨询",
        "description": "企业新厂房扩建，规划许可尚未批复，希望协调加快。",
        **overrides,
    }


# ---- the concierge asks for information ------------------------------------------------------------------


@pytest.mark.parametrize("status", [CS.SUBMITTED, CS.ACCEPTED, CS.IN_PROGRESS])
@pytest.mark.parametrize("who", ["concierge", "backup", "leader"])
def test_the_concierge_asks_an_open_case_for_information(zone, status, who):
    # Given an open case
    case = case_at(zone, status)
    before = snapshot(case)
    actor = getattr(zone, who)

    # When its concierge (or the backup, or a leader) asks the enterprise for a document
    case_services.request_case_info(actor=actor, case=case, note="  请上传规划许可申请表  ")

    # Then the case stays where it is and its timeline gains the request, in the asker's words, and the pause
    # of its clocks while the enterprise is awaited (services/cases/clocks.py)
    after = snapshot(case)
    assert after.status == status and after.version == before.version + 2
    assert [(e.kind, e.actor, e.note, e.from_status, e.to_status) for e in events_since(case, before)] == [
        (Kind.INFO_REQUESTED, actor, "请上传规划许可申请表", "", ""),
        (Kind.CLOCK_PAUSED, actor, "请上传规划许可申请表", "", ""),
    ]
    # And the enterprise is told what is asked
    notice = Notification.objects.get(recipient=zone.enterprise_user, kind=Notification.Kind.INFO_REQUESTED)
    assert (notice.case_id, notice.note) == (case.pk, "请上传规划许可申请表")


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("other_concierge", NotFound),  # cannot see the case at all
        ("member", NotPermitted),  # sees it through its task, but is not its concierge
        ("enterprise_user", NotPermitted),
        ("other_enterprise_user", NotFound),
    ],
)
def test_only_those_handling_the_case_may_ask_for_information(zone, who, error):
    # Given a case in progress
    case = case_at(zone, CS.IN_PROGRESS)
    before = snapshot(case)
    # When someone not handling it asks the enterprise for information
    with pytest.raises(error):
        case_services.request_case_info(actor=getattr(zone, who), case=case, note="请补充材料")
    # Then nothing is written and nobody is told
    assert snapshot(case) == before
    assert not Notification.objects.filter(kind=Notification.Kind.INFO_REQUESTED).exists()


@pytest.mark.parametrize("status", [CS.RESOLVED, CS.CLOSED, CS.DECLINED, CS.WITHDRAWN])
def test_a_case_no_longer_open_cannot_be_asked_for_information(zone, status):
    case = case_at(zone, status)
    before = snapshot(case)
    with pytest.raises(IllegalTransition) as refused:
        case_services.request_case_info(actor=zone.concierge, case=case, note="请补充材料")
    assert refused.value.current == status and "request_info" not in refused.value.allowed
    assert snapshot(case) == before
    assert not Notification.objects.filter(kind=Notification.Kind.INFO_REQUESTED).exists()


@pytest.mark.parametrize("note", ["", "   ", None])
def test_a_request_for_information_must_say_what_is_asked(zone, note):
    case = case_at(zone, CS.ACCEPTED)
    before = snapshot(case)
    with pytest.raises(InvalidInput) as refused:
        case_services.request_case_info(actor=zone.concierge, case=case, note=note)
    assert list(refused.value.fields) == ["note"]
    assert snapshot(case) == before


# ---- checking one upload ---------------------------------------------------------------------------------


def test_check_upload_gives_the_clean_name_type_and_size_and_rewinds():
    # Given a PDF whose name carries a path
    upload = SimpleUploadedFile("../../etc/申请表.pdf", PDF)
    upload.read(3)
    # When it is checked
    checked = check_upload(upload)
    # Then the name is the file's own, the type comes from its content, and the file is read from the start
    assert checked == ("申请表.pdf", "application/pdf", len(PDF))
    assert upload.tell() == 0
    assert check_upload(png(), "照片.PNG") == ("照片.PNG", "image/png", len(PNG))


@pytest.mark.parametrize(
    ("upload", "limit"),
    [
        (SimpleUploadedFile("空.pdf", b""), None),
        (SimpleUploadedFile("大.pdf", PDF + b"%" + b"0" * 2048), 1024),
        (SimpleUploadedFile("假.pdf", NOT_A_PDF), None),
        (SimpleUploadedFile("照片.png", PDF), None),
    ],
    ids=["empty", "too-large", "not-a-pdf", "pdf-named-png"],
)
def test_check_upload_refuses_on_the_field_it_is_given(settings, upload, limit):
    if limit:
        settings.ATTACHMENT_MAX_BYTES = limit
    with pytest.raises(InvalidInput) as refused:
        check_upload(upload, field="files")
    assert list(refused.value.fields) == ["files"]
    assert upload.name in refused.value.fields["files"][0]


# ---- submitting a case with its files --------------------------------------------------------------------


def test_a_case_is_submitted_with_its_files(zone, private_media):
    # When the enterprise submits a case with a PDF and a photo
    case = submit_case_with_files(actor=zone.enterprise_user, uploads=[pdf(), png()], **_case_fields(zone))

    # Then the case is open with both files stored privately, byte for byte
    case = Case.objects.get(pk=case.pk)
    assert case.status == CS.SUBMITTED and case.submitted_by == zone.enterprise_user
    stored = list(case.attachments.order_by("id"))
    assert [(a.original_name, a.content_type, a.uploaded_by) for a in stored] == [
        ("规划许可申请表.pdf", "application/pdf", zone.enterprise_user),
        ("现场照片.png", "image/png", zone.enterprise_user),
    ]
    assert [Path(a.file.path).read_bytes() for a in stored] == [PDF, PNG]
    assert len(_stored_files(private_media)) == 2
    # And the timeline shows the submission, then each file
    events = list(case.events.order_by("id"))
    assert [(e.kind, e.data.get("file")) for e in events] == [
        (Kind.SUBMITTED, None),
        (Kind.INFO_ADDED, "规划许可申请表.pdf"),
        (Kind.INFO_ADDED, "现场照片.png"),
    ]
    assert case.version == Case._meta.get_field("version").default + len(events)


def test_a_case_may_be_submitted_without_files(zone, private_media):
    case = submit_case_with_files(actor=zone.enterprise_user, **_case_fields(zone))
    assert Case.objects.filter(pk=case.pk, status=CS.SUBMITTED).exists()
    assert not Attachment.objects.exists() and _stored_files(private_media) == []


def _assert_nothing_written(private_media: Path) -> None:
    assert not Case.objects.exists()
    assert not CaseEvent.objects.exists()
    assert not Attachment.objects.exists()
    assert _stored_files(private_media) == []


def test_bad_fields_and_bad_files_are_reported_together_and_nothing_is_written(zone, private_media):
    # Given a case with no title, a good PDF, and two files that are not what their names say
    uploads = [pdf(), SimpleUploadedFile("假.pdf", NOT_A_PDF), SimpleUploadedFile("照片.png", PDF)]

    # When the enterprise submits it
    with pytest.raises(InvalidInput) as refused:
        submit_case_with_files(actor=zone.enterprise_user, uploads=uploads, **_case_fields(zone, title="  "))

    # Then the title and both bad files are named at once
    fields = refused.value.fields
    assert set(fields) == {"title", "files"}
    assert len(fields["files"]) == 2
    assert "假.pdf" in fields["files"][0] and "照片.png" in fields["files"][1]
    # And nothing is written: no case, no event, no attachment, no file on disk
    _assert_nothing_written(private_media)


def test_one_bad_file_keeps_a_good_case_from_being_written(zone, private_media):
    # Given good fields, a good PDF, and an empty file
    uploads = [pdf(), SimpleUploadedFile("空.pdf", b"")]

    # When the enterprise submits them
    with pytest.raises(InvalidInput) as refused:
        submit_case_with_files(actor=zone.enterprise_user, uploads=uploads, **_case_fields(zone))

    # Then only the file is named, and nothing is written
    assert list(refused.value.fields) == ["files"]
    _assert_nothing_written(private_media)
    # And no case number was used up: the next case takes the first one of the year
    case = submit_case_with_files(actor=zone.enterprise_user, uploads=[pdf()], **_case_fields(zone))
    assert case.number.endswith("-000001")


def test_more_files_than_a_case_may_hold_are_refused(zone, private_media, settings):
    # Given a limit of two files per case
    settings.ATTACHMENT_MAX_PER_CASE = 2

    # When the enterprise submits a case with three good files
    with pytest.raises(InvalidInput) as refused:
        submit_case_with_files(
            actor=zone.enterprise_user, uploads=[pdf(), png(), pdf("补充.pdf")], **_case_fields(zone)
        )

    # Then the files are refused, saying how many are allowed, and nothing is written
    assert list(refused.value.fields) == ["files"]
    assert "2" in refused.value.fields["files"][0]
    _assert_nothing_written(private_media)
    # And two are fine
    case = submit_case_with_files(actor=zone.enterprise_user, uploads=[pdf(), png()], **_case_fields(zone))
    assert case.attachments.count() == 2


def test_an_enterprise_cannot_submit_for_another(zone, private_media):
    with pytest.raises(NotFound):
        submit_case_with_files(
            actor=zone.enterprise_user, uploads=[pdf()], **_case_fields(zone, enterprise=zone.other_enterprise)
        )
    _assert_nothing_written(private_media)


# ---- adding information to a case ------------------------------------------------------------------------


def test_the_enterprise_adds_a_note(zone, private_media):
    case = case_at(zone, CS.IN_PROGRESS)
    before = snapshot(case)
    add_case_information(actor=zone.enterprise_user, case=case, note="  规划许可申请已于上周提交  ")
    assert [(e.kind, e.actor, e.note) for e in events_since(case, before)] == [
        (Kind.INFO_ADDED, zone.enterprise_user, "规划许可申请已于上周提交")
    ]
    assert snapshot(case).attachments == 0


def test_the_enterprise_adds_a_note_and_files_together(zone, private_media):
    # Given a case the concierge asked for documents
    case = case_at(zone, CS.ACCEPTED)
    case_services.request_case_info(actor=zone.concierge, case=case, note="请上传规划许可申请表和现场照片")
    before = snapshot(case)

    # When the enterprise answers with a note and two files
    add_case_information(actor=zone.enterprise_user, case=case, note="已上传两份材料", uploads=[pdf(), png()])

    # Then the timeline gains the note, then each file, and both files are stored; then, the whole answer in,
    # the case's clocks run again (services/cases/clocks.py)
    assert [(e.kind, e.note, e.data.get("file")) for e in events_since(case, before)] == [
        (Kind.INFO_ADDED, "已上传两份材料", None),
        (Kind.INFO_ADDED, "", "规划许可申请表.pdf"),
        (Kind.INFO_ADDED, "", "现场照片.png"),
        (Kind.CLOCK_RESUMED, "", None),
    ]
    after = snapshot(case)
    assert after.attachments == 2 and after.version == before.version + 4 and after.status == CS.ACCEPTED
    assert len(_stored_files(private_media)) == 2


def test_files_alone_are_enough_and_staff_handling_the_case_may_add_them(zone, private_media):
    case = case_at(zone, CS.RESOLVED)
    add_case_information(actor=zone.concierge, case=case, uploads=[png()])
    assert list(case.attachments.values_list("original_name", "uploaded_by")) == [("现场照片.png", zone.concierge.pk)]


@pytest.mark.parametrize("note", ["", "   ", None])
def test_neither_a_note_nor_a_file_is_refused(zone, private_media, note):
    case = case_at(zone, CS.SUBMITTED)
    before = snapshot(case)
    with pytest.raises(InvalidInput) as refused:
        add_case_information(actor=zone.enterprise_user, case=case, note=note, uploads=[])
    assert list(refused.value.fields) == ["note"]
    assert snapshot(case) == before


@pytest.mark.parametrize("status", [CS.CLOSED, CS.DECLINED, CS.WITHDRAWN])
def test_a_finished_case_takes_no_more_information(zone, private_media, status):
    case = case_at(zone, status)
    before = snapshot(case)
    with pytest.raises(IllegalTransition):
        add_case_information(actor=zone.enterprise_user, case=case, note="补充说明", uploads=[pdf()])
    assert snapshot(case) == before and _stored_files(private_media) == []


@pytest.mark.parametrize(
    ("who", "error"), [("other_enterprise_user", NotFound), ("other_concierge", NotFound), ("member", NotPermitted)]
)
def test_only_the_enterprise_and_its_staff_may_add_information(zone, private_media, who, error):
    case = case_at(zone, CS.IN_PROGRESS)
    before = snapshot(case)
    with pytest.raises(error):
        add_case_information(actor=getattr(zone, who), case=case, note="补充说明", uploads=[pdf()])
    assert snapshot(case) == before and _stored_files(private_media) == []


def test_a_bad_second_file_keeps_the_note_and_the_first_file_out(zone, private_media):
    # Given an open case
    case = case_at(zone, CS.IN_PROGRESS)
    before = snapshot(case)

    # When the enterprise adds a note, a good PDF and a second file that is not a PDF
    with pytest.raises(InvalidInput) as refused:
        add_case_information(
            actor=zone.enterprise_user,
            case=case,
            note="补充说明",
            uploads=[pdf(), SimpleUploadedFile("假.pdf", NOT_A_PDF)],
        )

    # Then the bad file is named, and nothing is written: no note, no attachment, no file on disk
    assert list(refused.value.fields) == ["files"] and "假.pdf" in refused.value.fields["files"][0]
    assert snapshot(case) == before
    assert _stored_files(private_media) == []


def test_a_note_too_long_and_a_bad_file_are_reported_together(zone, private_media):
    case = case_at(zone, CS.IN_PROGRESS)
    before = snapshot(case)
    with pytest.raises(InvalidInput) as refused:
        add_case_information(
            actor=zone.enterprise_user, case=case, note="长" * 5001, uploads=[SimpleUploadedFile("空.png", b"")]
        )
    assert set(refused.value.fields) == {"note", "files"}
    assert snapshot(case) == before


def test_files_beyond_what_the_case_may_hold_are_refused(zone, private_media, settings):
    # Given a limit of two files per case, one already used
    settings.ATTACHMENT_MAX_PER_CASE = 2
    case = case_at(zone, CS.SUBMITTED)
    add_case_information(actor=zone.enterprise_user, case=case, uploads=[pdf()])
    before = snapshot(case)
    # When the enterprise adds two more
    with pytest.raises(InvalidInput) as refused:
        add_case_information(actor=zone.enterprise_user, case=case, note="再补两份", uploads=[pdf("二.pdf"), png()])
    # Then they are refused, and the case keeps its one file
    assert list(refused.value.fields) == ["files"]
    assert snapshot(case) == before and len(_stored_files(private_media)) == 1


def test_a_file_that_fails_while_being_stored_takes_the_earlier_ones_with_it(zone, private_media, monkeypatch):
    # Given an open case, and a fault when the second file's event is recorded (after both files were checked
    # and the first one stored)
    case = case_at(zone, CS.IN_PROGRESS)
    before = snapshot(case)
    real = attachment_services.record_event
    calls = []

    def failing_on_the_second_file(**kwargs):
        calls.append(kwargs["data"]["file"])
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real(**kwargs)

    monkeypatch.setattr(attachment_services, "record_event", failing_on_the_second_file)

    # When the enterprise adds a note and two files
    with pytest.raises(RuntimeError):
        add_case_information(actor=zone.enterprise_user, case=case, note="补充说明", uploads=[pdf(), png()])

    # Then both files were on their way, and neither the rows nor the files on disk remain
    assert calls == ["规划许可申请表.pdf", "现场照片.png"]
    assert snapshot(case) == before
    assert _stored_files(private_media) == []


# ---- what the timeline says ------------------------------------------------------------------------------


def test_the_timeline_says_who_asked_for_what_and_which_file_was_uploaded(zone, private_media):
    # Given a case the concierge asked for a document, answered with a note and a file
    case = case_at(zone, CS.ACCEPTED)
    before = snapshot(case)
    case_services.request_case_info(actor=zone.concierge, case=case, note="请上传规划许可申请表")
    add_case_information(actor=zone.enterprise_user, case=case, note="已上传", uploads=[pdf()])

    # Then each step reads as a sentence naming the person and what they asked or sent
    who = zone.enterprise_user.display_name
    assert [describe_event(e) for e in events_since(case, before)] == [
        "张三 请企业补充材料：请上传规划许可申请表",
        "张三 将诉求挂起，办理时限暂停，等待企业补充材料",
        f"{who} 补充了材料",
        f"{who} 上传了附件 规划许可申请表.pdf",
        "企业补充了材料，恢复计时",
    ]


def test_the_enterprise_does_not_see_the_units_internal_exchanges(zone):
    # Given a case whose task was handed back, re-dispatched, and then given a deadline extension request that
    # was refused, and whose concierge asked the enterprise for information
    case = case_at(zone, CS.IN_PROGRESS)
    task = case.tasks.get()
    run_task_action(zone, "return", task)
    run_task_action(zone, "redispatch", task)
    task.refresh_from_db()
    extension = task_services.request_extension(
        actor=zone.officer, task=task, requested_due_on=task.due_on + timedelta(days=10), reason="需补充勘测"
    )
    task_services.reject_extension(actor=zone.leader, extension=extension, note="请按期办结")
    case_services.request_case_info(actor=zone.concierge, case=case, note="请上传规划许可申请表")

    # When the enterprise and the concierge read the timeline
    seen_by_enterprise = [e.kind for e in timeline_for(zone.enterprise_user, case)]
    seen_by_staff = [e.kind for e in timeline_for(zone.concierge, case)]

    # Then the staff see every step, and the enterprise the steps taken for it, the request included
    internal = [Kind.TASK_RETURNED, Kind.TASK_REDISPATCHED, Kind.EXTENSION_REQUESTED, Kind.EXTENSION_REJECTED]
    assert seen_by_staff == [
        Kind.SUBMITTED,
        Kind.ACCEPTED,
        Kind.DECOMPOSED,
        Kind.TASK_CREATED,
        *internal,
        Kind.INFO_REQUESTED,
        Kind.CLOCK_PAUSED,
    ]
    assert seen_by_enterprise == [k for k in seen_by_staff if k not in internal]


def test_the_case_handed_back_is_the_case_as_written(zone, private_media):
    # Given a case submitted with a file, then given a note and another file
    submitted = submit_case_with_files(actor=zone.enterprise_user, uploads=[pdf()], **_case_fields(zone))
    fresh = Case.objects.get(pk=submitted.pk)
    assert (submitted.version, submitted.updated_at) == (fresh.version, fresh.updated_at)
    added = add_case_information(actor=zone.enterprise_user, case=submitted.pk, note="补充说明", uploads=[png()])
    # Then each call hands back the case with the version a later conditional step must name
    fresh = Case.objects.get(pk=submitted.pk)
    assert (added.version, added.updated_at) == (fresh.version, fresh.updated_at)
