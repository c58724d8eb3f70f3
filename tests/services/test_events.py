"""The timeline is append-only (tracker/models/cases.py guards, and on PostgreSQL a trigger from
tracker/migrations/0002), every event bumps the case version by one, and the audit finds nothing to complain about."""

import pytest
from django.db import DatabaseError, connection, transaction

from services.cases import invariants as audit
from services.cases import steps as case_services
from services.cases import tasks as task_services
from services.cases.tasks import TaskSpec
from tests.factories import case_at, run_task_action
from tracker.models import Case, CaseEvent

CS = Case.Status
Kind = CaseEvent.Kind

on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")


@pytest.fixture
def event(zone) -> CaseEvent:
    case = case_at(zone, CS.ACCEPTED)
    return case.events.get(kind=Kind.ACCEPTED)


def _unchanged(event: CaseEvent) -> bool:
    fresh = CaseEvent.objects.get(pk=event.pk)
    return (fresh.kind, fresh.note, fresh.actor_id, fresh.created_at) == (
        event.kind,
        event.note,
        event.actor_id,
        event.created_at,
    )


def test_saving_an_existing_event_again_is_refused(event):
    # Given an event on a case's timeline
    # When someone edits it and saves
    event.note = "改写历史"
    with pytest.raises(TypeError):
        event.save()
    # Then the stored event is as it was
    event.note = ""
    assert _unchanged(event)


def test_deleting_an_event_is_refused(event):
    # Given an event on a case's timeline
    # When someone deletes it
    with pytest.raises(TypeError):
        event.delete()
    # Then it is still there
    assert CaseEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.parametrize(
    "change",
    [
        lambda qs: qs.update(note="改写历史"),
        lambda qs: qs.delete(),
        lambda qs: CaseEvent.objects.bulk_update([_edited(e) for e in qs], ["note"]),
    ],
    ids=["update", "delete", "bulk_update"],
)
def test_bulk_changes_to_events_are_refused(event, change):
    # Given a case's timeline
    case_events = CaseEvent.objects.filter(case_id=event.case_id)
    count = case_events.count()
    # When someone changes or deletes events in bulk, through the manager or the case's relation
    for events in (case_events, event.case.events.all()):
        with pytest.raises(TypeError), transaction.atomic():
            change(events)
    # Then every event is still there, unchanged
    assert CaseEvent.objects.filter(case_id=event.case_id).count() == count
    assert _unchanged(event)


def _edited(event: CaseEvent) -> CaseEvent:
    event.note = "改写历史"
    return event


def test_a_new_event_object_carrying_an_existing_id_cannot_overwrite_the_stored_event(event):
    # Given an event on a case's timeline
    # When someone builds a new event with the same id and saves it
    forged = CaseEvent(pk=event.pk, case_id=event.case_id, kind=Kind.DECLINED, note="伪造")
    with pytest.raises((TypeError, DatabaseError)), transaction.atomic():
        forged.save()
    # Then the stored event is as it was
    assert _unchanged(event)


@pytest.mark.postgres
@on_postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE tracker_caseevent SET note = 'raw' WHERE id = %s",
        "DELETE FROM tracker_caseevent WHERE id = %s",
    ],
    ids=["update", "delete"],
)
def test_the_database_refuses_raw_sql_changes_to_events(event, sql):
    # Given an event on a case's timeline, on PostgreSQL
    # When raw SQL bypasses the model to change or delete it
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [event.pk])
    # Then the trigger refused, and the event is as it was
    assert _unchanged(event)


def test_the_version_goes_up_by_one_per_event(zone):
    # Given a case walked through the whole loop, including events that are no transition
    case = case_services.submit_case(
        actor=zone.enterprise_user,
        enterprise=zone.enterprise,
        category=zone.category,
        title="新厂房用地指标",
        description="扩产需要新增用地。",
    )
    steps = [
        lambda: case_services.add_case_info(actor=zone.enterprise_user, case=case, note="补充：用地约30亩"),
        lambda: case_services.accept_case(actor=zone.concierge, case=case),
        lambda: task_services.decompose_case(
            actor=zone.concierge,
            case=case,
            tasks=[
                TaskSpec(title="落实用地", task_force=zone.task_force),
                TaskSpec(title="核实", task_force=zone.task_force),
            ],
        ),
        lambda: [run_task_action(zone, "cancel", t) for t in case.tasks.filter(title="核实")],
        lambda: [run_task_action(zone, "start", t) for t in case.tasks.filter(title="落实用地")],
        lambda: [run_task_action(zone, "complete", t) for t in case.tasks.filter(title="落实用地")],
        lambda: case_services.reassign_concierge(actor=zone.leader, case=case, concierge=zone.backup, note="张三休假"),
        lambda: case_services.resolve_case(actor=zone.backup, case=case, answer="已落实"),
        lambda: case_services.confirm_case(actor=zone.enterprise_user, case=case, rating=5),
    ]
    for step in steps:
        before = Case.objects.get(pk=case.pk).version
        events_before = case.events.count()
        # When each step is taken
        step()
        # Then the version went up by exactly the number of events it wrote, and at least one
        written = case.events.count() - events_before
        assert written >= 1
        assert Case.objects.get(pk=case.pk).version == before + written
    assert audit.violations([case]) == []


@pytest.mark.parametrize("status", CS.values)
def test_the_audit_finds_nothing_wrong_with_a_case_at_any_status(zone, status):
    # Given a case walked through the services to `status`
    case = case_at(zone, status)
    # When the invariants are checked
    # Then there is nothing to report
    assert audit.violations([case]) == []
    assert audit.violations() == []


def test_the_audit_notices_a_version_that_does_not_match_the_timeline(zone):
    # Given a sound case whose version someone bumped without an event
    case = case_at(zone, CS.ACCEPTED)
    Case.objects.filter(pk=case.pk).update(version=case.version + 5)
    # When the invariants are checked
    problems = audit.violations([case])
    # Then the mismatch is reported
    assert len(problems) == 1 and "version" in problems[0]
