"""services.time.schedules: the periodic work is created once and what administrators change is kept."""

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from services.time.schedules import PERIODIC_TASKS, ensure_periodic_tasks
from tracker.celery import app

pytestmark = pytest.mark.django_db


def test_every_periodic_task_is_created_once_and_names_a_real_task():
    assert ensure_periodic_tasks() == len(PERIODIC_TASKS)
    assert ensure_periodic_tasks() == len(PERIODIC_TASKS)
    assert PeriodicTask.objects.filter(task__startswith="tracker.tasks.").count() == len(PERIODIC_TASKS)
    app.loader.import_default_modules()
    for periodic in PERIODIC_TASKS:
        assert periodic.task in app.tasks, periodic.task


def test_an_interval_or_switch_changed_in_the_admin_is_kept():
    ensure_periodic_tasks()
    task = PeriodicTask.objects.get(task="tracker.tasks.emit_overdue_task_webhooks")
    task.interval, _ = IntervalSchedule.objects.get_or_create(every=5, period=IntervalSchedule.MINUTES)
    task.enabled = False
    task.save()

    ensure_periodic_tasks()

    task.refresh_from_db()
    assert (task.interval.every, task.interval.period, task.enabled) == (5, IntervalSchedule.MINUTES, False)
