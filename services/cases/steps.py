"""Case lifecycle: submit, accept, decline, withdraw, add information, resolve, verdicts, callback, reassign.

Each function checks permission, locks the case, checks the transition, writes, and records its event —
all in one transaction. Task-level steps are in `services.cases.tasks`.
"""

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BigIntegerField, Max
from django.db.models.functions import Cast, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from services.cases import clocks
from services.cases.files import check_uploads, store_files
from services.cases.transitions import apply_transition, record_event
from services.delivery import recipients
from services.errors import InvalidInput, NotFound, NotPermitted
from services.locking import lock_case
from services.permissions import can_act_for_enterprise, can_handle_case, can_reassign, can_submit_for
from services.roles import Role, has_role
from services.states import (
    OPEN_TASK_STATES,
    VERDICT_ACTIONS,
    check_version,
    legal_move,
    require_case_step,
)
from services.time import calendar
from services.validation import FieldErrors, require_text
from tracker.models import (
    Case,
    CaseEvent,
    CaseNumberSequence,
    Category,
    Enterprise,
    Feedback,
    Project,
    User,
    Visit,
)

Kind = CaseEvent.Kind


def format_case_number(year: int, sequence: int) -> str:
    return f"{settings.CASE_NUMBER_PREFIX}-{year}-{sequence:06d}"


def reserve_case_numbers(year: int, count: int = 1) -> list[str]:
    """Take the next `count` case numbers of `year`: unique and increasing, gaps tolerated. Call inside a transaction.

    On PostgreSQL they come from the year's sequence (`tracker_case_number_<year>`): nextval holds no lock, so
    submissions do not wait for each other, and a transaction that rolls back leaves a gap where its numbers were.
    The sequence is set up on the year's first use, after the highest number already used (seeded, imported, or
    counted by the row below before sequences). Elsewhere (SQLite, which serialises writers anyway) the year's
    CaseNumberSequence row is the counter, locked to the end of the transaction: no gaps there.
    """
    if connection.vendor == "postgresql":
        numbers = _numbers_from_sequence(year, count)
    else:
        numbers = _numbers_from_row(year, count)
    return [format_case_number(year, n) for n in numbers]


def _highest_number_used(year: int) -> int:
    prefix = format_case_number(year, 0).rsplit("-", 1)[0] + "-"
    tail = Cast(Substr("number", len(prefix) + 1), BigIntegerField())
    return Case.objects.filter(number__startswith=prefix).aggregate(highest=Max(tail))["highest"] or 0


def _numbers_from_row(year: int, count: int) -> list[int]:
    sequence = CaseNumberSequence.objects.select_for_update().filter(year=year).first()
    if sequence is None:
        first_use = CaseNumberSequence(year=year, last=_highest_number_used(year))
        CaseNumberSequence.objects.bulk_create([first_use], ignore_conflicts=True)
        sequence = CaseNumberSequence.objects.select_for_update().get(year=year)
    first = sequence.last + 1
    sequence.last += count
    sequence.save(update_fields=["last"])
    return list(range(first, first + count))


def _numbers_from_sequence(year: int, count: int) -> list[int]:
    name, table = f"tracker_case_number_{year:d}", CaseNumberSequence._meta.db_table
    with connection.cursor() as cursor:
        # No row back while the year's row is missing (first use), NULL while its sequence is: set it up then.
        cursor.execute(
            f"SELECT nextval(to_regclass(%s)) FROM {table}, generate_series(1, %s) WHERE year = %s",
            [name, count, year],
        )
        numbers = [n for (n,) in cursor.fetchall()]
        if not numbers or numbers[0] is None:
            _set_up_sequence(cursor, year, name)
            cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [name, count])
            numbers = [n for (n,) in cursor.fetchall()]
    return sorted(numbers)


def _set_up_sequence(cursor, year: int, name: str) -> None:
    """Create the year's sequence (or restart it, when its row was new) after the highest number used. Whoever
    inserts or locks the year's row does it, holding the row to COMMIT: the others wait, once a year."""
    table = CaseNumberSequence._meta.db_table
    cursor.execute(f"INSERT INTO {table} (year, last) VALUES (%s, 0) ON CONFLICT (year) DO NOTHING", [year])
    inserted = cursor.rowcount == 1
    cursor.execute(f"SELECT last FROM {table} WHERE year = %s FOR UPDATE", [year])
    (counted,) = cursor.fetchone()
    # Asked once the row is ours (a statement of its own): a sequence set up meanwhile is then seen.
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
    (exists,) = cursor.fetchone()
    if exists and not inserted:
        return  # set up by the transaction this one waited for
    if not exists:
        cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {connection.ops.quote_name(name)} AS bigint")
    highest = max(counted, _highest_number_used(year))
    cursor.execute("SELECT setval(%s::regclass, %s, false)", [name, highest + 1])


