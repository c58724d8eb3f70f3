"""The outbox mechanism (services/delivery/outbox.py) as both outboxes use it: pushes (a WeCom group robot) and
webhook deliveries. Each test runs once per outbox. The receiver stands in for `egress.post`, which both send
through; Celery runs eagerly, so a row queued after commit is sent in the test's thread. The clock is stopped at
each moment named (Wednesday 2026-11-04 is a plain working day, so no push waits for the morning).
"""

import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import count

import pytest
import requests
from django.db import connection

from services.delivery import egress, outbox, pushes, webhooks
from services.errors import NotPermitted
from tests.factories import at, frozen, race
from tracker.models import PushDelivery, WebhookDelivery, WebhookSubscription

T = at("2026-11-04", 10)
LEASE = timedelta(seconds=3 * 2 + 60)  # 3 × TIMEOUT_SECONDS (2 s) + 60 s


@dataclass
class Receiver:
    """Stands in for the network: records each POST's address and answers with the next scripted status, or 200."""

    received: list[str] = field(default_factory=list)
    script: deque = field(default_factory=deque)

    def answer(self, *statuses: int) -> None:
        self.script.extend(statuses)

    def post(self, url: str, **kwargs) -> requests.Response:
        self.received.append(url)
        response = requests.Response()
        response.status_code = self.script.popleft() if self.script else 200
        response._content = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
        return response


@dataclass
class Box:
    """One outbox under test: its description, how to write a pending row due now, and how to send one."""

    outbox: outbox.Outbox
    make: Callable[[], object]
    deliver: Callable[[int], outbox.SendResult]
    attempts_after_resend: int  # pushes count afresh; webhooks count on (the attempt log keeps its numbers)


@pytest.fixture
def receiver(monkeypatch) -> Receiver:
    receiver = Receiver()
    monkeypatch.setattr(egress, "post", receiver.post)
    return receiver


