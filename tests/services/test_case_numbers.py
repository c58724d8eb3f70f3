"""Case numbers: unique and increasing per year, continuing after those already used; on PostgreSQL taken from a
sequence, so submissions do not wait for each other (a rolled-back one leaves a gap)."""

import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from services.cases import steps as case_services
from services.cases.steps import format_case_number, reserve_case_numbers
from tests.factories import client_for, race
from tracker.models import Case, CaseNumberSequence

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL sequences and real concurrency"
)


def _submit(zone, actor=None, enterprise=None) -> Case:
    return case_services.submit_case(
        actor=actor or zone.enterprise_user,
        enterprise=enterprise or zone.enterprise,
        category=zone.category,
        title="厂房扩建审批咨询",
        description="规划许可尚未批复。",
    )


def _serial(number: str) -> int:
    return int(number.rsplit("-", 1)[1])


def test_a_submission_continues_after_a_block_the_seed_reserved(zone):
    # Given the zone generator reserved a block of this year's numbers for its cases
    year = timezone.localdate().year
    with transaction.atomic():
        block = reserve_case_numbers(year, 5)
    assert block == [format_case_number(year, n) for n in range(1, 6)]
    # When an enterprise submits a case
    case = _submit(zone)
    # Then it takes the number after the block
    assert case.number == format_case_number(year, 6)


def test_a_submission_continues_after_numbers_loaded_without_the_counter(zone):
    # Given a year whose cases were loaded with their numbers (the highest 000041) but no counter of the year
    year = timezone.localdate().year
    loaded = _submit(zone)
    Case.objects.filter(pk=loaded.pk).update(number=format_case_number(year, 41))
    CaseNumberSequence.objects.filter(year=year).delete()
    # When the next case is submitted
    case = _submit(zone)
    # Then it continues after the highest number used, not from 1
    assert case.number == format_case_number(year, 42)


def test_submitting_through_the_api_costs_a_bounded_number_of_queries(zone, django_assert_max_num_queries):
    # Given an enterprise user whose zone has numbered a case this year already
    client = client_for(zone.enterprise_user)
    body = {"category": zone.category.code, "title": "厂房扩建审批咨询", "description": "规划许可尚未批复。"}
    assert client.post("/api/v1/cases/", body, format="json").status_code == 201
    # When it submits another, Then the request costs no more queries than it does now
    with django_assert_max_num_queries(19 if connection.vendor == "postgresql" else 20):
        response = client.post("/api/v1/cases/", body, format="json")
    assert response.status_code == 201
    # And the answer is the case as the detail shows it, with no tasks or feedback yet
    assert response.json()["tasks"] == [] and response.json()["feedback"] == []
    assert _serial(response.json()["number"]) == 2


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_many_submitting_at_once_get_unique_increasing_numbers(zone):
    # Given a year already numbering (its first case submitted)
    first = _submit(zone)

    # When eight people submit at the same moment
    def submit(index):
        if index % 2:
            return lambda: _submit(zone)
        return lambda: _submit(zone, actor=zone.other_enterprise_user, enterprise=zone.other_enterprise)

    outcomes = race(*(submit(i) for i in range(8)))

    # Then every case is opened with its own number, the next eight of the year, none skipped
    assert all(isinstance(o, Case) for o in outcomes), outcomes
    serials = sorted(_serial(o.number) for o in outcomes)
    assert serials == list(range(_serial(first.number) + 1, _serial(first.number) + 9))
    assert Case.objects.count() == 9


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_submission_that_rolls_back_holds_nobody_up_and_leaves_a_gap_at_most(zone):
    # Given a year already numbering, and a submission that took its number and has not committed yet
    first = _submit(zone)
    taken, finish = threading.Event(), threading.Event()
    held: list[str] = []

    def held_open_then_rolled_back():
        try:
            with transaction.atomic():
                held.extend(reserve_case_numbers(timezone.localdate().year))
                taken.set()
                finish.wait(timeout=15)
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        finally:
            connection.close()

    slow = threading.Thread(target=held_open_then_rolled_back)
    slow.start()
    try:
        assert taken.wait(timeout=15)
        # When another enterprise submits meanwhile
        started = time.monotonic()
        other = _submit(zone, actor=zone.other_enterprise_user, enterprise=zone.other_enterprise)
        waited = time.monotonic() - started
    finally:
        finish.set()
        slow.join(timeout=30)
    assert not slow.is_alive()

    # Then it did not wait for the open submission (a lock held to COMMIT would have kept it 15 s)
    assert waited < 5, f"the submission waited {waited:.1f} s"
    # And the rolled-back number is a gap: the next submission does not reuse it
    after = _submit(zone)
    assert [_serial(first.number) + 1] == [_serial(n) for n in held]
    assert [_serial(c.number) for c in (other, after)] == [_serial(first.number) + 2, _serial(first.number) + 3]
    assert Case.objects.count() == 3


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_the_first_cases_of_a_year_submitted_at_once_are_numbered_from_one(zone):
    # Given a year with no case yet (its sequence not set up, or left by an earlier database's cases)
    # When four submit at the same moment
    outcomes = race(*(lambda: _submit(zone) for _ in range(4)))
    # Then the sequence is set up once and they are numbered 1 to 4
    assert all(isinstance(o, Case) for o in outcomes), outcomes
    assert sorted(_serial(o.number) for o in outcomes) == [1, 2, 3, 4]
