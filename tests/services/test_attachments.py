"""Files on a case (services/cases/attachments.py): checked by content, limited in size and count, stored privately."""

import contextlib
import hashlib
import io
import os
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from services.cases.attachments import add_attachment
from services.errors import IllegalTransition, InvalidInput, NotFound, NotPermitted
from tests.factories import EXE, PDF, PNG, case_at, events_since, snapshot
from tracker.models import Attachment, Case, CaseEvent

CS = Case.Status


def _stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


@pytest.mark.parametrize(
    ("name", "content", "content_type", "who"),
    [
        ("规划许可申请表.pdf", PDF, "application/pdf", "enterprise_user"),
        ("现场照片.PNG", PNG, "image/png", "concierge"),
    ],
)
def test_a_real_file_is_stored_privately_with_its_name_and_digest(
    zone, private_media, name, content, content_type, who
):
    # Given a submitted case
    case = case_at(zone, CS.SUBMITTED)
    before = snapshot(case)
    actor = getattr(zone, who)

    # When the enterprise (or its concierge) uploads a real file
    attachment = add_attachment(actor=actor, case=case, upload=SimpleUploadedFile(name, content))

    # Then the file is kept under the private media root, byte for byte, under a name that is not the user's
    path = Path(attachment.file.path)
    assert path.is_relative_to(private_media) and path.read_bytes() == content
    assert name not in str(path)
    attachment.refresh_from_db()
    assert (attachment.original_name, attachment.size, attachment.content_type, attachment.uploaded_by) == (
        name,
        len(content),
        content_type,
        actor,
    )
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    # And the timeline says information was added, naming the file
    events = events_since(case, before)
    assert [(e.kind, e.actor, e.data["file"], e.data["attachment"]) for e in events] == [
        (CaseEvent.Kind.INFO_ADDED, actor, name, attachment.pk)
    ]
    assert snapshot(case).version == before.version + 1


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("规划许可申请表.pdf", EXE),  # an executable renamed
        ("照片.png", PDF),  # a real file under the wrong extension
        ("说明.pdf", b"just some text, not a PDF"),
        ("tool.exe", EXE),  # a type not allowed at all
        ("无扩展名", PDF),
    ],
    ids=["exe-as-pdf", "pdf-as-png", "text-as-pdf", "exe", "no-extension"],
)
def test_a_file_whose_content_does_not_match_an_allowed_type_is_refused(zone, private_media, name, content):
    # Given a submitted case
    case = case_at(zone, CS.SUBMITTED)
    before = snapshot(case)
    # When the enterprise uploads it
    with pytest.raises(InvalidInput) as refused:
        add_attachment(actor=zone.enterprise_user, case=case, upload=SimpleUploadedFile(name, content))
    # Then the file field is named, nothing is recorded, and nothing is left on disk
    assert list(refused.value.fields) == ["file"]
    assert snapshot(case) == before
    assert _stored_files(private_media) == []


def test_an_empty_file_is_refused(zone, private_media):
    case = case_at(zone, CS.SUBMITTED)
    with pytest.raises(InvalidInput) as refused:
        add_attachment(actor=zone.enterprise_user, case=case, upload=SimpleUploadedFile("空.pdf", b""))
    assert list(refused.value.fields) == ["file"]
    assert not Attachment.objects.exists()


def test_a_file_over_the_size_limit_is_refused(zone, private_media, settings):
    # Given a limit of 1 KB per file
    settings.ATTACHMENT_MAX_BYTES = 1024
    case = case_at(zone, CS.SUBMITTED)
    before = snapshot(case)
    big = PDF + b"%" + b"0" * 2048
    # When a 2 KB PDF is uploaded
    with pytest.raises(InvalidInput) as refused:
        add_attachment(actor=zone.enterprise_user, case=case, upload=SimpleUploadedFile("大文件.pdf", big))
    # Then the file field is named and nothing is written; a file at the limit is fine
    assert list(refused.value.fields) == ["file"]
    assert snapshot(case) == before and _stored_files(private_media) == []
    at_limit = PDF + b"%" + b"0" * (1024 - len(PDF) - 1)
    add_attachment(actor=zone.enterprise_user, case=case, upload=SimpleUploadedFile("刚好.pdf", at_limit))


