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
