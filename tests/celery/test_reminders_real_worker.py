"""Reminders through a real Celery worker (prefork, two processes) on the local Redis and the PostgreSQL test
database, with the worker killed (SIGKILL, the whole process group) at the worst moments:

- two sweeps at once, then a kill in the middle of the batch of WeCom pushes and a restart: one reminder per
  item, kind and deadline, one notice per reminder and person, every push sent and received — a push whose POST
  was in flight at the kill arrives twice at most (at-least-once; X-Push-Id lets the receiver tell);
- a kill in the middle of the sweep's transaction: nothing is written, and the redelivered message (acks_late)
  writes everything, once.

Needs PostgreSQL (the worker reads what the test commits) and Redis at 127.0.0.1:6379 (DB 13 is this file's).
"""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import kombu.pools
import psycopg
import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from services.roles import Role
from services.time.calendar import WorkingCalendar
from services.time.reminders import working_days_ago
from tests.celery.test_real_worker import database_url, drop_producer_pools, wait_for
from tests.factories import UserFactory, make_case
from tracker import tasks as celery_tasks
from tracker.models import Case, HolidayOverride, Notification, PushDelivery, Reminder, Task

REDIS_URL = "redis://127.0.0.1:6379/13"
CONCURRENCY = 2
TASKS = 40  # half overdue by a day, half long enough for the yellow card: 60 reminders, 100 pushes
RECEIVER_DELAY = 0.05  # seconds the WeCom stand-in takes to answer each push: a batch takes a few seconds
READY_SECONDS = 30
DONE_SECONDS = 60
Kind = Reminder.Kind
Status = PushDelivery.Status

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="a worker process needs a database it can share with the test: run with a PostgreSQL DATABASE_URL",
    ),
]


# The parts: a WeCom group robot, a worker that can be killed, the data ------------------------------------------


class PushReceiver:
    """A WeCom group robot stand-in on 127.0.0.1: records the X-Push-Id of each POST as it arrives, then takes
    RECEIVER_DELAY to answer `{"errcode": 0}`. A POST whose sender dies while waiting has still been received."""

    def __init__(self):
        self.ids: list[int] = []
        self.answering = 0  # POSTs received and not yet answered
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.ids.append(int(self.headers["X-Push-Id"]))
                    receiver.answering += 1
                try:
                    time.sleep(RECEIVER_DELAY)
                    body = b'{"errcode": 0, "errmsg": "ok"}'
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the sender is gone
                    pass
                finally:
                    with receiver.lock:
                        receiver.answering -= 1

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/cgi-bin/webhook/send?key=test"

    def received(self) -> list[int]:
        with self.lock:
            return list(self.ids)

    def in_the_middle(self, at_least: int) -> bool:
        """At least `at_least` pushes received, and one being answered right now."""
        with self.lock:
            return len(self.ids) >= at_least and self.answering > 0

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# `celery worker`, with broker transport options from the environment (the settings have none for Redis).
LAUNCHER = """
import json, os, sys
from tracker.celery import app
options = json.loads(os.environ["TEST_BROKER_TRANSPORT_OPTIONS"])
if options:
    app.conf.broker_transport_options = options
app.worker_main(sys.argv[1:])
"""


