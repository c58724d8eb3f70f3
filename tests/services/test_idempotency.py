"""services.idempotency: one answer per (user, key), only successes remembered, expired answers forgotten."""

from datetime import timedelta

import pytest
from django.utils import timezone

from services import idempotency
from services.errors import IdempotencyKeyReused
from tracker import tasks
from tracker.models import IdempotencyRecord

pytestmark = pytest.mark.django_db


def _run(zone, key="k", fingerprint="f", status=201):
    calls = []

    def run():
        calls.append(1)
        return status, {"id": len(calls)}

    outcome = idempotency.run_once(
        user=zone.enterprise_user, key=key, method="POST", path="/api/v1/cases/", fingerprint=fingerprint, run=run
    )
    return outcome, calls


def test_a_second_call_with_the_same_key_replays_without_running(zone):
    first, ran = _run(zone)
    again, ran_again = _run(zone)
    assert (first.replayed, again.replayed) == (False, True)
    assert again.body == first.body and again.status_code == 201
    assert ran == [1] and ran_again == []


def test_another_request_under_the_same_key_is_refused(zone):
    _run(zone)
    with pytest.raises(IdempotencyKeyReused):
        _run(zone, fingerprint="other")


def test_a_failed_answer_is_not_remembered(zone):
    outcome, _ = _run(zone, status=400)
    assert outcome.status_code == 400 and not IdempotencyRecord.objects.exists()


def test_answers_past_the_window_are_forgotten(zone, settings):
    settings.IDEMPOTENCY_KEY_TTL_HOURS = 24
    _run(zone, key="old")
    _run(zone, key="new")
    IdempotencyRecord.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))

    assert tasks.purge_idempotency_records() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    # and the old key may be used afresh
    outcome, ran = _run(zone, key="old", fingerprint="another body")
    assert not outcome.replayed and ran == [1]
