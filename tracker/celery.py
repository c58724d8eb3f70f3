"""The Celery app: Redis as broker in production (`CELERY_BROKER_URL`, defaulting to `REDIS_URL`).

Tasks live in `tracker/tasks.py`; they take ids, call a service, and are safe to run twice.
"""

import os

from celery import Celery

from tracker import logs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

app = Celery("tracker")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["tracker"])
logs.connect_celery_signals()
