"""Webhooks out: subscriptions, the deliveries each case event produces, and sending them signed, once.

A delivery row is written in the transaction of the change it reports (an outbox), so nothing is lost when
the broker is down: `due_deliveries` finds what is still to be sent (the outbox mechanism is
`services.delivery.outbox`, shared with pushes). Sending claims the row with a lease
(`next_attempt_at` moved past the request's timeout) by a conditional UPDATE, so two workers never send one
delivery at once, and once a success is recorded the delivery is never sent again. A worker that dies mid-send
leaves the lease to expire and the delivery is retried with the same delivery id, which receivers use to
ignore a repeat.

Signature: header `X-Webhook-Signature: sha256=<hex>` where hex is HMAC-SHA256(secret, f"{timestamp}.{body}")
and `timestamp` is the `X-Webhook-Timestamp` header (Unix seconds). See docs/webhooks.md.
"""

import hashlib
import hmac
import json
import logging
import secrets
import time
from datetime import date, datetime, timedelta

import requests
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from services.delivery import egress, outbox
from services.errors import NotFound, NotPermitted
from services.roles import Role, has_role
from services.selectors import subscriptions_visible_to
from services.time.deadlines import overdue_tasks_q
from services.validation import FieldErrors
from tracker.models import Case, CaseEvent, Task, User, WebhookAttempt, WebhookDelivery, WebhookSubscription

logger = logging.getLogger(__name__)
Kind = CaseEvent.Kind

EVENT_TYPES = {
    "case.submitted": gettext_lazy("诉求已提交"),
    "case.status_changed": gettext_lazy("诉求状态变化"),
    "case.updated": gettext_lazy("诉求有新动态（补充材料、延期、变更专员等）"),
    "task.status_changed": gettext_lazy("分解事项状态变化"),
    "task.overdue": gettext_lazy("分解事项逾期"),
    "feedback.recorded": gettext_lazy("企业验收评价已记录"),
}
FEEDBACK_KINDS = frozenset({Kind.CONFIRMED, Kind.REOPENED, Kind.CALLBACK_CONFIRMED, Kind.CALLBACK_REOPENED})
USER_AGENT = "gx-concierge-webhooks/1"


# Subscriptions ---------------------------------------------------------------------------------------------


def may_manage_webhooks(user: User) -> bool:
    """Administrators manage every subscription; an integration account manages its own."""
    return has_role(user, Role.ADMINISTRATOR, Role.INTEGRATION)


def _check_subscription(errors: FieldErrors, *, name, url, event_types) -> tuple[str, str, list[str]]:
    name = errors.text("name", name, max_length=WebhookSubscription._meta.get_field("name").max_length)
    url = errors.text("url", url, max_length=WebhookSubscription._meta.get_field("url").max_length)
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except Exception:
            errors.add("url", _("请输入有效的 http(s) 地址"))
        else:
            if refusal := egress.url_error(url):
                errors.add("url", refusal)
    if not isinstance(event_types, list | tuple) or not event_types:
        errors.add("event_types", _("请至少选择一种事件：%(types)s") % {"types": ", ".join(EVENT_TYPES)})
        event_types = []
    else:
        unknown = [str(t) for t in event_types if t not in EVENT_TYPES]
        if unknown:
            errors.add(
                "event_types",
                _("未知的事件类型：%(unknown)s；可选：%(types)s")
                % {"unknown": ", ".join(unknown), "types": ", ".join(EVENT_TYPES)},
            )
    return name, url, sorted(set(event_types) & set(EVENT_TYPES))


def check_subscription(*, name, url, event_types) -> tuple[str, str, list[str]]:
    """Check a subscription's fields (for forms that show errors before saving); InvalidInput names each."""
    errors = FieldErrors()
    cleaned = _check_subscription(errors, name=name, url=url, event_types=event_types)
    errors.raise_if_any()
    return cleaned


def _require_manager(actor: User) -> None:
    if not may_manage_webhooks(actor):
        raise NotPermitted(_("只有系统管理员或对接账号可以管理 Webhook 订阅"))


def create_subscription(
    *, actor: User, name: str, url: str, event_types: list[str], is_active: bool = True, owner: User | None = None
) -> WebhookSubscription:
    """Subscribe `url` to `event_types`; a fresh signing secret is generated and returned on the row."""
    _require_manager(actor)
    errors = FieldErrors()
    name, url, event_types = _check_subscription(errors, name=name, url=url, event_types=event_types)
    if owner is not None and owner != actor and not has_role(actor, Role.ADMINISTRATOR):
        errors.add("owner", _("只能为自己创建订阅"))
    errors.raise_if_any()
    return WebhookSubscription.objects.create(
        name=name,
        url=url,
        event_types=event_types,
        is_active=bool(is_active),
        owner=owner or actor,
        secret=secrets.token_urlsafe(32),
    )