class Worker:
    """A `celery worker` process group: prefork, CONCURRENCY processes, on `broker_url` (Redis DB 13 unless told)
    and the test database; `env` adds to its environment."""

    count = 0

    def __init__(self, log: Path, transport_options: dict, broker_url: str = REDIS_URL, env: dict | None = None):
        Worker.count += 1
        self.log = log
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": broker_url,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "REMINDER_DAY_START_HOUR": "0",  # pushes go out at once, whatever the hour
            "REMINDER_DAY_END_HOUR": "24",
            "PUSH_TIMEOUT_SECONDS": "2",
            "OUTBOUND_ALLOW_PRIVATE_ADDRESSES": "1",  # the WeCom robot listens on 127.0.0.1
            "PUSH_RETRY_BASE_SECONDS": "1",
            "TEST_BROKER_TRANSPORT_OPTIONS": json.dumps(transport_options),
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        command = [
            sys.executable,
            "-c",
            LAUNCHER,
            "worker",
            "--pool=prefork",
            f"--concurrency={CONCURRENCY}",
            "-l",
            "info",
            "-n",
            f"reminders-test-{os.getpid()}-{Worker.count}@%h",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
        ]
        with log.open("wb") as output:
            # Its own process group, so a kill reaches the pool processes too, as when the machine dies.
            self.process = subprocess.Popen(
                command,
                cwd=django_settings.BASE_DIR,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(
            lambda: self.process.poll() is not None or " ready." in self.text(),
            READY_SECONDS,
            "the worker to be ready",
            log,
        )
        assert self.process.poll() is None, f"the worker exited ({self.process.returncode}):\n{self.text()[-4000:]}"

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL to every process of the worker at once: no acknowledgement, no cleanup, no commit."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def results(self, task_name: str) -> dict[str, str]:
        """Task id → the return value logged, for each `task_name` this worker finished."""
        pattern = rf"Task tracker\.tasks\.{task_name}\[([0-9a-f-]+)\] succeeded in [0-9.e-]+s: (.*)"
        return dict(re.findall(pattern, self.text()))


def reset_publisher() -> None:
    """Make this process's Celery app connect afresh to the broker URL of the settings. Dropping the app's pools
    is not enough when the same URL is used again: kombu keeps the closed pool in its registry under that URL."""
    drop_producer_pools()
    kombu.pools.reset()


@pytest.fixture
def receiver():
    receiver = PushReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def workers(transactional_db, settings, tmp_path):
    """`workers(**transport_options)` starts a worker; this process publishes to the same Redis DB."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"Redis does not answer at {REDIS_URL}: start it to run the real-worker tests")
    client.flushdb()
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = REDIS_URL  # Celery's app config reads through to the Django settings
    settings.REMINDER_DAY_START_HOUR, settings.REMINDER_DAY_END_HOUR = 0, 24  # as in the worker
    reset_publisher()
    started: list[Worker] = []

    def start(**transport_options) -> Worker:
        worker = Worker(tmp_path / f"worker{len(started) + 1}.log", transport_options)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
    reset_publisher()
    client.flushdb()


def overdue_work(zone, receiver) -> tuple[list[Task], set[tuple[str, str, object]]]:
    """TASKS tasks of cases in progress given to a department whose officers (two) and head take reminders in the
    department's WeCom group: half overdue since the last working day, half overdue long enough for the yellow
    card (黄牌, to the head). Today is made a working day. Returns the tasks and the reminders due."""
    today = timezone.localdate()
    HolidayOverride.objects.update_or_create(date=today, defaults={"is_working_day": True, "note": "测试"})
    department = zone.department
    UserFactory(username="officer2", full_name="钱九", department=department, roles=[Role.DEPARTMENT_OFFICER])
    department.head = UserFactory(username="head", full_name="局长", department=department)
    department.save(update_fields=["head"])
    for n in range(TASKS):
        make_case(
            status=Case.Status.IN_PROGRESS,
            enterprise_user=zone.enterprise_user,
            concierge=zone.concierge,
            category=zone.category,
            unit=department,
            worker=zone.officer,
            title=f"逾期事项 {n + 1}",
        )
    # Only now the group robot: the notices of the set-up (task assigned) pushed nothing
    department.wecom_webhook_url = receiver.url
    department.save(update_fields=["wecom_webhook_url"])

    tasks = list(Task.objects.order_by("pk"))
    assert len(tasks) == TASKS
    yellow = working_days_ago(today, django_settings.REMINDER_YELLOW_AFTER_DAYS, WorkingCalendar.load())
    late, later = tasks[: TASKS // 2], tasks[TASKS // 2 :]
    Task.objects.filter(pk__in=[t.pk for t in late]).update(due_on=today - timedelta(days=1))
    Task.objects.filter(pk__in=[t.pk for t in later]).update(due_on=yellow)
    expected = {(Kind.TASK_OVERDUE, f"task:{t.pk}", today - timedelta(days=1)) for t in late}
    expected |= {(k, f"task:{t.pk}", yellow) for t in later for k in (Kind.TASK_OVERDUE, Kind.TASK_YELLOW)}
    return tasks, expected


def assert_written_once(expected) -> None:
    """One reminder per item, kind and deadline; one notice per reminder and person; one push per notice."""
    written = list(Reminder.objects.values_list("kind", "item_key", "deadline"))
    assert len(written) == len(set(written)) == len(expected)
    assert set(written) == expected
    notices = list(Notification.objects.filter(reminder__isnull=False).values_list("reminder_id", "recipient_id"))
    assert len(notices) == len(set(notices))
    per_kind = Counter(Notification.objects.filter(reminder__isnull=False).values_list("kind", flat=True))
    # the overdue notice to both officers (no task force lead), the yellow one to the head
    assert per_kind == {Kind.TASK_OVERDUE: 2 * TASKS, Kind.TASK_YELLOW: TASKS // 2}
    assert PushDelivery.objects.count() == len(notices)
    assert not Notification.objects.filter(reminder__isnull=False, pushes__isnull=True).exists()


# The tests ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_and_a_kill_mid_batch_send_every_push_at_least_once(zone, receiver, workers):
    # Given overdue work whose reminders go to a department's WeCom group, and a worker with two processes
    _, expected = overdue_work(zone, receiver)
    pushes_due = 2 * TASKS + TASKS // 2
    worker = workers()

    # When the sweep is sent twice at the same time
    celery_tasks.sweep_reminders.delay()
    celery_tasks.sweep_reminders.delay()

    # And the worker is killed in the middle of the pushes (a quarter received, one being answered)
    wait_for(lambda: receiver.in_the_middle(pushes_due // 4), DONE_SECONDS, "the pushes to start arriving", worker.log)
    worker.kill()
    killed_at = timezone.now()
    received_at_kill = receiver.received()
    assert 0 < len(received_at_kill) < pushes_due, "the kill was meant to land in the middle of the batch"

    # Then the two sweeps wrote each reminder, notice and push once between them
    sweeps = [json.loads(r.replace("'", '"')) for r in worker.results("sweep_reminders").values()]
    assert len(sweeps) == 2 and sum(s["reminders"] for s in sweeps) == len(expected) == 60
    assert sorted(s["pushes"] for s in sweeps) == [0, pushes_due]
    assert_written_once(expected)
    # And the pushes in flight at the kill are leased to the dead worker: claimed, unsent, attempt not recorded
    in_flight = set(
        PushDelivery.objects.filter(status=Status.PENDING, next_attempt_at__gt=killed_at).values_list("pk", flat=True)
    )
    assert 1 <= len(in_flight) <= CONCURRENCY  # one was being answered at the kill

    # When the worker comes back, it sends what was still queued
    queued = redis.Redis.from_url(REDIS_URL).llen("celery")
    worker = workers()
    wait_for(lambda: len(worker.results("deliver_push")) >= queued, DONE_SECONDS, "the queued pushes", worker.log)
    # And the outbox sweep runs: it sends what the dead worker had taken from the queue but not begun (its
    # messages wait unacknowledged for the broker's visibility timeout, an hour), not the pushes still leased
    celery_tasks.deliver_due_pushes.delay()
    wait_for(lambda: worker.results("deliver_due_pushes"), DONE_SECONDS, "the outbox sweep", worker.log)
    wait_for(
        lambda: set(PushDelivery.objects.filter(status=Status.PENDING).values_list("pk", flat=True)) == in_flight,
        DONE_SECONDS,
        "every push but the leased ones to be sent",
        worker.log,
    )
    (taken,) = worker.results("deliver_due_pushes").values()
    time.sleep(0.5)
    assert not set(receiver.received()[len(received_at_kill) :]) & in_flight  # a live lease is respected

    # When their lease runs out (3 × PUSH_TIMEOUT_SECONDS + 60 s: instead of waiting a minute, the test moves the
    # end of the lease into the past) and the outbox sweep runs
    PushDelivery.objects.filter(pk__in=in_flight).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    celery_tasks.deliver_due_pushes.delay()

    # Then every push ends sent, with its attempts recorded
    wait_for(
        lambda: not PushDelivery.objects.exclude(status=Status.SENT).exists(),
        DONE_SECONDS,
        "every push to be sent",
        worker.log,
    )
    assert sorted(worker.results("deliver_due_pushes").values(), key=int) == sorted(
        [taken, str(len(in_flight))], key=int
    )
    pushes = list(PushDelivery.objects.values_list("pk", "attempts", "sent_at", "channel"))
    assert len(pushes) == pushes_due
    assert all(attempts >= 1 and sent_at is not None and channel == "wecom" for _, attempts, sent_at, channel in pushes)
    # (the attempt cut short by the kill left no record: a push sent twice may show one attempt)
    time.sleep(0.5)  # room for a stray resend to show up, if one were coming
    received = receiver.received()
    assert set(received) == {pk for pk, *_ in pushes}
    # And a push arrived twice only if it was in flight at the kill: at most one per worker process
    duplicates = Counter(pk for pk, n in Counter(received).items() for _ in range(n - 1))
    assert set(duplicates) <= in_flight
    assert sum(duplicates.values()) <= len(in_flight) <= CONCURRENCY
    print(
        f"\n{len(received_at_kill)} of {pushes_due} pushes received before the kill, {len(in_flight)} in flight, "
        f"{queued} still queued, {taken} taken by the dead worker and not begun; "
        f"{sum(duplicates.values())} received twice"
    )


@pytest.mark.django_db(transaction=True)
def test_a_kill_inside_the_sweep_writes_nothing_and_the_redelivered_message_writes_everything_once(
    zone, receiver, workers
):
    # Given overdue work, and a worker whose unacknowledged messages come back after 5 s (instead of an hour)
    _, expected = overdue_work(zone, receiver)
    redelivery = {"visibility_timeout": 5, "unacked_restore_interval": 1, "unacked_restore_throttle": 1}
    worker = workers(**redelivery)
    watcher = psycopg.connect(database_url(), autocommit=True)
    holder = psycopg.connect(database_url())
    try:
        # And the outbox table locked by another transaction, so the sweep stops at its last step: its reminders
        # and notices inserted in its transaction, its pushes waiting to be. (A row lock would not do: Django's
        # foreign keys are checked at COMMIT, and a COMMIT the database has received completes without its client.)
        holder.execute("LOCK TABLE tracker_pushdelivery IN SHARE MODE")

        # When the sweep runs and the worker is killed while it waits there
        message = celery_tasks.sweep_reminders.delay()

        def sweep_backend():
            row = watcher.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
                " AND state = 'active' AND query LIKE 'INSERT INTO \"tracker_pushdelivery\"%'"
            ).fetchone()
            return row[0] if row else None

        pid = wait_for(sweep_backend, DONE_SECONDS, "the sweep to wait on the locked table", worker.log)
        written_to = watcher.execute(
            "SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
            " WHERE l.pid = %s AND l.mode = 'RowExclusiveLock' AND l.granted",
            [pid],
        ).fetchall()
        assert {"tracker_reminder", "tracker_notification"} <= {name for (name,) in written_to}
        worker.kill()
        holder.rollback()  # the lock goes; the dead worker's transaction can never be committed

        # Then once the database has seen its client gone, nothing of that sweep remains
        wait_for(
            lambda: not watcher.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone(),
            DONE_SECONDS,
            "the dead worker's database session to end",
        )
    finally:
        watcher.close()
        holder.close()
    assert not Reminder.objects.exists()
    assert not Notification.objects.filter(reminder__isnull=False).exists()
    assert not PushDelivery.objects.exists()
    assert receiver.received() == []

    # When the worker comes back: the message it never acknowledged is delivered again
    worker = workers(**redelivery)
    wait_for(lambda: worker.results("sweep_reminders"), DONE_SECONDS, "the redelivered sweep", worker.log)
    assert list(worker.results("sweep_reminders")) == [message.id]  # the same message, not a new one

    # Then that sweep wrote every reminder, notice and push, once, and every push is received once
    assert_written_once(expected)
    wait_for(
        lambda: not PushDelivery.objects.exclude(status=Status.SENT).exists(),
        DONE_SECONDS,
        "every push to be sent",
        worker.log,
    )
    received = receiver.received()
    assert sorted(received) == sorted(PushDelivery.objects.values_list("pk", flat=True))
    assert set(PushDelivery.objects.values_list("attempts", flat=True)) == {1}

    # And a further sweep finds everything in the reminder log: nothing new
    again = celery_tasks.sweep_reminders.delay()
    wait_for(lambda: again.id in worker.results("sweep_reminders"), DONE_SECONDS, "the second sweep", worker.log)
    assert json.loads(worker.results("sweep_reminders")[again.id].replace("'", '"'))["reminders"] == 0
    assert_written_once(expected)
    assert receiver.received() == received
