"""The periodic work Celery beat runs, stored by django-celery-beat so administrators can change it in the admin
(周期任务). `manage.py seed` creates the missing entries; an interval or switch edited in the admin is kept."""

from dataclasses import dataclass

from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask


@dataclass(frozen=True)
class Periodic:
    name: str
    task: str
    every_seconds: int
    description: str


PERIODIC_TASKS = [
    Periodic(
        "发送待投递的 Webhook",
        "tracker.tasks.deliver_due_webhooks",
        60,
        "The outbox sweep: webhook deliveries the broker missed, retries whose time has come, senders that died.",
    ),
    Periodic(
        "报告逾期事项（Webhook task.overdue）",
        "tracker.tasks.emit_overdue_task_webhooks",
        15 * 60,
        "Writes one task.overdue delivery per subscriber for each task past its due date (once per due date).",
    ),
    Periodic(
        "到期提醒与督办",
        "tracker.tasks.sweep_reminders",
        5 * 60,
        "Writes the reminders that have come due — once per item, kind and deadline — with notices and pushes.",
    ),
    Periodic(
        "发送待推送的邮件和企业微信消息",
        "tracker.tasks.deliver_due_pushes",
        60,
        "The push outbox: messages the broker missed, held overnight, due a retry, or left by a dead worker.",
    ),
    Periodic(
        "每日待办摘要",
        "tracker.tasks.write_daily_digests",
        30 * 60,
        "On working days, each staff member's digest of open, due and overdue items (once per person and day).",
    ),
    Periodic(
        "领导每周汇总",
        "tracker.tasks.write_weekly_summaries",
        60 * 60,
        "On the week's first working day, each leader's summary with the dashboard figures and the ledger.",
    ),
    Periodic(
        "清理过期幂等记录",
        "tracker.tasks.purge_idempotency_records",
        60 * 60,
        "Forgets Idempotency-Key answers older than IDEMPOTENCY_KEY_TTL_HOURS.",
    ),
]


@transaction.atomic
def ensure_periodic_tasks() -> int:
    """Create the periodic tasks that are missing (matched by task path); returns how many there are."""
    for periodic in PERIODIC_TASKS:
        if PeriodicTask.objects.filter(task=periodic.task).exists():
            continue
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=periodic.every_seconds, period=IntervalSchedule.SECONDS
        )
        PeriodicTask.objects.create(
            name=periodic.name, task=periodic.task, interval=interval, description=periodic.description
        )
    return PeriodicTask.objects.filter(task__in=[p.task for p in PERIODIC_TASKS]).count()
