"""A real Celery worker process on the local Redis and the PostgreSQL test database delivers webhooks: each
delivery id reaches the receiver once, signed, and a failed attempt is retried by the worker under the same id.

Needs PostgreSQL (the worker reads what the test commits) and Redis at 127.0.0.1:6379 (DB 14 is this test's).
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection

from services.cases import steps as case_services
from services.delivery import webhooks
from tests.webhook_receiver import Receiver, signature_verifies  # the same real receiver and recipe
from tracker.celery import app as celery_app
from tracker.models import Case, WebhookDelivery

REDIS_URL = "redis://127.0.0.1:6379/14"
READY_SECONDS = 30
DELIVERY_SECONDS = 20

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="a worker process needs a database it can share with the test: run with a PostgreSQL DATABASE_URL",
    ),
]


def redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def flush_redis() -> None:
    redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).flushdb()


def wait_for(condition: Callable[[], object], seconds: float, what: str, log: Path | None = None):
    """Poll until `condition()` is truthy and return it; fail naming `what` (with the worker's log) after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
    pytest.fail(f"waited {seconds} s for {what}; worker log ends:\n{tail}")


def database_url() -> str:
    """The test database (not the one named in DATABASE_URL: pytest-django made test_<name>) as a URL."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or 5432
    return f"postgres://{credentials}@{host}:{port}/{db['NAME']}"


def drop_producer_pools() -> None:
    """Celery keeps its broker connection pools; drop them so the next publish reads the broker URL again."""
    for pool in (celery_app._pool, celery_app.amqp._producer_pool):
        if pool is not None:
            pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def worker(transactional_db, settings, tmp_path):
    """A `celery worker` process on Redis DB 14 and the test database; this process publishes to the same Redis.
    Yields the path of the worker's log."""
    if not redis_answers():
        pytest.skip(f"Redis does not answer at {REDIS_URL}: start it to run the real-worker test")
    flush_redis()
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = REDIS_URL  # Celery's app config reads through to the Django settings
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = True  # the subscription points at the receiver on 127.0.0.1
    drop_producer_pools()
    assert celery_app.conf.broker_url == REDIS_URL and not celery_app.conf.task_always_eager

    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "WEBHOOK_RETRY_BASE_SECONDS": "1",
        "OUTBOUND_ALLOW_PRIVATE_ADDRESSES": "1",  # the receiver listens on 127.0.0.1
        "WEBHOOK_TIMEOUT_SECONDS": "5",
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        str(Path(sys.executable).with_name("celery")),
        "-A",
        "tracker",
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "-l",
        "info",
        "-n",
        f"webhook-test-{os.getpid()}@%h",
        "--without-mingle",
        "--without-gossip",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=django_settings.BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        wait_for(
            lambda: process.poll() is not None or " ready." in log.read_text(errors="replace"),
            READY_SECONDS,
            "the worker to be ready",
            log,
        )
        assert process.poll() is None, f"the worker exited ({process.returncode}):\n{log.read_text()[-4000:]}"
        yield log
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        drop_producer_pools()
        flush_redis()


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_each_event_once_and_retries_a_failure(zone, receiver, worker):
    # Given a subscription to submissions and status changes
    subscription = webhooks.create_subscription(
        actor=zone.admin,
        name="企业服务平台",
        url=receiver.url,
        event_types=["case.submitted", "case.status_changed"],
    )

    # When the enterprise submits a case (committed, so on_commit queues it to Redis for the worker)
    case = case_services.submit_case(
        actor=zone.enterprise_user,
        enterprise=zone.enterprise,
        category=zone.category,
        title="厂房扩建审批进度咨询",
        description="企业新厂房扩建，规划许可尚未批复，希望协调加快。",
    )

    # Then the worker delivers it: one request, signed with the subscription's secret
    submitted = WebhookDelivery.objects.get(event_type="case.submitted")
    wait_for(
        lambda: WebhookDelivery.objects.filter(pk=submitted.pk, status=WebhookDelivery.Status.DELIVERED).exists(),
        DELIVERY_SECONDS,
        "the case.submitted delivery",
        worker,
    )
    time.sleep(1)  # room for a duplicate to show up, if one were coming
    (request,) = receiver.requests()
    assert request.headers["X-Webhook-Id"] == str(submitted.delivery_id) == request.payload["id"]
    assert request.payload["data"]["case"]["id"] == case.pk
    assert signature_verifies(subscription.secret, request)

    # When the receiver fails the next request once and the concierge accepts the case
    receiver.answer(500)
    case_services.accept_case(actor=zone.concierge, case=case)

    # Then the worker retries after its backoff under the same delivery id, and the second try is delivered
    changed = WebhookDelivery.objects.get(event_type="case.status_changed")
    wait_for(
        lambda: WebhookDelivery.objects.filter(pk=changed.pk, status=WebhookDelivery.Status.DELIVERED).exists(),
        DELIVERY_SECONDS,
        "the retried case.status_changed delivery",
        worker,
    )
    time.sleep(1)
    failed, retried = (r for r in receiver.requests() if r.payload["type"] == "case.status_changed")
    assert failed.headers["X-Webhook-Id"] == retried.headers["X-Webhook-Id"] == str(changed.delivery_id)
    assert failed.body == retried.body
    assert retried.at - failed.at >= 0.9  # WEBHOOK_RETRY_BASE_SECONDS=1 in the worker
    assert signature_verifies(subscription.secret, retried)
    changed.refresh_from_db()
    assert list(changed.attempt_log.values_list("number", "status_code", "succeeded")) == [
        (1, 500, False),
        (2, 200, True),
    ]
    assert Case.objects.get(pk=case.pk).status == Case.Status.ACCEPTED
    # And across both, each delivery id reached the receiver successfully exactly once
    assert len(receiver.requests()) == 3
    assert webhooks.due_deliveries() == []