@pytest.fixture(params=["pushes", "webhooks"])
def box(request, zone, settings, receiver) -> Box:
    """Given each outbox with a two-second timeout, a minute's backoff doubling to an hour, and four attempts."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_TASK_EAGER_PROPAGATES = True
    settings.REMINDER_DAY_START_HOUR, settings.REMINDER_DAY_END_HOUR = 9, 18
    for prefix in ("PUSH", "WEBHOOK"):
        setattr(settings, f"{prefix}_TIMEOUT_SECONDS", 2.0)
        setattr(settings, f"{prefix}_RETRY_BASE_SECONDS", 60)
        setattr(settings, f"{prefix}_RETRY_MAX_SECONDS", 3600)
        setattr(settings, f"{prefix}_MAX_ATTEMPTS", 4)
    numbers = count(1)
    if request.param == "pushes":

        def make_push():
            return PushDelivery.objects.create(
                dedupe_key=f"test:{next(numbers)}",
                channel=PushDelivery.Channel.WECOM,
                recipient=zone.officer,
                address="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=planning",
                subject="【新交办事项】",
                body="核实用地红线",
                next_attempt_at=T,
                created_at=T,
            )

        return Box(pushes.OUTBOX, make_push, pushes.deliver, attempts_after_resend=1)

    subscription = WebhookSubscription.objects.create(
        name="12345热线", url="https://hotline.example.gov.cn/hooks", secret="s3cret", owner=zone.integration
    )

    def make_delivery():
        return WebhookDelivery.objects.create(
            subscription=subscription,
            event_type="case.submitted",
            dedupe_key=f"test:{next(numbers)}",
            payload={"type": "case.submitted"},
            created_at=T,
        )

    return Box(webhooks.OUTBOX, make_delivery, webhooks.deliver, attempts_after_resend=2)


def test_a_claimed_row_is_not_claimed_twice(box, receiver):
    # Given a row due now
    row = box.make()
    # When one sender claims it, and others come while its lease runs
    with frozen(T):
        first = outbox.claim(box.outbox, row.pk, T)
    with frozen(T + LEASE - timedelta(seconds=1)):
        second = outbox.claim(box.outbox, row.pk, T + LEASE - timedelta(seconds=1))
        swept = outbox.due(box.outbox, T + LEASE - timedelta(seconds=1))
        third = box.deliver(row.pk)
    # Then only the first has it: the sweep does not list it and no other sender sends it
    assert first is not None and first.pk == row.pk
    assert (second, swept, third.sent) == (None, [], False)
    assert receiver.received == []


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks and real concurrency")
@pytest.mark.django_db(transaction=True)
def test_two_senders_claiming_at_once_one_wins(box):
    # Given a row due now
    row = box.make()
    # When two senders claim it at the same moment
    outcomes = race(*[lambda: outbox.claim(box.outbox, row.pk, T)] * 2)
    # Then exactly one has it
    assert sorted(o is None for o in outcomes) == [False, True], outcomes


def test_a_row_whose_lease_ran_out_is_claimed_again_and_sent_once(box, receiver):
    # Given a row claimed by a sender that died before sending
    row = box.make()
    with frozen(T):
        assert outbox.claim(box.outbox, row.pk, T)

    # When its lease runs out
    expired = T + LEASE + timedelta(seconds=1)
    with frozen(expired):
        # Then the sweep lists it again and the next sender sends it
        assert outbox.due(box.outbox, expired) == [row.pk]
        result = box.deliver(row.pk)
        # And once sent it is never sent again, however often it is asked
        again = box.deliver(row.pk)
        assert outbox.due(box.outbox, expired + timedelta(days=1)) == []
    assert (result.sent, result.delivered, again.sent) == (True, True, False)
    assert len(receiver.received) == 1
    row.refresh_from_db()
    assert row.status == box.outbox.sent_status


def test_the_backoff_doubles_up_to_its_cap(box, settings):
    setattr(settings, f"{box.outbox.settings_prefix}_RETRY_MAX_SECONDS", 300)
    delays = [outbox.retry_delay(box.outbox, attempts) for attempts in range(1, 6)]
    assert [d.total_seconds() for d in delays] == [60, 120, 240, 300, 300]


def test_a_failing_receiver_is_retried_with_doubling_waits_then_given_up(box, receiver):
    # Given a receiver that fails every time
    receiver.answer(*[500] * 10)
    row = box.make()

    # When the row is sent at once, then at each retry time
    outcomes, moment = [], T
    for _ in range(4):
        with frozen(moment):
            outcomes.append(box.deliver(row.pk))
        moment = outcomes[-1].retry_at or moment

    # Then it waited one minute, then two, then four, and the fourth failure (the maximum) was the last
    assert [o.retry_at for o in outcomes] == [
        T + timedelta(minutes=1),
        T + timedelta(minutes=3),
        T + timedelta(minutes=7),
        None,
    ]
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 4)
    # And nothing tries it again: not the sweep, not a sender
    with frozen(T + timedelta(hours=2)):
        assert outbox.due(box.outbox) == []
        assert box.deliver(row.pk).sent is False
    assert len(receiver.received) == 4


@pytest.fixture
def failed(box, receiver, settings):
    """A row given up after its only allowed attempt failed."""
    setattr(settings, f"{box.outbox.settings_prefix}_MAX_ATTEMPTS", 1)
    receiver.answer(500)
    row = box.make()
    with frozen(T):
        assert box.deliver(row.pk).retry_at is None
    row.refresh_from_db()
    assert row.status == "failed"
    return row


def test_only_an_administrator_may_resend(box, zone, failed, receiver):
    with frozen(T + timedelta(hours=1)), pytest.raises(NotPermitted):
        outbox.resend(box.outbox, [failed], actor=zone.concierge)
    failed.refresh_from_db()
    assert failed.status == "failed" and len(receiver.received) == 1


def test_resend_puts_a_failed_row_back_and_it_is_sent_once(
    box, zone, failed, receiver, django_capture_on_commit_callbacks
):
    # When an administrator resends the failed row (the receiver works again)
    moment = T + timedelta(hours=1)
    with frozen(moment), django_capture_on_commit_callbacks(execute=True):
        (row,) = outbox.resend(box.outbox, [failed], actor=zone.admin)

    # Then it went back to pending and was sent after commit, once
    assert row.status == "pending"
    failed.refresh_from_db()
    assert failed.status == box.outbox.sent_status
    assert failed.attempts == box.attempts_after_resend
    assert getattr(failed, box.outbox.sent_at_field) == moment
    assert len(receiver.received) == 2

    # And resending a row already sent, or sweeping, sends nothing
    with frozen(moment + timedelta(hours=1)), django_capture_on_commit_callbacks(execute=True):
        outbox.resend(box.outbox, [failed], actor=zone.admin)
        assert outbox.due(box.outbox) == []
        assert box.deliver(failed.pk).sent is False
    assert len(receiver.received) == 2
