"""Pushing notices out of the system: by email and by WeCom group robot (企业微信群机器人).

Each push is an outbox row (`PushDelivery`) written in the transaction that decided to send it, so a push is
never lost when the broker is down: the worker is asked to send it after commit, and a sweep every minute sends
whatever is still pending (broker down, worker died, retry due). A push written at night, at a weekend or on a
holiday waits for the next working morning. A sender claims a row with a lease before sending and marks it
sent afterwards; a row marked sent is never sent again (the outbox mechanism is `services.delivery.outbox`).
"""

import logging
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from services.delivery import compose, egress, outbox
from services.time.calendar import WorkingCalendar
from tracker.models import Notification, PushDelivery, User

logger = logging.getLogger(__name__)

Channel = PushDelivery.Channel
Status = PushDelivery.Status


# Quiet hours --------------------------------------------------------------------------------------------------


def push_window_opens(now: datetime, calendar: WorkingCalendar | None = None) -> datetime:
    """When a push written at `now` may go out: `now` during working hours of a working day, else the next
    working morning (REMINDER_DAY_START_HOUR, Asia/Shanghai by default)."""
    local = timezone.localtime(now)
    calendar = calendar or WorkingCalendar.load(since=local.date())
    # Whole hours, compared as hours: an end of 24 means until midnight (time(24) does not exist).
    start_hour, end_hour = settings.REMINDER_DAY_START_HOUR, settings.REMINDER_DAY_END_HOUR
    start = time(start_hour)
    day = local.date()
    if calendar.is_working_day(day):
        if start_hour <= local.hour < end_hour:
            return now
        if local.hour < start_hour:
            return _at(day, start)
    return _at(calendar.add_working_days(day, 1).date, start)


def _at(day: date, moment: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, moment))


# Writing pushes -----------------------------------------------------------------------------------------------


def notice_link(notice: Notification, recipient: User) -> str:
    """Where the recipient acts on the notice: the portal for an enterprise, the workbench for staff."""
    if notice.case_id is None:
        return compose.site_url(reverse("portal:notifications") if recipient.enterprise_id else "/admin/")
    if recipient.enterprise_id:
        return compose.site_url(reverse("portal:case", args=[notice.case.number]))
    if notice.task_id:
        return compose.site_url(reverse("admin:tracker_task_change", args=[notice.task_id]))
    return compose.site_url(reverse("admin:tracker_case_change", args=[notice.case_id]))


def _kind_labels() -> dict[str, str]:
    with translation.override(settings.LANGUAGE_CODE):
        return {value: str(label) for value, label in Notification.Kind.choices}


def render_notice(notice: Notification, recipient: User, labels: dict[str, str] | None = None) -> tuple[str, str]:
    """(subject, body) of a notice as pushed, in the zone's language. `labels` (`_kind_labels()`) saves a
    translation lookup per notice when many are rendered."""
    with translation.override(settings.LANGUAGE_CODE):
        subject = (labels or _kind_labels())[notice.kind]
        lines = []
        if notice.case_id:
            case = notice.case
            lines.append(_("诉求：%(number)s %(title)s") % {"number": case.number, "title": case.title})
            if not recipient.enterprise_id:
                lines.append(_("企业：%(name)s") % {"name": case.enterprise.name})
        if notice.task_id:
            task = notice.task
            lines.append(_("事项：%(title)s（期限 %(due)s）") % {"title": task.title, "due": task.due_on.isoformat()})
        if notice.reminder_id:
            lines.append(_("期限：%(date)s") % {"date": notice.reminder.deadline.isoformat()})
        if notice.note:
            lines.append(notice.note)
        lines.append(_("查看：%(url)s") % {"url": notice_link(notice, recipient)})
        return f"【{subject}】{lines[0] if lines else ''}"[:200], "\n".join(lines)


def channels_for(user: User) -> dict[str, str]:
    """The channels `user` chose that can reach them, with the address of each."""
    channels = {}
    if user.notify_by_email and user.email:
        channels[Channel.EMAIL] = user.email
    department = user.department if user.department_id else None
    if user.notify_by_wecom and department is not None and department.wecom_webhook_url:
        channels[Channel.WECOM] = department.wecom_webhook_url
    return channels


def pushes_for_notices(notices: list[Notification], *, now: datetime | None = None) -> list[PushDelivery]:
    """Write the pushes the notices call for, by each recipient's channels, and queue them after commit.

    Call inside the transaction that wrote the notices. A fixed number of queries however many notices.
    """
    if not notices:
        return []
    now = now or timezone.now()
    opens = push_window_opens(now)
    recipients = User.objects.select_related("department").in_bulk({n.recipient_id for n in notices})
    labels = _kind_labels()
    pushes = []
    for notice in notices:
        recipient = recipients.get(notice.recipient_id)
        if recipient is None or not recipient.is_active:
            continue
        channels = channels_for(recipient)
        if not channels:
            continue
        subject, body = render_notice(notice, recipient, labels)
        for channel, address in channels.items():
            pushes.append(
                PushDelivery(
                    dedupe_key=f"notice:{notice.pk}:{channel}",
                    channel=channel,
                    recipient=recipient,
                    notification=notice,
                    address=address,
                    subject=subject,
                    body=body,
                    next_attempt_at=opens,
                    created_at=now,
                )
            )
    return write_pushes(pushes, now=now)