# The channels staff register a case through in the workbench (登记诉求): a call, the 12345 hotline, a walk-in.
INTAKE_CHANNELS = (Case.Channel.PHONE, Case.Channel.HOTLINE, Case.Channel.WALK_IN)
# A case taken from a caller or a visitor keeps who they were and how to reach them back.
CALLER_REQUIRED_CHANNELS = frozenset({Case.Channel.PHONE, Case.Channel.WALK_IN})


def _allowed_channels(actor: User) -> tuple[set[str], str | None]:
    """The channels `actor` may submit through, and the one used when none is given."""
    C = Case.Channel
    if actor.enterprise_id:
        return {C.PORTAL, C.API}, C.PORTAL
    if has_role(actor, Role.INTEGRATION):
        return {C.API, C.HOTLINE}, C.API
    return {C.VISIT, C.API, *INTAKE_CHANNELS}, None


def check_case_fields(
    errors: FieldErrors,
    *,
    enterprise: Enterprise,
    category: Category | None,
    title,
    description,
    urgency,
    project: Project | None,
    prefix: str = "",
) -> tuple[str, str, str]:
    """Check what the enterprise wrote about an issue, recording errors under `prefix`; returns the cleaned
    (title, description, urgency)."""
    title = errors.text(f"{prefix}title", title, max_length=200)
    description = errors.text(f"{prefix}description", description, max_length=10000)
    urgency = errors.choice(f"{prefix}urgency", urgency, Case.Urgency, default=Case.Urgency.NORMAL)
    if category is None or not category.is_active:
        errors.add(f"{prefix}category", _("请选择有效的诉求类别"))
    if project is not None and project.enterprise_id != enterprise.pk:
        errors.add(f"{prefix}project", _("该项目不属于此企业"))
    return title, description, urgency


def submit_case(
    *,
    actor: User,
    enterprise: Enterprise,
    category: Category,
    title: str,
    description: str,
    urgency: str | None = None,
    channel: str | None = None,
    project: Project | None = None,
    visit: Visit | None = None,
    caller_name: str = "",
    caller_phone: str = "",
) -> Case:
    """Open a new case for `enterprise`: numbered, given the linked concierge, due to be accepted in time.

    An enterprise user submits for its own enterprise; staff and integrations on an enterprise's behalf (staff
    register calls, hotline orders and walk-ins with the caller's name and phone). A case filed by anyone but the
    enterprise's own users is announced to them (`notifications`, CASE_FILED).
    """
    if enterprise is None or not can_submit_for(actor, enterprise, project):
        raise NotFound(_("企业不存在或无权为其提交诉求"))
    errors = FieldErrors()
    title, description, urgency = check_case_fields(
        errors,
        enterprise=enterprise,
        category=category,
        title=title,
        description=description,
        urgency=urgency,
        project=project,
    )
    allowed, default_channel = _allowed_channels(actor)
    channel = channel or (Case.Channel.VISIT if visit else default_channel)
    if channel is None:
        errors.add("channel", _("请选择来源渠道"))
    elif channel not in allowed:
        errors.add(
            "channel",
            _("不能通过“%(channel)s”提交，可选：%(allowed)s")
            % {"channel": channel, "allowed": ", ".join(sorted(allowed))},
        )
    if channel == Case.Channel.VISIT and (visit is None or visit.enterprise_id != enterprise.pk):
        errors.add("visit", _("走访发现的诉求须关联对该企业的走访记录"))
    caller_required = channel in CALLER_REQUIRED_CHANNELS
    caller_name = errors.text("caller_name", caller_name, required=caller_required, max_length=50)
    caller_phone = errors.phone("caller_phone", caller_phone, required=caller_required)
    errors.raise_if_any()

    now = timezone.now()
    concierge_id = recipients.linked_concierge_id(enterprise, project)
    with transaction.atomic():
        accept_due = calendar.add_working_days(timezone.localdate(now), category.accept_days)
        case = Case.objects.create(
            number=reserve_case_numbers(timezone.localdate(now).year)[0],
            enterprise=enterprise,
            project=project,
            category=category,
            title=title,
            description=description,
            urgency=urgency,
            channel=channel,
            caller_name=caller_name,
            caller_phone=caller_phone,
            concierge_id=concierge_id,
            submitted_by=actor,
            visit=visit,
            accept_due_on=accept_due.date,
            deadline_counted_from=timezone.localdate(now),
            deadline_working_days=category.accept_days,
            submitted_at=now,
            updated_at=now,
        )
        record_event(
            case=case,
            kind=Kind.SUBMITTED,
            actor=actor,
            to_status=Case.Status.SUBMITTED,
            data={"channel": channel, "accept_due_on": accept_due.date.isoformat()},
            at=now,
        )
    return case


