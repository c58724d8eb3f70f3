"""Concurrent changes to one case: exactly one wins, the other gets a conflict (docs/architecture.md).

The stale-version checks run everywhere; the real races need PostgreSQL's row locks and run only there.
"""

import time

import pytest
from django.db import connection

from services import states
from services.cases import steps as case_services
from services.errors import Conflict, IllegalTransition, StaleVersion
from tests.factories import case_at, race, snapshot
from tracker.models import Case, CaseEvent

CS = Case.Status
Kind = CaseEvent.Kind

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL row locks and real concurrency"
)


def test_accepting_with_a_stale_version_is_refused_and_changes_nothing(zone):
    # Given a case the concierge read at one version, since changed by the enterprise adding information
    case = case_at(zone, CS.SUBMITTED)
    read_version = Case.objects.get(pk=case.pk).version
    case_services.add_case_info(actor=zone.enterprise_user, case=case, note="补充：已提交规划方案")
    before = snapshot(case)

    # When the concierge accepts it based on what they read
    with pytest.raises(StaleVersion) as refused:
        case_services.accept_case(actor=zone.concierge, case=case, expected_version=read_version)

    # Then they are told it changed (409, with the current version), and nothing changed
    assert refused.value.http_status == 409
    assert refused.value.current_version == before.version
    assert refused.value.as_dict()["current_version"] == before.version
    assert snapshot(case) == before
    # And accepting with the current version works
    case_services.accept_case(actor=zone.concierge, case=case, expected_version=before.version)
    assert Case.objects.get(pk=case.pk).status == CS.ACCEPTED


@pytest.mark.parametrize(
    "call",
    [
        lambda z, c, v: case_services.decline_case(actor=z.concierge, case=c, reason="不属于", expected_version=v),
        lambda z, c, v: case_services.withdraw_case(actor=z.enterprise_user, case=c, expected_version=v),
    ],
    ids=["decline", "withdraw"],
)
def test_other_case_steps_check_the_version_too(zone, call):
    # Given a submitted case read one version ago
    case = case_at(zone, CS.SUBMITTED)
    stale = Case.objects.get(pk=case.pk).version - 1
    before = snapshot(case)
    # When a step is taken with the stale version
    with pytest.raises(StaleVersion):
        call(zone, case, stale)
    # Then nothing changed
    assert snapshot(case) == before


def test_a_verdict_with_a_stale_version_is_refused(zone):
    # Given a resolved case the enterprise read, since given to another concierge by a leader
    case = case_at(zone, CS.RESOLVED)
    read_version = Case.objects.get(pk=case.pk).version
    case_services.reassign_concierge(actor=zone.leader, case=case, concierge=zone.backup)
    before = snapshot(case)
    # When the enterprise confirms what it read
    with pytest.raises(StaleVersion):
        case_services.confirm_case(actor=zone.enterprise_user, case=case, rating=5, expected_version=read_version)
    # Then the case still awaits its verdict
    assert snapshot(case) == before


@pytest.fixture
def slow_check_version(monkeypatch):
    """Hold the case lock a little longer, so that the racers really overlap inside the transaction."""
    original = states.check_version

    def slow(obj, expected_version):
        time.sleep(0.3)
        return original(obj, expected_version)

    monkeypatch.setattr(case_services, "check_version", slow)


@pytest.mark.parametrize("with_version", [False, True], ids=["no-version", "same-version"])
@pytest.mark.usefixtures("slow_check_version")
@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_concierges_racing_to_accept_one_case_exactly_one_wins(zone, with_version):
    # Given a submitted case seen by its concierge and the backup at the same version
    case = case_at(zone, CS.SUBMITTED)
    version = Case.objects.get(pk=case.pk).version if with_version else None

    # When both accept it at the same moment
    outcomes = race(
        lambda: case_services.accept_case(actor=zone.concierge, case=case.pk, expected_version=version),
        lambda: case_services.accept_case(actor=zone.backup, case=case.pk, expected_version=version),
    )

    # Then exactly one wins and the other gets a conflict
    winners = [o for o in outcomes if isinstance(o, Case)]
    losers = [o for o in outcomes if isinstance(o, Exception)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert isinstance(losers[0], IllegalTransition | StaleVersion) and isinstance(losers[0], Conflict)
    # And the timeline records one acceptance, by the winner
    case.refresh_from_db()
    assert case.status == CS.ACCEPTED
    accepted_by = list(case.events.filter(kind=Kind.ACCEPTED).values_list("actor_id", flat=True))
    assert len(accepted_by) == 1 and accepted_by[0] in (zone.concierge.pk, zone.backup.pk)
    assert case.version == 1 + case.events.count()


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_cases_submitted_at_the_same_moment_get_distinct_numbers(zone):
    # Given four people submitting at once (two enterprises, the hotline and a concierge)
    def submit(actor, enterprise, **kwargs):
        return lambda: case_services.submit_case(
            actor=actor,
            enterprise=enterprise,
            category=zone.category,
            title="同时提交的诉求",
            description="并发提交测试。",
            **kwargs,
        )

    # When they submit at the same moment
    outcomes = race(
        submit(zone.enterprise_user, zone.enterprise),
        submit(zone.other_enterprise_user, zone.other_enterprise),
        submit(zone.integration, zone.enterprise, channel=Case.Channel.HOTLINE),
        submit(zone.concierge, zone.enterprise, channel=Case.Channel.HOTLINE),
    )

    # Then every case is opened, each with its own number, numbered without gaps
    assert all(isinstance(o, Case) for o in outcomes), outcomes
    numbers = sorted(o.number for o in outcomes)
    assert len(set(numbers)) == 4
    assert [int(n.rsplit("-", 1)[1]) for n in numbers] == [1, 2, 3, 4]
    assert Case.objects.count() == 4
