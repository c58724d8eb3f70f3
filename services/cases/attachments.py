"""Files added to a case on their own or with its submission (the enterprise's, or staff's), each its own event.

The checks and the storage are `services.cases.files`."""

from django.core.files.base import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from services.cases.files import check_count, check_upload, check_uploads, stored_file
from services.cases.steps import add_case_info, clocks, submit_case
from services.cases.transitions import record_event
from services.errors import InvalidInput, NotPermitted
from services.locking import lock_case
from services.permissions import can_act_for_enterprise, can_handle_case
from services.states import require_case_step
from services.validation import FieldErrors
from tracker.models import Attachment, Case, CaseEvent, User


def add_attachment(
    *,
    actor: User,
    case: Case | int,
    upload: File,
    name: str | None = None,
    with_submission: bool = False,
    resume_clock: bool = True,
) -> Attachment:
    """Attach `upload` to an open case (the enterprise, or staff working on it).

    Refused with a field error on `file` when it is empty, too large, of a type not allowed, or one too many.
    `with_submission`: the file came with the case itself, so its event is not news of information added.
    The enterprise's file ends a pause (`services.cases.clocks`) unless `resume_clock` is False (a caller adding more
    in the same step ends it).
    """
    with transaction.atomic():
        case = lock_case(actor, case)
        if not (can_act_for_enterprise(actor, case) or can_handle_case(actor, case)):
            raise NotPermitted(_("您无权为此诉求上传附件"))
        require_case_step(case, "add_info")
        name, _content_type, size = check_upload(upload, name)
        check_count("file", case.attachments.count(), 1)
        now = timezone.now()
        attachment = stored_file(actor=actor, case=case, upload=upload, name=name, at=now)
        try:  # a file whose row is not written must not linger on disk
            attachment.save()
            record_event(
                case=case,
                kind=CaseEvent.Kind.INFO_ADDED,
                actor=actor,
                data={
                    "attachment": attachment.pk,
                    "file": name,
                    "size": size,
                    **({"with_submission": True} if with_submission else {}),
                },
                at=now,
            )
        except Exception:
            attachment.file.delete(save=False)
            raise
        if resume_clock and actor.enterprise_id == case.enterprise_id:  # the enterprise answered
            clocks.resume(case, actor=actor, how=clocks.EndedBy.ANSWERED, at=now)
    return attachment


def _attach_all(*, actor: User, case: Case, uploads: list[File], with_submission: bool = False) -> list[Attachment]:
    """Attach each upload; if one fails, remove the files already stored (the transaction drops their rows)."""
    stored: list[Attachment] = []
    try:
        for upload in uploads:
            stored.append(
                add_attachment(
                    actor=actor, case=case, upload=upload, with_submission=with_submission, resume_clock=False
                )
            )
    except Exception:
        for attachment in stored:
            attachment.file.delete(save=False)
        raise
    return stored


def _refresh_version(case: Case) -> None:
    """The steps above each locked their own copy of the case; hand back the version they left."""
    case.refresh_from_db(fields=["version", "updated_at", "clock_paused_at"])


def submit_case_with_files(*, actor: User, uploads: list[File] = (), **case_fields) -> Case:
    """`cases.submit_case` with its files, all or nothing: every field and every file is checked and all the
    errors are reported together before anything is written."""
    uploads = list(uploads)
    errors = FieldErrors()
    check_uploads(errors, uploads)
    with transaction.atomic():
        try:
            case = submit_case(actor=actor, **case_fields)
        except InvalidInput as error:
            for field, messages in error.fields.items():
                for message in messages:
                    errors.add(field, message)
            errors.raise_if_any()
            raise
        errors.raise_if_any()
        _attach_all(actor=actor, case=case, uploads=uploads, with_submission=True)
        _refresh_version(case)
    return case


def add_case_information(*, actor: User, case: Case | int, note: str = "", uploads: list[File] = ()) -> Case:
    """The enterprise (or staff) adds a note, files, or both to an open case, all or nothing (the portal's step).

    Unlike `steps.add_case_info` (one event for a note and its files), the note and each file are events of their
    own, each file's naming its attachment, so the timeline says which file was uploaded; the clocks resume once,
    after the last."""
    uploads = list(uploads)
    note = (note or "").strip()
    if not note and not uploads:
        raise InvalidInput.field("note", _("请填写补充说明或选择文件"))
    with transaction.atomic():
        case = lock_case(actor, case)
        if not (can_act_for_enterprise(actor, case) or can_handle_case(actor, case)):
            raise NotPermitted(_("您无权为此诉求补充材料"))
        require_case_step(case, "add_info")
        errors = FieldErrors()
        if note:
            errors.text("note", note, max_length=5000)
        check_uploads(errors, uploads, existing=case.attachments.count())
        errors.raise_if_any()
        if note:
            add_case_info(actor=actor, case=case, note=note, resume_clock=False)
        _attach_all(actor=actor, case=case, uploads=uploads)
        if actor.enterprise_id == case.enterprise_id:  # the enterprise answered: the clocks run again
            locked = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
            clocks.resume(locked, actor=actor, how=clocks.EndedBy.ANSWERED, at=timezone.now())
        _refresh_version(case)
    return case