def _require(allowed: bool) -> None:
    if not allowed:
        raise NotPermitted(_("您无权对此诉求执行该操作"))


def accept_case(*, actor: User, case: Case | int, note: str = "", expected_version: int | None = None) -> Case:
    """The concierge takes the case on."""
    with transaction.atomic():
        case = lock_case(actor, case)
        _require(can_handle_case(actor, case))
        check_version(case, expected_version)
        now = timezone.now()
        clocks.resume(case, actor=actor, how=clocks.EndedBy.RESUMED, at=now)
        apply_transition(case, "accept", actor=actor, note=(note or "").strip(), changes={"accepted_at": now}, at=now)
    return case


def decline_case(*, actor: User, case: Case | int, reason: str, expected_version: int | None = None) -> Case:
    """The concierge declines the case with a reason the enterprise will read."""
    with transaction.atomic():
        case = lock_case(actor, case)
        _require(can_handle_case(actor, case))
        check_version(case, expected_version)
        reason = require_text("reason", reason, max_length=2000)
        now = timezone.now()
        clocks.resume(case, actor=actor, how=clocks.EndedBy.CLOSED, at=now)
        apply_transition(case, "decline", actor=actor, note=reason, at=now)
    return case


def _cancel_open_tasks(case: Case, *, actor: User, reason: str, at) -> None:
    for task in case.tasks.select_for_update().filter(status__in=OPEN_TASK_STATES).order_by("id"):
        task.case = case
        apply_transition(task, "cancel", actor=actor, note=reason, data={"task": task.title}, changes={}, at=at)


def withdraw_case(*, actor: User, case: Case | int, reason: str = "", expected_version: int | None = None) -> Case:
    """The enterprise withdraws its case before it is resolved; open tasks are cancelled with it."""
    with transaction.atomic():
        case = lock_case(actor, case)
        _require(can_act_for_enterprise(actor, case))
        check_version(case, expected_version)
        reason = (reason or "").strip()
        now = timezone.now()
        clocks.resume(case, actor=actor, how=clocks.EndedBy.CLOSED, at=now)
        apply_transition(case, "withdraw", actor=actor, note=reason, at=now)
        _cancel_open_tasks(case, actor=actor, reason=_("企业已撤回诉求"), at=now)
    return case


def files_event_data(files) -> dict:
    """What a step's event says of the files kept with it: their names."""
    return {"files": [getattr(upload, "name", "") for upload in files]} if files else {}


def add_case_info(*, actor: User, case: Case | int, note: str, files=(), resume_clock: bool = True) -> Case:
    """Add information to an open case (the enterprise, or the staff handling it): a note, files, or both, in one
    event. The files are checked as the portal's are and shown to the enterprise too. The enterprise's own
    addition ends a pause (unless `resume_clock` is False: a caller adding more in the same step ends it)."""
    files = list(files)
    with transaction.atomic():
        case = lock_case(actor, case)
        _require(can_act_for_enterprise(actor, case) or can_handle_case(actor, case))
        require_case_step(case, "add_info")
        errors = FieldErrors()
        note = errors.text("note", note, required=not files, max_length=5000)
        check_uploads(errors, files, existing=case.attachments.count())
        errors.raise_if_any()
        now = timezone.now()
        record_event(case=case, kind=Kind.INFO_ADDED, actor=actor, note=note, data=files_event_data(files), at=now)
        store_files(actor=actor, case=case, uploads=files, at=now)
        if resume_clock and actor.enterprise_id == case.enterprise_id:  # the enterprise answered
            clocks.resume(case, actor=actor, how=clocks.EndedBy.ANSWERED, at=now)
    return case


def request_case_info(*, actor: User, case: Case | int, note: str, pause: bool = True) -> Case:
    """The concierge asks the enterprise for more information or files; the enterprise is notified. With `pause`
    (the default) the case's clocks stop until the enterprise answers (挂起, `services.cases.clocks`)."""
    with transaction.atomic():
        case = lock_case(actor, case)
        _require(can_handle_case(actor, case))
        require_case_step(case, "request_info")
        note = require_text("note", note, max_length=2000)
        now = timezone.now()
        record_event(case=case, kind=Kind.INFO_REQUESTED, actor=actor, note=note, at=now)
        if pause:
            clocks.pause(case, actor=actor, reason=note, at=now)
    return case