def write_pushes(pushes: list[PushDelivery], *, now: datetime) -> list[PushDelivery]:
    """Insert the pushes (one already written under the same key is left alone) and queue those due now."""
    if not pushes:
        return []
    PushDelivery.objects.bulk_create(pushes, ignore_conflicts=True, batch_size=500)
    written = list(
        PushDelivery.objects.filter(dedupe_key__in=[p.dedupe_key for p in pushes]).only(
            "pk", "status", "next_attempt_at"
        )
    )
    due_now = [p.pk for p in written if p.status == Status.PENDING and p.next_attempt_at <= now]
    if due_now:
        transaction.on_commit(lambda: send_soon(due_now))
    return written


def send_soon(pks: list[int]) -> None:
    """Hand pushes to the worker. If the broker cannot be reached they stay pending for the sweep."""
    from tracker.tasks import deliver_push  # the task module imports this one

    outbox.queue_each(deliver_push, pks, "push")


# Sending ------------------------------------------------------------------------------------------------------


def _retry_at(push: PushDelivery, moment: datetime) -> datetime:
    # A retry is a push like any other: one that would fall outside working hours waits for the morning — except a
    # password reset, which someone is waiting for now.
    return moment if compose.is_password_reset(push) else push_window_opens(moment)


OUTBOX = outbox.Outbox(
    model=PushDelivery,
    settings_prefix="PUSH",
    sent_status=Status.SENT,
    sent_at_field="sent_at",
    queue=send_soon,
    resend_refused=gettext_lazy("只有系统管理员可以重新发送推送"),
    count_attempt_at_claim=True,  # a push whose sender dies every time still reaches PUSH_MAX_ATTEMPTS
    error_field="last_error",
    select_related=("recipient",),
    retry_at=_retry_at,
    resend_at=lambda push, now: push_window_opens(now),
    resend_resets_attempts=True,
)


def retry_delay(attempts: int) -> timedelta:
    return outbox.retry_delay(OUTBOX, attempts)


def _send_email(push: PushDelivery) -> None:
    message = EmailMessage(
        subject=push.subject,
        body=compose.reset_mail_body(push.recipient) if compose.is_password_reset(push) else push.body,
        to=[push.address],
        headers={"Message-ID": f"<push-{push.pk}@{settings.PUSH_MESSAGE_ID_DOMAIN}>"},  # a resend is the same mail
    )
    if push.attach_ledger:
        name, content = compose.weekly_ledger(push.recipient)
        message.attach(name, content, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    message.send(fail_silently=False)


def _send_wecom(push: PushDelivery) -> None:
    """A text message to the group robot, @-mentioning the recipient by mobile number."""
    recipient = push.recipient
    payload = {
        "msgtype": "text",
        "text": {
            "content": f"{push.subject}\n{push.body}",
            "mentioned_mobile_list": [recipient.phone] if recipient.phone else [],
        },
    }
    response = egress.post(
        push.address, json=payload, headers={"X-Push-Id": str(push.pk)}, timeout=settings.PUSH_TIMEOUT_SECONDS
    )
    response.raise_for_status()
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if answer.get("errcode", 0) != 0:  # the robot answers 200 with an error code, e.g. 93000 for a bad key
        raise RuntimeError(f"errcode {answer.get('errcode')}: {answer.get('errmsg', '')}")


SENDERS = {Channel.EMAIL: _send_email, Channel.WECOM: _send_wecom}


def deliver(push_pk: int) -> outbox.SendResult:
    """Send one push if it is pending and due; record the outcome and, on failure, when to retry."""
    push = outbox.claim(OUTBOX, push_pk, timezone.now())
    if push is None:
        return outbox.SendResult(sent=False, delivered=False)
    error = ""
    if outbox.exhausted(OUTBOX, push):
        error = _("发送多次中断，已停止重试")
    else:
        try:
            SENDERS[push.channel](push)
        except Exception as exc:  # any failure of the channel is recorded and retried; the row says why
            error = f"{type(exc).__name__}: {exc}"[:500]
    result = outbox.finish(OUTBOX, push_pk, error=error, now=timezone.now())
    if error:
        logger.info("push %s (%s) attempt %d failed: %s", push.pk, push.channel, result.attempts, error)
    return result


def due_pushes(now: datetime | None = None, limit: int = 1000) -> list[int]:
    """Pending pushes whose time has come: never queued, held for the morning, due a retry, or left by a
    sender that died (its lease ran out)."""
    return outbox.due(OUTBOX, now, limit)


def resend(*, actor: User, push: PushDelivery) -> PushDelivery:
    """Queue a failed push again (administrators, from the admin), due when the push window opens, its attempts
    counted afresh; a push sent is never sent again."""
    (push,) = outbox.resend(OUTBOX, [push], actor=actor)
    return push
