"""Celery tasks. Each takes ids, calls a service and returns; each is safe to run twice (see
services/delivery/outbox.py for how a push or a webhook delivery is sent once)."""

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from services import accounts, idempotency
from services.delivery import digests, pushes, webhooks
from services.time import reminders, reschedule

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def deliver_webhook(delivery_pk: int) -> None:
    """Send one webhook delivery; on failure queue the retry at its backoff time."""
    result = webhooks.deliver(delivery_pk)
    if result.retry_at is None:
        return
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # Eager mode (tests, the demo without a worker) cannot wait: retry now only if already due.
        if result.retry_at <= timezone.now():
            deliver_webhook(delivery_pk)
        return
    deliver_webhook.apply_async((delivery_pk,), eta=result.retry_at)


@shared_task(ignore_result=True)
def deliver_due_webhooks() -> int:
    """The outbox sweep: queue deliveries left pending (broker down, worker died, retry due)."""
    due = webhooks.due_deliveries()
    webhooks.send_soon(due)
    return len(due)


@shared_task(acks_late=True, ignore_result=True)
def emit_overdue_task_webhooks() -> int:
    """Report newly overdue tasks to `task.overdue` subscribers (once per task and due date)."""
    return webhooks.emit_overdue_tasks(today=timezone.localdate())


@shared_task(ignore_result=True)
def purge_idempotency_records() -> int:
    """Keep the idempotency table to the replay window."""
    return idempotency.purge_expired()


# A sweep is safe to repeat: if its worker process dies, the message goes back to the queue at once.
@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def sweep_reminders() -> dict:
    """Write the reminders that have come due (once per item, kind and deadline), with notices and pushes.
    A worker that dies mid-sweep rolls its transaction back; the redelivered message sweeps again."""
    result = reminders.sweep()
    return {"due": result.due, "reminders": result.reminders, "notices": result.notices, "pushes": result.pushes}


# Safe to repeat: each case is counted again in its own transaction, and a deadline already moved stays put. If its
# worker dies mid-run, the message goes back to the queue and the redelivered one finishes what is left.
@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def reschedule_deadlines(year: int) -> dict:
    """Count the open deadlines that touch `year` again once its holiday schedule is confirmed
    (services.time.reschedule): each that moves gets its event and notices."""
    result = reschedule.reschedule_year(year=year)
    return {"year": result.year, "cases": result.cases, "moved": result.moved, "flagged": result.flagged}


@shared_task(acks_late=True, ignore_result=True)
def deliver_push(push_pk: int) -> None:
    """Send one push (email or WeCom); on failure queue the retry at its backoff time."""
    result = pushes.deliver(push_pk)
    if result.retry_at is None or settings.CELERY_TASK_ALWAYS_EAGER:
        return  # eager mode cannot wait: the sweep retries when the time comes
    deliver_push.apply_async((push_pk,), eta=result.retry_at)


@shared_task(ignore_result=True)
def deliver_due_pushes() -> int:
    """The outbox sweep: queue pushes left pending (broker down, held for the morning, worker died, retry due),
    and password reset requests the broker never got."""
    due = pushes.due_pushes()
    pushes.send_soon(due)
    accounts.send_soon(accounts.pending_requests())
    return len(due)


@shared_task(acks_late=True, ignore_result=True)
def process_password_reset(request_pk: int) -> int:
    """Turn a password reset request into a mail push for each account under its address (once)."""
    return accounts.process_request(request_pk)


@shared_task(acks_late=True, ignore_result=True)
def write_daily_digests() -> int:
    """Each staff member's morning digest of open, due and overdue items (once per person and working day)."""
    return digests.write_daily_digests()


@shared_task(acks_late=True, ignore_result=True)
def write_weekly_summaries() -> int:
    """The leaders' weekly summary with the dashboard figures and the ledger (once per leader and week)."""
    return digests.write_weekly_summaries()