def resume_case_clock(*, actor: User, case: Case | int, note: str = "") -> Case:
    """The concierge or a leader ends a pause without waiting for the enterprise (the information came by phone,
    or the wait has lasted too long): every running deadline moves by the working days the pause lasted."""
    with transaction.atomic():
        case = lock_case(actor, case)
        _require(can_handle_case(actor, case))
        require_case_step(case, "resume_clock")  # an open case, and paused (else `not_paused`)
        errors = FieldErrors()
        note = errors.text("note", note, required=False, max_length=2000)
        errors.raise_if_any()
        clocks.resume(case, actor=actor, how=clocks.EndedBy.RESUMED, at=timezone.now(), note=note)
    return case


def resolve_case(*, actor: User, case: Case | int, answer: str, expected_version: int | None = None, files=()) -> Case:
    """The concierge answers the enterprise, with any files of the answer (the enterprise sees them); refused
    while any task is open. Starts the verdict window."""
    files = list(files)
    with transaction.atomic():
        case = lock_case(actor, case)
        _require(can_handle_case(actor, case))
        check_version(case, expected_version)
        errors = FieldErrors()
        answer = errors.text("answer", answer, max_length=10000)
        check_uploads(errors, files, existing=case.attachments.count())
        errors.raise_if_any()
        legal_move(case, "resolve")  # the state, and no open task (`tasks_open`), before anything is written
        now = timezone.now()
        clocks.resume(case, actor=actor, how=clocks.EndedBy.RESUMED, at=now)
        verdict_due = calendar.add_working_days(timezone.localdate(now), case.category.verdict_days)
        apply_transition(
            case,
            "resolve",
            actor=actor,
            note=answer,
            data={"verdict_due_on": verdict_due.date.isoformat(), **files_event_data(files)},
            # Answering again after a 重办 meets the concierge's redo deadline.
            changes={
                "answer": answer,
                "resolved_at": now,
                "verdict_due_on": verdict_due.date,
                "redo_due_on": None,
                "deadline_counted_from": timezone.localdate(now),
                "deadline_working_days": case.category.verdict_days,
            },
            at=now,
        )
        store_files(actor=actor, case=case, uploads=files, at=now)
    return case


def _parse_rating(errors: FieldErrors, rating) -> int | None:
    """1-5 as an integer or a string of digits; anything else (4.7, True, "五") is refused."""
    if isinstance(rating, int) and not isinstance(rating, bool):
        value = rating
    elif isinstance(rating, str) and rating.strip().isascii() and rating.strip().isdigit():
        value = int(rating.strip())
    else:
        value = None
    if value not in Feedback.Rating.values:
        labels = "，".join(f"{r.value}={r.label}" for r in Feedback.Rating)
        errors.add("rating", _("请选择满意度：%(labels)s") % {"labels": labels})
        return None
    return value


