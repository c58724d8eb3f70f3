"""The broker is down: the web process (gunicorn, configured from its environment like production) publishes to a
Redis port nobody listens on. An enterprise still submits a case over the REST API — answered 201 at once, the
case, the concierge's notice and its pushes saved — and once a worker runs on the real Redis, the outbox sweep
(`deliver_due_pushes`) sends the pushes: by email (Django's file backend, EMAIL_URL=filemail://…) and to the
WeCom group robot.

Needs PostgreSQL (web, worker and test share the database) and Redis at 127.0.0.1:6379 (DB 12 is this file's).
"""

import email
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from email.header import decode_header, make_header
from pathlib import Path

import pytest
import redis
import requests
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from services import api_tokens
from tests.celery.test_real_worker import database_url, wait_for
from tests.celery.test_reminders_real_worker import PushReceiver, Worker, reset_publisher
from tracker import tasks as celery_tasks
from tracker.models import Case, HolidayOverride, Notification, PushDelivery

REDIS_URL = "redis://127.0.0.1:6379/12"
ANSWER_SECONDS = 5  # what "at once" means for the submission, with the broker down
DONE_SECONDS = 30

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="web, worker and test share one database: run with a PostgreSQL DATABASE_URL",
    ),
]


def free_port() -> int:
    """A port nobody listens on (bound by the system, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def receiver():
    receiver = PushReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def redis_db12():
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"Redis does not answer at {REDIS_URL}: start it to run this test")
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def web(transactional_db, tmp_path):
    """gunicorn serving the app on the test database, its Celery broker a closed port. Yields (base URL, log)."""
    port, closed = free_port(), free_port()
    log = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{closed}/0",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "OUTBOUND_ALLOW_PRIVATE_ADDRESSES": "1",  # the WeCom robot listens on 127.0.0.1
        "DJANGO_SECURE_SSL_REDIRECT": "0",  # spoken to directly over HTTP, with no TLS proxy in front
        "REMINDER_DAY_START_HOUR": "0",  # the pushes are due at once, whatever the hour
        "REMINDER_DAY_END_HOUR": "24",
        "LOG_LEVEL": "WARNING",
    }
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "tracker.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        "--workers=1",
        f"--chdir={django_settings.BASE_DIR}",
        "--log-level=warning",
    ]
    with log.open("wb") as output:
        server = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"

    def answering() -> bool:
        assert server.poll() is None, f"gunicorn exited:\n{log.read_text(errors='replace')[-4000:]}"
        try:
            requests.get(f"{base_url}/api/v1/categories/", timeout=5)
            return True
        except requests.ConnectionError:
            return False

    try:
        wait_for(answering, 30, "gunicorn to answer", log)
        yield base_url, log
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


@pytest.mark.django_db(transaction=True)
def test_a_case_submitted_while_the_broker_is_down_is_saved_and_its_pushes_sent_later(
    zone, receiver, redis_db12, web, settings, tmp_path
):
    # Given today a working day, and a concierge reached by email and in the department's WeCom group
    HolidayOverride.objects.update_or_create(
        date=timezone.localdate(), defaults={"is_working_day": True, "note": "测试"}
    )
    zone.other_department.wecom_webhook_url = receiver.url
    zone.other_department.save(update_fields=["wecom_webhook_url"])
    concierge = zone.concierge
    concierge.email, concierge.department = "concierge@example.com", zone.other_department
    concierge.save(update_fields=["email", "department"])
    _, key = api_tokens.create_token(actor=None, user=zone.enterprise_user, name="broker down")
    base_url, web_log = web

    # When the enterprise submits a case over the API while the web process cannot reach its broker
    started = time.monotonic()
    response = requests.post(
        f"{base_url}/api/v1/cases/",
        json={"category": "land", "title": "厂房扩建审批进度咨询", "description": "规划许可尚未批复，希望协调加快。"},
        headers={"Authorization": f"Token {key}"},
        timeout=30,
    )
    answered_in = time.monotonic() - started

    # Then it is answered 201 at once, and the case, the concierge's notice and its two pushes are saved
    assert response.status_code == 201, response.text
    assert answered_in < ANSWER_SECONDS
    case = Case.objects.get(pk=response.json()["id"])
    assert (case.status, case.submitted_by) == (Case.Status.SUBMITTED, zone.enterprise_user)
    notice = Notification.objects.get(case=case, recipient=concierge)
    assert notice.kind == Notification.Kind.CASE_SUBMITTED
    pushes = {p.channel: p for p in PushDelivery.objects.filter(notification=notice)}
    assert set(pushes) == {PushDelivery.Channel.EMAIL, PushDelivery.Channel.WECOM}
    assert PushDelivery.objects.count() == 2
    for push in pushes.values():
        assert (push.status, push.attempts) == (PushDelivery.Status.PENDING, 0)
        assert push.next_attempt_at <= timezone.now()  # due: only the broker stood in the way
    # (the web process tried to queue them, and said why it could not)
    assert "not queued; the sweep will send it" in web_log.read_text(errors="replace")
    assert receiver.received() == []

    # When a worker runs on the real Redis (email to files) and the outbox sweep is sent to it
    outbox = tmp_path / "mail"
    worker = Worker(
        tmp_path / "worker.log",
        {},
        broker_url=REDIS_URL,
        # django-environ drops the first "/" of the path: an absolute folder takes four ("filemail:////tmp/…")
        env={
            "EMAIL_URL": f"filemail:///{outbox}",
            "PUSH_MESSAGE_ID_DOMAIN": "concierge.test",
            "OUTBOUND_ALLOW_PRIVATE_ADDRESSES": "1",  # the WeCom robot listens on 127.0.0.1
        },
    )
    try:
        settings.CELERY_TASK_ALWAYS_EAGER = False
        settings.CELERY_BROKER_URL = REDIS_URL
        reset_publisher()
        celery_tasks.deliver_due_pushes.delay()

        # Then both pushes are sent, once, each with one attempt
        wait_for(
            lambda: not PushDelivery.objects.exclude(status=PushDelivery.Status.SENT).exists(),
            DONE_SECONDS,
            "both pushes to be sent",
            worker.log,
        )
        assert list(worker.results("deliver_due_pushes").values()) == ["2"]
    finally:
        worker.stop()
        reset_publisher()
    assert set(PushDelivery.objects.values_list("attempts", flat=True)) == {1}
    # The group robot got the WeCom push, under its id
    assert receiver.received() == [pushes[PushDelivery.Channel.WECOM].pk]
    # And the concierge's mail is in the outbox folder: one message, with the push's Message-ID and the case
    (mail_file,) = outbox.iterdir()
    message = email.message_from_bytes(mail_file.read_bytes())
    assert message["To"] == "concierge@example.com"
    assert message["Message-ID"] == f"<push-{pushes[PushDelivery.Channel.EMAIL].pk}@concierge.test>"
    subject = str(make_header(decode_header(message["Subject"])))
    assert subject.startswith("【新诉求待受理】") and case.number in subject
    print(f"\nsubmitted with the broker down: 201 in {answered_in * 1000:.0f} ms")