def update_subscription(
    *,
    actor: User,
    subscription: WebhookSubscription | int,
    name: str | None = None,
    url: str | None = None,
    event_types: list[str] | None = None,
    is_active: bool | None = None,
    rotate_secret: bool = False,
) -> WebhookSubscription:
    """Change what is given (None keeps a field); `rotate_secret` issues a new signing secret."""
    _require_manager(actor)
    with transaction.atomic():
        subscription = _lock_subscription(actor, subscription)
        errors = FieldErrors()
        name, url, event_types = _check_subscription(
            errors,
            name=subscription.name if name is None else name,
            url=subscription.url if url is None else url,
            event_types=subscription.event_types if event_types is None else event_types,
        )
        errors.raise_if_any()
        subscription.name, subscription.url, subscription.event_types = name, url, event_types
        if is_active is not None:
            subscription.is_active = bool(is_active)
        if rotate_secret:
            subscription.secret = secrets.token_urlsafe(32)
        subscription.updated_at = timezone.now()
        subscription.save()
    return subscription


def delete_subscription(*, actor: User, subscription: WebhookSubscription | int) -> None:
    """Remove a subscription with its delivery log."""
    _require_manager(actor)
    with transaction.atomic():
        _lock_subscription(actor, subscription).delete()


def _lock_subscription(actor: User, subscription: WebhookSubscription | int) -> WebhookSubscription:
    pk = subscription.pk if isinstance(subscription, WebhookSubscription) else subscription
    try:
        return subscriptions_visible_to(actor).select_for_update(of=("self",)).get(pk=pk)
    except (WebhookSubscription.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("订阅不存在或无权查看")) from None


# Events into deliveries ------------------------------------------------------------------------------------


def event_types_of(event: CaseEvent) -> list[str]:
    """The webhook event types a case event is reported as."""
    if event.kind == Kind.SUBMITTED:
        return ["case.submitted"]
    types = []
    if event.task_id is None and event.to_status and event.from_status != event.to_status:
        types.append("case.status_changed")
    elif event.task_id is not None and event.to_status:
        types.append("task.status_changed")
    else:
        types.append("case.updated")
    if event.kind in FEEDBACK_KINDS:
        types.append("feedback.recorded")
    return types


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value else None


def case_snapshot(case: Case) -> dict:
    return {
        "id": case.pk,
        "number": case.number,
        "title": case.title,
        "status": case.status,
        "urgency": case.urgency,
        "channel": case.channel,
        "category": case.category.code,
        "enterprise": {"id": case.enterprise_id, "name": case.enterprise.name, "uscc": case.enterprise.uscc},
        "project_id": case.project_id,
        "concierge_id": case.concierge_id,
        "clock_paused_at": _iso(case.clock_paused_at),
        "version": case.version,
        "updated_at": _iso(case.updated_at),
    }


def task_snapshot(task: Task) -> dict:
    return {
        "id": task.pk,
        "case_id": task.case_id,
        "title": task.title,
        "status": task.status,
        "due_on": _iso(task.due_on),
        "task_force_id": task.task_force_id,
        "department_id": task.department_id,
        "assignee_id": task.assignee_id,
        "version": task.version,
    }


def event_payload(event: CaseEvent, case: Case) -> dict:
    data = {
        "case": case_snapshot(case),
        "event": {
            "id": event.pk,
            "kind": event.kind,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "note": event.note,
            "actor": {"id": event.actor.pk, "name": event.actor.display_name} if event.actor else None,
            "task_id": event.task_id,
            "created_at": _iso(event.created_at),
        },
    }
    if event.task is not None:
        data["task"] = task_snapshot(event.task)
    if event.kind in FEEDBACK_KINDS:
        data["feedback"] = {key: (event.data or {}).get(key) for key in ("verdict", "rating", "source")}
    return data


def _active_subscriptions_for(types: list[str]) -> list[WebhookSubscription]:
    return [s for s in WebhookSubscription.objects.filter(is_active=True) if set(s.event_types) & set(types)]


def _queue(deliveries: list[WebhookDelivery]) -> list[WebhookDelivery]:
    """Write the deliveries (skipping any already written for the same event) and send them after commit."""
    if not deliveries:
        return []
    WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    # The rows this call wrote carry the ids it generated; a row already there for the same event keeps its own.
    written = list(WebhookDelivery.objects.filter(delivery_id__in=[d.delivery_id for d in deliveries]))
    pks = [d.pk for d in written]
    transaction.on_commit(lambda: send_soon(pks))
    return written


def send_soon(pks: list[int]) -> None:
    """Hand deliveries to the worker. If the broker cannot be reached they stay pending for the sweep."""
    from tracker.tasks import deliver_webhook  # the task module imports this one

    outbox.queue_each(deliver_webhook, pks, "webhook delivery")


