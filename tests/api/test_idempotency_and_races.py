"""Idempotency-Key replay, and two racing requests on one case over HTTP: exactly one wins."""

import pytest
from django.db import connection

from tests.factories import client_for, make_case, race
from tracker.models import Case, CaseEvent, IdempotencyRecord

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL row locks and real concurrency"
)
SUBMISSION = {"category": "land", "title": "厂房扩建审批咨询", "description": "规划许可尚未批复。"}


@pytest.mark.django_db
def test_the_same_key_and_body_replays_the_first_answer_and_creates_nothing_new(zone, api):
    client = api(zone.enterprise_user)
    first = client.post("/api/v1/cases/", SUBMISSION, format="json", HTTP_IDEMPOTENCY_KEY="order-42")
    again = client.post("/api/v1/cases/", SUBMISSION, format="json", HTTP_IDEMPOTENCY_KEY="order-42")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Case.objects.count() == 1 and CaseEvent.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_a_conflict(zone, api):
    client = api(zone.enterprise_user)
    client.post("/api/v1/cases/", SUBMISSION, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    response = client.post(
        "/api/v1/cases/", {**SUBMISSION, "title": "另一个问题"}, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert response.status_code == 409 and response.json()["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in response.json()["fields"]
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_keys_belong_to_their_user(zone, api):
    mine = api(zone.enterprise_user).post("/api/v1/cases/", SUBMISSION, format="json", HTTP_IDEMPOTENCY_KEY="k")
    theirs = api(zone.other_enterprise_user).post("/api/v1/cases/", SUBMISSION, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert theirs.json()["enterprise"]["id"] == zone.other_enterprise.pk


@pytest.mark.django_db
def test_a_refused_request_leaves_the_key_free_for_a_corrected_retry(zone, api):
    client = api(zone.enterprise_user)
    refused = client.post("/api/v1/cases/", {**SUBMISSION, "title": ""}, format="json", HTTP_IDEMPOTENCY_KEY="retry-me")
    assert refused.status_code == 400 and not IdempotencyRecord.objects.exists()
    # A refused body and its correction are different requests; only the success is remembered
    retried = client.post("/api/v1/cases/", SUBMISSION, format="json", HTTP_IDEMPOTENCY_KEY="retry-me")
    assert retried.status_code == 201 and Case.objects.count() == 1


@pytest.mark.django_db
def test_a_replayed_transition_does_not_move_the_case_twice(zone, api):
    case = make_case(
        status=Case.Status.ACCEPTED,
        enterprise_user=zone.enterprise_user,
        concierge=zone.concierge,
        category=zone.category,
        unit=zone.task_force,
        worker=zone.member,
    )
    body = {"tasks": [{"title": "协调规划许可", "task_force": zone.task_force.pk}]}
    client = api(zone.concierge)
    first = client.post(f"/api/v1/cases/{case.pk}/decompose/", body, format="json", HTTP_IDEMPOTENCY_KEY="d-1")
    again = client.post(f"/api/v1/cases/{case.pk}/decompose/", body, format="json", HTTP_IDEMPOTENCY_KEY="d-1")
    assert first.status_code == again.status_code == 200 and again.json() == first.json()
    assert case.tasks.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", " ", "x" * 256, "tab\there"])
def test_a_malformed_key_names_the_header(zone, api, key):
    response = api(zone.enterprise_user).post("/api/v1/cases/", SUBMISSION, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400 and list(response.json()["fields"]) == ["Idempotency-Key"]
    assert not Case.objects.exists()


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_key_sent_twice_at_once_creates_one_case(zone):
    clients = [client_for(zone.enterprise_user), client_for(zone.enterprise_user)]
    outcomes = race(
        *[
            lambda c=c: c.post("/api/v1/cases/", SUBMISSION, format="json", HTTP_IDEMPOTENCY_KEY="same-moment")
            for c in clients
        ]
    )
    assert [o.status_code for o in outcomes] == [201, 201], outcomes
    assert outcomes[0].json()["id"] == outcomes[1].json()["id"]
    assert Case.objects.count() == 1


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("precondition", ["none", "if-match", "version"])
def test_two_racing_transitions_on_one_case_exactly_one_succeeds(zone, precondition):
    case = make_case(
        status=Case.Status.SUBMITTED,
        enterprise_user=zone.enterprise_user,
        concierge=zone.concierge,
        category=zone.category,
        unit=zone.task_force,
        worker=zone.member,
    )
    version = Case.objects.get(pk=case.pk).version
    body = {"version": version} if precondition == "version" else {}
    headers = {"HTTP_IF_MATCH": f'"{version}"'} if precondition == "if-match" else {}
    concierge = client_for(zone.concierge)
    if precondition == "none":
        # Without a precondition, two steps that both start from `submitted` (accept, decline) collide
        other, step, other_body = client_for(zone.backup), "decline", {"reason": "不属于服务范围"}
    else:
        # With one, even steps that could follow each other (accept, then withdraw) collide
        other, step, other_body = client_for(zone.enterprise_user), "withdraw", body

    outcomes = race(
        lambda: concierge.post(f"/api/v1/cases/{case.pk}/accept/", body, format="json", **headers),
        lambda: other.post(f"/api/v1/cases/{case.pk}/{step}/", other_body, format="json", **headers),
    )

    codes = sorted(o.status_code for o in outcomes)
    assert codes[0] == 200 and codes[1] in (409, 412), [o.json() for o in outcomes]
    case.refresh_from_db()
    assert case.status in (Case.Status.ACCEPTED, Case.Status.WITHDRAWN, Case.Status.DECLINED)
    assert case.events.count() == 2  # submitted + the winner's
