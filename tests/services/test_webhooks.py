"""Webhooks out (services/delivery/webhooks.py, tracker/tasks.py) against a real HTTP receiver on 127.0.0.1.

Celery runs eagerly here, so what `transaction.on_commit` queues is sent in the test's thread; the receiver is a
`ThreadingHTTPServer` that records every request and answers as each test scripts it.
"""

import threading
import time
from datetime import timedelta

import kombu.pools
import pytest
from django.db import connection
from django.utils import timezone

from services.cases import steps as case_services
from services.cases import tasks as task_services
from services.cases.tasks import TaskSpec
from services.delivery import outbox, webhooks
from tests.factories import case_at, race, task_at
from tests.webhook_receiver import Received, Receiver, signature_verifies
from tracker import tasks as celery_tasks
from tracker.celery import app as celery_app
from tracker.models import Case, Task, WebhookAttempt, WebhookDelivery

CS = Case.Status
TS = Task.Status
Status = WebhookDelivery.Status

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL row locks and real concurrency"
)
UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"


# The receiver ------------------------------------------------------------------------------------------------


@pytest.fixture
def receiver(settings):
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = True  # the receiver listens on 127.0.0.1
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(autouse=True)
def eager_celery(settings):
    """Tasks run in the caller's thread; retries are due at once; a receiver slower than 1 s has timed out."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_TASK_EAGER_PROPAGATES = True  # a fault in a task fails the test instead of vanishing
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0
    settings.WEBHOOK_TIMEOUT_SECONDS = 1.0
    settings.WEBHOOK_MAX_ATTEMPTS = 3


def subscribe(zone, receiver: Receiver, *event_types: str, path: str = "", is_active: bool = True):
    return webhooks.create_subscription(
        actor=zone.admin,
        name="企业服务平台",
        url=receiver.url + path,
        event_types=list(event_types),
        is_active=is_active,
    )


def submit(zone) -> Case:
    return case_services.submit_case(
        actor=zone.enterprise_user,
        enterprise=zone.enterprise,
        category=zone.category,
        title="厂房扩建审批进度咨询",
        description="企业新厂房扩建，规划许可尚未批复，希望协调加快。",
    )


# Receiving and verifying -------------------------------------------------------------------------------------


def test_a_case_submitted_subscriber_receives_the_submission_signed(zone, receiver, django_capture_on_commit_callbacks):
    # Given a subscription to case.submitted
    subscription = subscribe(zone, receiver, "case.submitted")

    # When the enterprise submits a case
    with django_capture_on_commit_callbacks(execute=True):
        case = submit(zone)

    # Then the receiver got one signed POST describing it
    (request,) = receiver.requests()
    payload = request.payload
    assert payload["type"] == "case.submitted"
    assert payload["data"]["case"]["id"] == case.pk
    assert payload["data"]["case"]["number"] == case.number
    assert payload["data"]["case"]["status"] == CS.SUBMITTED
    assert payload["data"]["case"]["enterprise"]["id"] == zone.enterprise.pk
    assert payload["data"]["event"]["kind"] == "submitted"
    assert request.headers["X-Webhook-Id"] == payload["id"]
    assert request.headers["X-Webhook-Event"] == "case.submitted"
    assert request.headers["Content-Type"].startswith("application/json")
    assert abs(int(request.headers["X-Webhook-Timestamp"]) - time.time()) < 60
    assert request.headers["X-Webhook-Signature"].startswith("sha256=")
    # And the documented recipe verifies it with the subscription's secret, and only with it, over the raw body
    assert signature_verifies(subscription.secret, request)
    assert not signature_verifies(subscription.secret + "x", request)
    tampered = Received(request.path, request.headers, request.body.replace(b"submitted", b"accepted"))
    assert not signature_verifies(subscription.secret, tampered)
    # And the delivery is recorded as delivered on its first attempt
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, str(delivery.delivery_id)) == (Status.DELIVERED, 1, payload["id"])
    assert list(delivery.attempt_log.values_list("number", "status_code", "succeeded")) == [(1, 200, True)]


def test_a_500_is_retried_with_the_same_delivery_id_and_then_delivered(
    zone, receiver, django_capture_on_commit_callbacks
):
    # Given a receiver that fails once, then recovers
    subscription = subscribe(zone, receiver, "case.submitted")
    receiver.answer(500)

    # When a case is submitted
    with django_capture_on_commit_callbacks(execute=True):
        submit(zone)

    # Then it was sent twice, as the same delivery, each time signed afresh
    first, second = receiver.requests()
    assert first.headers["X-Webhook-Id"] == second.headers["X-Webhook-Id"] == second.payload["id"]
    assert first.payload == second.payload
    assert signature_verifies(subscription.secret, first) and signature_verifies(subscription.secret, second)
    # And both attempts are on record, the delivery delivered
    delivery = WebhookDelivery.objects.get()
    assert list(delivery.attempt_log.values_list("number", "status_code", "succeeded")) == [
        (1, 500, False),
        (2, 200, True),
    ]
    assert "500" in delivery.attempt_log.get(number=1).error
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (Status.DELIVERED, 2, None)
    assert delivery.delivered_at is not None


def test_a_receiver_that_does_not_answer_in_time_counts_as_a_failed_attempt(
    zone, receiver, settings, django_capture_on_commit_callbacks
):
    # Given a receiver that answers its first request only after the timeout
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    subscribe(zone, receiver, "case.submitted")
    receiver.answer(200, delay=2)

    # When a case is submitted
    with django_capture_on_commit_callbacks(execute=True):
        submit(zone)

    # Then the slow attempt is recorded as failed (no status, a timeout error) and the retry delivered it
    delivery = WebhookDelivery.objects.get()
    timed_out, delivered = delivery.attempt_log.all()
    assert (timed_out.succeeded, timed_out.status_code) == (False, None)
    assert "Timeout" in timed_out.error
    assert 400 <= timed_out.duration_ms < 2000
    assert (delivered.succeeded, delivered.status_code) == (True, 200)
    assert delivery.status == Status.DELIVERED
    assert len(receiver.requests()) == 2


def test_after_the_last_attempt_the_delivery_is_given_up(zone, receiver, django_capture_on_commit_callbacks):
    # Given a receiver that always fails, and WEBHOOK_MAX_ATTEMPTS = 3
    subscribe(zone, receiver, "case.submitted")
    receiver.answer(500, 503, 500, 500, 500)

    # When a case is submitted
    with django_capture_on_commit_callbacks(execute=True):
        submit(zone)

    # Then three attempts were made and the delivery is failed, due no more
    assert len(receiver.requests()) == 3
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (Status.FAILED, 3, None)
    assert list(delivery.attempt_log.values_list("status_code", flat=True)) == [500, 503, 500]
    assert delivery.pk not in webhooks.due_deliveries()
    # And neither a direct call nor the sweep tries it again
    assert webhooks.deliver(delivery.pk).sent is False
    celery_tasks.deliver_due_webhooks.delay()
    assert len(receiver.requests()) == 3


def test_an_administrator_resends_a_failed_delivery_under_the_same_id(
    zone, receiver, django_capture_on_commit_callbacks
):
    # Given a delivery given up after three failures
    subscribe(zone, receiver, "case.submitted")
    receiver.answer(500, 500, 500)
    with django_capture_on_commit_callbacks(execute=True):
        submit(zone)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.FAILED

    # When an administrator sends it again
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.resend(actor=zone.admin, delivery=delivery)

    # Then it arrives, with the delivery id of the first tries
    assert len({r.headers["X-Webhook-Id"] for r in receiver.requests()}) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.DELIVERED, 4)


def test_a_delivery_id_is_never_sent_twice_after_a_success(zone, receiver, django_capture_on_commit_callbacks):
    # Given a delivery received once
    subscribe(zone, receiver, "case.submitted")
    with django_capture_on_commit_callbacks(execute=True):
        submit(zone)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.DELIVERED and len(receiver.requests()) == 1

    # When it is sent again directly, through the task, and by the sweep (as a duplicate queued message would)
    again = webhooks.deliver(delivery.pk)
    celery_tasks.deliver_webhook.delay(delivery.pk)
    with django_capture_on_commit_callbacks(execute=True):
        swept = celery_tasks.deliver_due_webhooks.delay().get()

    # Then nothing more is sent or recorded
    assert (again.sent, again.delivered) == (False, False)
    assert delivery.pk not in webhooks.due_deliveries(now=timezone.now() + timedelta(days=1))
    assert swept == 0
    assert len(receiver.requests()) == 1
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1


# Which subscriptions hear what ---------------------------------------------------------------------------------


def test_subscribers_hear_only_their_event_types_and_inactive_ones_nothing(
    zone, receiver, django_capture_on_commit_callbacks
):
    # Given a case.submitted subscriber, a task.status_changed subscriber and a paused case.submitted subscriber
    subscribe(zone, receiver, "case.submitted", path="/cases")
    tasks_only = subscribe(zone, receiver, "task.status_changed", path="/tasks")
    subscribe(zone, receiver, "case.submitted", path="/paused", is_active=False)

    # When a case is submitted
    with django_capture_on_commit_callbacks(execute=True):
        case = submit(zone)

    # Then only the case.submitted subscriber hears of it
    assert [r.headers["X-Webhook-Event"] for r in receiver.requests("/cases")] == ["case.submitted"]
    assert receiver.requests("/tasks") == [] and receiver.requests("/paused") == []
    assert WebhookDelivery.objects.count() == 1

    # And when a task of the case starts, only the task subscriber hears of that
    case_services.accept_case(actor=zone.concierge, case=case)
    (task,) = task_services.decompose_case(
        actor=zone.concierge, case=case, tasks=[TaskSpec(title="协调规划许可", task_force=zone.task_force)]
    )
    receiver.received.clear()
    with django_capture_on_commit_callbacks(execute=True):
        task_services.start_task(actor=zone.member, task=task)
    (request,) = receiver.requests()
    assert request.path == "/hooks/tasks"
    assert request.payload["type"] == "task.status_changed"
    assert request.payload["data"]["task"]["id"] == task.pk
    assert request.payload["data"]["task"]["status"] == TS.IN_PROGRESS
    assert signature_verifies(tasks_only.secret, request)


def test_accepting_a_case_reports_its_status_change(zone, receiver, django_capture_on_commit_callbacks):
    # Given a submitted case and a subscriber to case.status_changed
    case = case_at(zone, CS.SUBMITTED)
    subscribe(zone, receiver, "case.status_changed")

    # When the concierge accepts it
    with django_capture_on_commit_callbacks(execute=True):
        case_services.accept_case(actor=zone.concierge, case=case, note="已联系企业")

    # Then the subscriber hears the move, from and to, with the case as it now is
    (request,) = receiver.requests()
    data = request.payload["data"]
    assert request.payload["type"] == "case.status_changed"
    assert (data["event"]["kind"], data["event"]["from_status"], data["event"]["to_status"]) == (
        "accepted",
        CS.SUBMITTED,
        CS.ACCEPTED,
    )
    assert data["event"]["actor"] == {"id": zone.concierge.pk, "name": zone.concierge.display_name}
    assert data["event"]["note"] == "已联系企业"
    assert data["case"]["status"] == CS.ACCEPTED
    assert data["case"]["version"] == Case.objects.get(pk=case.pk).version


def test_confirming_a_case_reports_the_feedback_and_the_status_change_separately(
    zone, receiver, django_capture_on_commit_callbacks
):
    # Given a resolved case and a subscriber to both feedback.recorded and case.status_changed
    case = case_at(zone, CS.RESOLVED)
    subscribe(zone, receiver, "feedback.recorded", "case.status_changed")

    # When the enterprise confirms it with a rating
    with django_capture_on_commit_callbacks(execute=True):
        case_services.confirm_case(actor=zone.enterprise_user, case=case, rating=5, comment="感谢")

    # Then two deliveries arrive, each with its own id: the feedback and the closing
    by_type = {r.headers["X-Webhook-Event"]: r for r in receiver.requests()}
    assert set(by_type) == {"feedback.recorded", "case.status_changed"}
    assert len({r.headers["X-Webhook-Id"] for r in receiver.requests()}) == 2
    feedback = by_type["feedback.recorded"].payload["data"]
    assert feedback["feedback"] == {"verdict": "confirm", "rating": 5, "source": "enterprise"}
    assert feedback["case"]["status"] == CS.CLOSED
    assert by_type["case.status_changed"].payload["data"]["event"]["to_status"] == CS.CLOSED


# Overdue tasks --------------------------------------------------------------------------------------------------


def test_an_overdue_task_is_reported_once_per_due_date(zone, receiver, django_capture_on_commit_callbacks):
    # Given a task in progress, two task.overdue subscribers and one that wants something else
    task = task_at(zone, TS.IN_PROGRESS)
    first_due = task.due_on
    subscribe(zone, receiver, "task.overdue", path="/a")
    subscribe(zone, receiver, "task.overdue", path="/b")
    subscribe(zone, receiver, "case.status_changed", path="/other")

    # When the sweep runs on its due date, nothing is overdue yet
    assert webhooks.emit_overdue_tasks(today=first_due) == 0

    # When it runs the day after, twice
    with django_capture_on_commit_callbacks(execute=True):
        written = webhooks.emit_overdue_tasks(today=first_due + timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        written_again = webhooks.emit_overdue_tasks(today=first_due + timedelta(days=2))

    # Then each task.overdue subscriber heard it once, and the second run wrote nothing
    assert (written, written_again) == (2, 0)
    assert WebhookDelivery.objects.filter(event_type="task.overdue").count() == 2
    for path in ("/a", "/b"):
        (request,) = receiver.requests(path)
        data = request.payload["data"]
        assert request.payload["type"] == "task.overdue"
        assert (data["task"]["id"], data["task"]["due_on"], data["overdue_since"]) == (
            task.pk,
            first_due.isoformat(),
            first_due.isoformat(),
        )
        assert data["case"]["id"] == task.case_id
    assert receiver.requests("/other") == []

    # When a leader extends the deadline and the task misses that one too
    extension = task_services.request_extension(
        actor=zone.member, task=task, requested_due_on=first_due + timedelta(days=10), reason="需等待省厅批复"
    )
    task_services.approve_extension(actor=zone.leader, extension=extension)
    new_due = Task.objects.get(pk=task.pk).due_on
    assert webhooks.emit_overdue_tasks(today=new_due) == 0
    with django_capture_on_commit_callbacks(execute=True):
        written = webhooks.emit_overdue_tasks(today=new_due + timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        written_again = webhooks.emit_overdue_tasks(today=new_due + timedelta(days=1))

    # Then it is reported again, once, with the new date
    assert (written, written_again) == (2, 0)
    assert len(receiver.requests("/a")) == 2
    assert receiver.requests("/a")[-1].payload["data"]["overdue_since"] == new_due.isoformat()
    assert WebhookDelivery.objects.filter(event_type="task.overdue").count() == 4


def test_a_done_task_is_not_reported_overdue(zone, receiver):
    # Given a task done before its deadline and a task.overdue subscriber
    task = task_at(zone, TS.DONE)
    subscribe(zone, receiver, "task.overdue")
    # When the sweep runs after the deadline
    written = webhooks.emit_overdue_tasks(today=task.due_on + timedelta(days=5))
    # Then nothing is written
    assert written == 0 and not WebhookDelivery.objects.exists()


def test_an_overdue_task_whose_deadline_is_moved_directly_is_reported_for_the_new_date(
    zone, receiver, django_capture_on_commit_callbacks
):
    # Given a task reported overdue for its first due date
    task = task_at(zone, TS.PENDING)
    subscribe(zone, receiver, "task.overdue")
    today = task.due_on + timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks.emit_overdue_tasks(today=today) == 1

    # When its due date is moved (still past) and the sweep runs again
    Task.objects.filter(pk=task.pk).update(due_on=task.due_on + timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        written = webhooks.emit_overdue_tasks(today=today)

    # Then the new date is reported once more
    assert written == 1
    assert [r.payload["data"]["overdue_since"] for r in receiver.requests()] == [
        task.due_on.isoformat(),
        (task.due_on + timedelta(days=1)).isoformat(),
    ]


# The broker is down ----------------------------------------------------------------------------------------------


@pytest.fixture
def broker(settings):
    """Point the in-process Celery app at another broker URL (its connection pools are dropped so the URL is
    read again), and back afterwards."""

    def use(url: str) -> None:
        settings.CELERY_BROKER_URL = url
        _drop_pools()

    def _drop_pools() -> None:
        for pool in (celery_app._pool, celery_app.amqp._producer_pool):
            if pool is not None:
                pool.force_close_all()
        celery_app._pool = None
        celery_app.amqp._producer_pool = None
        kombu.pools.reset()  # kombu keeps the closed pools in its registry: a later publish would find them there

    yield use
    _drop_pools()


def test_when_the_broker_is_down_the_change_is_kept_and_the_sweep_sends_it_later(
    zone, receiver, settings, broker, django_capture_on_commit_callbacks
):
    # Given a subscriber, and a broker nobody answers at
    subscription = subscribe(zone, receiver, "case.submitted")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    broker(UNREACHABLE_BROKER)

    # When a case is submitted
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        case = submit(zone)

    # Then the submission stands, quickly, and its delivery waits in the outbox, unsent
    assert time.monotonic() - started < 15
    assert Case.objects.get(pk=case.pk).status == CS.SUBMITTED
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (Status.PENDING, 0, None)
    assert receiver.requests() == []
    assert webhooks.due_deliveries() == [delivery.pk]

    # When the broker is back and the sweep runs
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert celery_tasks.deliver_due_webhooks.delay().get() == 1

    # Then the delivery arrives once, signed, and is done
    (request,) = receiver.requests()
    assert request.headers["X-Webhook-Id"] == str(delivery.delivery_id)
    assert signature_verifies(subscription.secret, request)
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED
    assert webhooks.due_deliveries() == []


# Two senders at once -----------------------------------------------------------------------------------------


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_senders_of_one_delivery_at_once_send_it_once(zone, receiver, monkeypatch):
    # Given a delivery waiting in the outbox (nothing queued it) and a receiver slow enough for the senders to overlap
    monkeypatch.setattr(webhooks, "send_soon", lambda pks: None)
    subscription = subscribe(zone, receiver, "case.submitted")
    submit(zone)
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    receiver.answer(200, delay=0.5)

    # When two workers deliver it at the same moment
    outcomes = race(lambda: webhooks.deliver(delivery.pk), lambda: webhooks.deliver(delivery.pk))

    # Then exactly one sent it, and the receiver got it once
    assert all(isinstance(o, outbox.SendResult) for o in outcomes), outcomes
    assert sorted(o.sent for o in outcomes) == [False, True]
    assert len(receiver.requests()) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.DELIVERED, 1)
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1


# Faults found in review, kept as tests ----------------------------------------------------------------------


def test_deliveries_waiting_when_a_subscription_is_paused_are_not_sent(
    zone, receiver, django_capture_on_commit_callbacks
):
    # Given a delivery waiting in the outbox (never queued), and then its subscription paused
    subscription = subscribe(zone, receiver, "case.submitted")
    submit(zone)  # its on_commit send never runs here
    webhooks.update_subscription(actor=zone.admin, subscription=subscription, is_active=False)

    # When the sweep runs
    with django_capture_on_commit_callbacks(execute=True):
        celery_tasks.deliver_due_webhooks()

    # Then the paused subscriber gets nothing
    assert receiver.requests() == []


def test_a_second_overdue_run_before_the_first_is_sent_writes_nothing(zone, receiver):
    # Given an overdue task, a subscriber, and a first run whose deliveries are not sent yet
    task = task_at(zone, TS.IN_PROGRESS)
    subscribe(zone, receiver, "task.overdue")
    today = task.due_on + timedelta(days=1)
    assert webhooks.emit_overdue_tasks(today=today) == 1
    # When the sweep runs again
    written = webhooks.emit_overdue_tasks(today=today)
    # Then it reports writing nothing (it wrote nothing: one row is still all there is)
    assert WebhookDelivery.objects.count() == 1
    assert written == 0


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_late_failure_does_not_undo_a_recorded_success(zone, receiver, settings, monkeypatch):
    # Given a delivery allowed one attempt, whose first sender's request hangs past its lease
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    monkeypatch.setattr(webhooks, "send_soon", lambda pks: None)
    subscribe(zone, receiver, "case.submitted")
    submit(zone)
    delivery = WebhookDelivery.objects.get()
    receiver.answer(500, delay=1)
    slow = threading.Thread(target=lambda: (webhooks.deliver(delivery.pk), connection.close()))
    slow.start()
    time.sleep(0.3)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())  # the lease ran out

    # When a second sender delivers it, and then the first sender's request fails
    assert webhooks.deliver(delivery.pk).delivered
    slow.join(10)

    # Then the delivery stays delivered: a success is final
    delivery.refresh_from_db()
    assert list(delivery.attempt_log.values_list("succeeded", flat=True)) == [True, False]
    assert delivery.status == Status.DELIVERED