def _record_verdict(
    *,
    actor: User,
    case: Case | int,
    may_record,
    verdict: str,
    rating,
    comment: str,
    source: str,
    expected_version: int | None,
    reason_field: str = "reason",
    contact_name: str = "",
    contact_phone: str = "",
) -> Feedback:
    """Lock the case, check who records the verdict and what it says, move the case, and keep the verdict.

    A callback before the enterprise's verdict window has ended (today <= verdict_due_on) is early: it needs the
    person spoken to, their phone and what they said, and is kept marked so the figures count it apart.
    """
    with transaction.atomic():
        case = lock_case(actor, case)
        _require(may_record(actor, case))
        errors = FieldErrors()
        today = timezone.localdate()
        early = (
            source == Feedback.Source.CALLBACK
            and case.verdict_due_on is not None
            and case.status == Case.Status.RESOLVED
            and today <= case.verdict_due_on
        )
        if source == Feedback.Source.CALLBACK:
            contact_name = errors.text("contact_name", contact_name, required=early, max_length=50)
            contact_phone = errors.phone("contact_phone", contact_phone, required=early)
        else:
            contact_name = contact_phone = ""
        if verdict == Feedback.Verdict.CONFIRM:
            rating = _parse_rating(errors, rating)
            comment = errors.text("comment", comment, required=False, max_length=2000)
        elif verdict == Feedback.Verdict.REOPEN:
            rating = _parse_rating(errors, rating) if rating not in (None, "") else None
            comment = errors.text(reason_field, comment, max_length=2000)
        else:
            errors.add("verdict", _("验收结论应为 confirm（确认办结）或 reopen（退回重办）"))
        if early and verdict == Feedback.Verdict.CONFIRM and not comment and "comment" not in errors.errors:
            errors.add(
                "comment",
                _("企业验收期限（%(date)s）未到，提前回访须记录企业联系人的原话")
                % {"date": case.verdict_due_on.isoformat()},
            )
        check_version(case, expected_version)
        early_fields_missing = early and {"contact_name", "contact_phone", "comment"} & set(errors.errors)
        errors.raise_if_any(
            _("企业验收期限（%(date)s）未到：提前回访须记录回访对象、电话和企业的意见")
            % {"date": case.verdict_due_on.isoformat()}
            if early_fields_missing
            else None
        )

        now = timezone.now()
        closing = verdict == Feedback.Verdict.CONFIRM
        data = {"verdict": verdict, "rating": rating, "source": source}
        if source == Feedback.Source.CALLBACK:
            data.update(early=early, contact_name=contact_name, contact_phone=contact_phone)
        if closing:
            changes = {"closed_at": now}
        else:
            # 重办: the concierge must reopen or add tasks (or answer again) by this date.
            redo_due = calendar.add_working_days(today, case.category.accept_days).date
            changes = {
                "verdict_due_on": None,
                "resolved_at": None,
                "redo_due_on": redo_due,
                "deadline_counted_from": today,
                "deadline_working_days": case.category.accept_days,
            }
            data["redo_due_on"] = redo_due.isoformat()
        apply_transition(
            case,
            VERDICT_ACTIONS[(source, verdict)],
            actor=actor,
            note=comment,
            data=data,
            changes=changes,
            at=now,
        )
        return Feedback.objects.create(
            case=case,
            verdict=verdict,
            rating=rating,
            comment=comment,
            source=source,
            early=early,
            contact_name=contact_name,
            contact_phone=contact_phone,
            recorded_by=actor,
            created_at=now,
        )


def confirm_case(
    *, actor: User, case: Case | int, rating, comment: str = "", expected_version: int | None = None
) -> Feedback:
    """The enterprise accepts the result with a 5-level rating; the case closes."""
    return _record_verdict(
        actor=actor,
        case=case,
        may_record=can_act_for_enterprise,
        verdict=Feedback.Verdict.CONFIRM,
        rating=rating,
        comment=comment,
        source=Feedback.Source.ENTERPRISE,
        expected_version=expected_version,
    )


def reopen_case(
    *, actor: User, case: Case | int, reason: str, rating=None, expected_version: int | None = None
) -> Feedback:
    """The enterprise rejects the result with a reason; the case goes back to work (重办)."""
    return _record_verdict(
        actor=actor,
        case=case,
        may_record=can_act_for_enterprise,
        verdict=Feedback.Verdict.REOPEN,
        rating=rating,
        comment=reason,
        source=Feedback.Source.ENTERPRISE,
        expected_version=expected_version,
    )


def record_callback(
    *,
    actor: User,
    case: Case | int,
    verdict: str,
    rating=None,
    comment: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    expected_version: int | None = None,
) -> Feedback:
    """Staff record the enterprise's verdict given by phone (回访): confirm with a rating, or reopen with a reason.

    Before the enterprise's own verdict window has ended it is refused unless the person spoken to
    (`contact_name`, `contact_phone`) and what they said (`comment`) are given; it is then kept as an early
    callback. After the window the contact is optional, and recorded when given.
    """
    return _record_verdict(
        actor=actor,
        case=case,
        may_record=can_handle_case,
        verdict=verdict,
        rating=rating,
        comment=comment,
        source=Feedback.Source.CALLBACK,
        expected_version=expected_version,
        reason_field="comment",
        contact_name=contact_name,
        contact_phone=contact_phone,
    )


def reassign_concierge(*, actor: User, case: Case | int, concierge: User, note: str = "") -> Case:
    """A leader gives an open case to another concierge."""
    with transaction.atomic():
        case = lock_case(actor, case)
        _require(can_reassign(actor))
        require_case_step(case, "reassign")
        if concierge is None or concierge.enterprise_id or not concierge.is_active:
            raise InvalidInput.field("concierge", _("请选择在职的工作人员"))
        previous = case.concierge
        case.concierge = concierge
        case.save(update_fields=["concierge"])
        record_event(
            case=case,
            kind=Kind.CONCIERGE_CHANGED,
            actor=actor,
            note=(note or "").strip(),
            data={
                "from": previous.display_name if previous else "",
                "to": concierge.display_name,
                "to_id": concierge.pk,
            },
        )
    return case