def test_one_file_too_many_is_refused(zone, private_media, settings):
    # Given a limit of two files per case, both used
    settings.ATTACHMENT_MAX_PER_CASE = 2
    case = case_at(zone, CS.SUBMITTED)
    for n in range(2):
        add_attachment(actor=zone.enterprise_user, case=case, upload=SimpleUploadedFile(f"材料{n}.pdf", PDF))
    before = snapshot(case)
    # When a third is uploaded
    with pytest.raises(InvalidInput) as refused:
        add_attachment(actor=zone.enterprise_user, case=case, upload=SimpleUploadedFile("材料3.png", PNG))
    # Then the file field is named and the case keeps two files
    assert list(refused.value.fields) == ["file"]
    assert snapshot(case) == before and len(_stored_files(private_media)) == 2


@pytest.mark.parametrize(("who", "error"), [("other_enterprise_user", NotFound), ("other_concierge", NotFound)])
def test_someone_who_cannot_see_the_case_cannot_attach_to_it(zone, private_media, who, error):
    # Given another enterprise's case
    case = case_at(zone, CS.SUBMITTED)
    before = snapshot(case)
    # When someone who cannot see it uploads a file to it
    with pytest.raises(error):
        add_attachment(actor=getattr(zone, who), case=case, upload=SimpleUploadedFile("材料.pdf", PDF))
    # Then the case does not exist for them, and nothing is written
    assert snapshot(case) == before and _stored_files(private_media) == []


def test_a_unit_sees_the_case_but_may_not_attach_to_it(zone, private_media):
    case = case_at(zone, CS.IN_PROGRESS)
    with pytest.raises(NotPermitted):
        add_attachment(actor=zone.member, case=case, upload=SimpleUploadedFile("材料.pdf", PDF))


@pytest.mark.parametrize("status", [CS.CLOSED, CS.DECLINED, CS.WITHDRAWN])
def test_a_finished_case_takes_no_more_files(zone, private_media, status):
    case = case_at(zone, status)
    before = snapshot(case)
    with pytest.raises(IllegalTransition):
        add_attachment(actor=zone.enterprise_user, case=case, upload=SimpleUploadedFile("材料.pdf", PDF))
    assert snapshot(case) == before and _stored_files(private_media) == []


def test_a_zip_archive_renamed_docx_is_refused(zone, private_media):
    # Given a ZIP archive holding an executable, renamed as a Word document
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("setup.exe", EXE)
    case = case_at(zone, CS.SUBMITTED)
    # When the enterprise uploads it
    with pytest.raises(InvalidInput):
        add_attachment(
            actor=zone.enterprise_user, case=case, upload=SimpleUploadedFile("申请书.docx", archive.getvalue())
        )
    # Then nothing is kept
    assert not Attachment.objects.exists()


@pytest.fixture
def remove_stray_upload():
    """Remove a file the test below stores outside the temporary directory (while the bug stands)."""
    stored: list[Attachment] = []
    yield stored
    for attachment in stored:
        path = attachment.file.path
        attachment.file.storage.delete(attachment.file.name)
        with contextlib.suppress(OSError):
            os.removedirs(os.path.dirname(path))  # the empty cases/<id>/<xx> folders it made


def test_files_go_where_the_private_media_root_setting_says(zone, settings, tmp_path, remove_stray_upload):
    # Given PRIVATE_MEDIA_ROOT set to a new directory
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    case = case_at(zone, CS.SUBMITTED)
    # When a file is uploaded
    attachment = add_attachment(actor=zone.enterprise_user, case=case, upload=SimpleUploadedFile("材料.pdf", PDF))
    remove_stray_upload.append(attachment)
    # Then it is stored under that directory
    assert Path(attachment.file.path).is_relative_to(tmp_path / "private")