def on_case_event(event: CaseEvent, case: Case) -> list[WebhookDelivery]:
    """Write a delivery for each active subscription to the event's types. Called by `record_event`, inside
    the transaction of the change."""
    types = event_types_of(event)
    subscriptions = _active_subscriptions_for(types)
    if not subscriptions:
        return []
    payload = None
    deliveries = []
    for subscription in subscriptions:
        for event_type in sorted(set(subscription.event_types) & set(types)):
            payload = payload or event_payload(event, case)
            deliveries.append(
                _delivery(subscription, event_type, f"event:{event.pk}:{event_type}", payload, case_id=case.pk)
            )
    return _queue(deliveries)


def _delivery(subscription, event_type: str, dedupe_key: str, data: dict, *, case_id: int | None):
    delivery = WebhookDelivery(subscription=subscription, event_type=event_type, dedupe_key=dedupe_key, case_id=case_id)
    delivery.payload = json.loads(
        json.dumps(
            {
                "id": str(delivery.delivery_id),
                "type": event_type,
                "created_at": timezone.now().isoformat(),
                "data": data,
            },
            cls=DjangoJSONEncoder,
        )
    )
    return delivery


def emit_overdue_tasks(*, today: date) -> int:
    """Write one `task.overdue` delivery per subscription for each open task past its due date, once per
    (task, due date): a task whose deadline is extended and missed again is reported again."""
    subscriptions = _active_subscriptions_for(["task.overdue"])
    if not subscriptions:
        return 0
    tasks = Task.objects.filter(overdue_tasks_q(today)).select_related("case__enterprise", "case__category")
    total = 0
    with transaction.atomic():
        batch = []
        for task in tasks.iterator(chunk_size=500):
            data = {"task": task_snapshot(task), "case": case_snapshot(task.case), "overdue_since": _iso(task.due_on)}
            for subscription in subscriptions:
                key = f"task.overdue:{task.pk}:{task.due_on.isoformat()}"
                batch.append(_delivery(subscription, "task.overdue", key, data, case_id=task.case_id))
            if len(batch) >= 500:
                total += len(_queue(batch))
                batch = []
        total += len(_queue(batch))
    return total


# Sending -----------------------------------------------------------------------------------------------------


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature a receiver recomputes: HMAC-SHA256 over `timestamp` + "." + body, hex, prefixed."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


OUTBOX = outbox.Outbox(
    model=WebhookDelivery,
    settings_prefix="WEBHOOK",
    sent_status=WebhookDelivery.Status.DELIVERED,
    sent_at_field="delivered_at",
    queue=send_soon,
    resend_refused=gettext_lazy("只有系统管理员可以重新发送"),
    # The attempt counts when its outcome is recorded, numbered in the attempt log.
    count_attempt_at_claim=False,
    sendable=Q(subscription__is_active=True),
    sweep_order=("created_at", "id"),
    select_related=("subscription",),
)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the `attempts`-th failure, capped."""
    return outbox.retry_delay(OUTBOX, attempts)


def deliver(delivery_pk: int) -> outbox.SendResult:
    """Try to send one delivery if it is pending and due; record the attempt and what comes next."""
    now = timezone.now()
    delivery = outbox.claim(OUTBOX, delivery_pk, now)
    if delivery is None:
        return outbox.SendResult(sent=False, delivered=False)
    subscription = delivery.subscription
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Webhook-Id": str(delivery.delivery_id),
        "X-Webhook-Event": delivery.event_type,
        "X-Webhook-Timestamp": timestamp,
        "X-Webhook-Signature": sign(subscription.secret, timestamp, body),
    }
    status_code, error, excerpt = None, "", ""
    started = time.monotonic()
    try:
        response = egress.post(subscription.url, data=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
        status_code, excerpt = response.status_code, response.text[:500]
        if not 200 <= status_code < 300:
            error = _("接收方返回 HTTP %(status)d") % {"status": status_code}
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    duration_ms = int((time.monotonic() - started) * 1000)

    def record(locked: WebhookDelivery) -> None:
        WebhookAttempt.objects.create(
            delivery=locked,
            number=locked.attempts,
            started_at=now,
            duration_ms=duration_ms,
            status_code=status_code,
            error=error,
            response_excerpt=excerpt,
            succeeded=not error,
        )

    result = outbox.finish(OUTBOX, delivery_pk, error=error, now=timezone.now(), record=record)
    if error:
        logger.info("webhook delivery %s attempt %d failed: %s", delivery.delivery_id, result.attempts, error)
    return result


def due_deliveries(now: datetime | None = None, limit: int = 1000) -> list[int]:
    """Pending deliveries whose time has come: never queued (broker down), due for a retry, or whose sender
    died mid-send and whose lease has run out. Those of a paused subscription wait."""
    return outbox.due(OUTBOX, now, limit)


def resend(*, actor: User, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a failed delivery again (same delivery id, attempts counted on), from the admin. A delivered one is
    never resent."""
    (delivery,) = outbox.resend(OUTBOX, [delivery], actor=actor)
    return delivery
