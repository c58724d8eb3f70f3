"""Files of a step: checked by content (not only by name), limited in size and count, stored privately.

A leaf of `services.cases`: the steps that take files (`steps`, `tasks`, `attachments`) check them here first and
store them here in their own transaction.
"""

import hashlib
import os
import zipfile

import puremagic
from django.conf import settings
from django.core.files.base import File
from django.utils import timezone
from django.utils.translation import gettext as _

from services.errors import InvalidInput
from services.validation import FieldErrors
from tracker.models import Attachment, Case, Task, User

ALLOWED_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
# Office formats share a container; the content proves the container, the name tells which member it is.
_FAMILIES = [{".doc", ".xls", ".ppt"}, {".docx", ".xlsx", ".pptx"}, {".jpg", ".jpeg"}]
# An Office Open XML file is a ZIP holding [Content_Types].xml and its application's folder.
_OOXML_FOLDERS = {".docx": "word/", ".xlsx": "xl/", ".pptx": "ppt/"}
_HEAD_BYTES = 8192


def is_office_open_xml(upload: File, extension: str) -> bool:
    """True when the ZIP really is the Office document its name says (not any archive renamed)."""
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    finally:
        upload.seek(0)
    folder = _OOXML_FOLDERS[extension]
    return "[Content_Types].xml" in names and any(name.startswith(folder) for name in names)


def detect_content_type(head: bytes, filename: str) -> str | None:
    """The MIME type of an allowed file whose first bytes match its name, else None."""
    extension = os.path.splitext(filename or "")[1].lower()
    if extension not in ALLOWED_TYPES or not head:
        return None
    try:
        detected = {match.extension.lower() for match in puremagic.magic_string(head)}
    except puremagic.PureError:
        return None
    if extension in detected:
        return ALLOWED_TYPES[extension]
    for family in _FAMILIES:
        if extension in family and detected & family:
            return ALLOWED_TYPES[extension]
    return None


def check_upload(upload: File, name: str | None = None, *, field: str = "file") -> tuple[str, str, int]:
    """The cleaned name, content type and size of an acceptable upload.

    Refused with a field error on `field` when it is empty, too large, or of a type not allowed (by content).
    """
    name = os.path.basename(name or getattr(upload, "name", "") or "").strip()[:200]
    size = upload.size or 0
    limit = settings.ATTACHMENT_MAX_BYTES
    if size <= 0:
        raise InvalidInput.field(field, _("文件为空：%(name)s") % {"name": name})
    if size > limit:
        raise InvalidInput.field(
            field,
            _("文件过大：%(name)s %(size).1f MB，上限 %(limit).0f MB")
            % {"name": name, "size": size / 2**20, "limit": limit / 2**20},
        )
    upload.seek(0)
    head = upload.read(_HEAD_BYTES)
    content_type = detect_content_type(head, name)
    extension = os.path.splitext(name)[1].lower()
    if content_type and extension in _OOXML_FOLDERS and not is_office_open_xml(upload, extension):
        content_type = None
    if content_type is None:
        raise InvalidInput.field(
            field,
            _("%(name)s：不支持的文件类型或文件内容与扩展名不符；可上传 PDF、图片（JPG/PNG/GIF/WebP）和 Office 文档")
            % {"name": name},
        )
    upload.seek(0)
    return name, content_type, size


def check_count(field: str, existing: int, adding: int) -> None:
    limit = settings.ATTACHMENT_MAX_PER_CASE
    if existing + adding > limit:
        raise InvalidInput.field(field, _("每个诉求最多上传%(count)d个附件") % {"count": limit})


def stored_file(
    *, actor: User, case: Case, upload: File, at, name: str | None = None, task: Task | None = None, staff_only=False
) -> Attachment:
    """Write a checked upload to private storage; returns its Attachment, not yet saved."""
    name, content_type, size = check_upload(upload, name)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    attachment = Attachment(
        case=case,
        task=task,
        staff_only=staff_only,
        uploaded_by=actor,
        original_name=name,
        size=size,
        content_type=content_type,
        sha256=digest.hexdigest(),
        created_at=at,
    )
    attachment.file.save(name, upload, save=False)
    return attachment


def check_uploads(errors: FieldErrors, uploads: list[File], *, existing: int = 0) -> None:
    """Record under `files` every upload that would be refused (type by content, size, the case's count with the
    `existing` files), so all are named at once."""
    try:
        check_count("files", existing, len(uploads))
    except InvalidInput as error:
        errors.add("files", error.fields["files"][0])
    for upload in uploads:
        try:
            check_upload(upload, field="files")
        except InvalidInput as error:
            errors.add("files", error.fields["files"][0])


def store_files(
    *, actor: User, case: Case, uploads: list[File], task: Task | None = None, staff_only: bool = False, at=None
) -> list[Attachment]:
    """Keep the files of a step (an answer, a task's result or return, staff's additions) on `case`, and on
    `task` when they belong to one; `staff_only` files are never shown to the enterprise.

    The caller took the step: it holds the case's lock and an open transaction, checked the uploads with
    `check_uploads`, and names the files in the step's own event. If one file fails, those already written are
    removed from storage (the transaction drops their rows)."""
    at = at or timezone.now()
    stored: list[Attachment] = []
    try:
        for upload in uploads:
            attachment = stored_file(actor=actor, case=case, upload=upload, at=at, task=task, staff_only=staff_only)
            stored.append(attachment)
            attachment.save()
    except Exception:
        for attachment in stored:
            attachment.file.delete(save=False)
        raise
    return stored
