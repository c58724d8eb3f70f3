"""The reminder sweep over the generated demo zone: it finds exactly what the rules call for — checked against
an independent reading of the zone — and does it in a number of queries that does not grow with the zone.

The zone is ×10 on PostgreSQL (about a minute to load) and ×1 on SQLite, the scale the seed tests use: the
sweep's queries are the same either way, and ×10 would double the quick local run.
"""

from collections import Counter
from datetime import date

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from seeds.loader import load_reference_data, load_zone
from services.time import reminders
from services.time.calendar import WorkingCalendar
from tracker.models import Case, Category, HolidayOverride, Notification, PushDelivery, Reminder, Task, User

SCALE = 10 if connection.vendor == "postgresql" else 1
Kind = Reminder.Kind
CS, TS = Case.Status, Task.Status
# Statements that are not the sweep's batched INSERTs: reading the calendar (its overrides and confirmed years), the
# categories' escalation thresholds, what is due, the reminder log, the people and their channels, plus savepoints
# (21 at most today). A constant: none of them is issued per item (SQLite would read more than 999 ids in several
# queries; the zone at this scale stays below that). One more than before the thresholds were per category: that query.
OTHER_QUERIES_AT_MOST = 23
# A second sweep at once, everything already in the reminder log: the calendar, the thresholds (one query since they are
# per category), what is due, the reminder log's conflicts.
SECOND_SWEEP_OTHER_QUERIES_AT_MOST = 12
BATCH_SIZES = {"tracker_reminder": 1000, "tracker_notification": 1000, "tracker_pushdelivery": 500}

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo_zone(django_db_setup, django_db_blocker):
    """The demo zone at SCALE, loaded once for this module (what `manage.py seed --demo --scale N` runs)."""
    with django_db_blocker.unblock():
        load_reference_data()
        load_zone(scale=SCALE, log=lambda _: None)
        yield
        # Leave the database empty for the other modules, as tests/seeds/test_seed.py does (events are
        # append-only by design, so the tables are emptied wholesale rather than row by row).
        with connection.cursor() as cursor:
            kept = {"django_content_type", "auth_permission", "django_migrations"}
            tables = [
                t
                for t in connection.introspection.django_table_names(only_existing=True, include_views=False)
                if t not in kept
            ]
            if connection.vendor == "postgresql":
                cursor.execute("TRUNCATE " + ", ".join(connection.ops.quote_name(t) for t in tables) + " CASCADE")
            else:
                cursor.execute("PRAGMA foreign_keys = OFF")
                for table in tables:
                    cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")
                cursor.execute("PRAGMA foreign_keys = ON")


def expected_reminders(today: date, calendar: WorkingCalendar) -> set[tuple[str, str, date]]:
    """What the rules (services/time/reminders.py's docstring, docs/states-and-roles.md) call for, read independently:
    every task and case in Python, lateness counted with `working_days_between` rather than the sweep's cut-off dates,
    against the thresholds of the case's category (each the zone's default when the category leaves it empty)."""

    def threshold(value: int | None, setting: str) -> int:
        return getattr(django_settings, setting) if value is None else value

    thresholds = {
        category.pk: (
            threshold(category.yellow_after_days, "REMINDER_YELLOW_AFTER_DAYS"),
            threshold(category.red_after_days, "REMINDER_RED_AFTER_DAYS"),
            threshold(category.accept_escalate_after_days, "REMINDER_ACCEPT_ESCALATE_AFTER_DAYS"),
        )
        for category in Category.objects.all()
    }
    expected = set()
    tasks = Task.objects.select_related("case").only(
        "status", "due_on", "case__status", "case__category", "case__clock_paused_at"
    )
    for task in tasks:
        if task.status not in (TS.PENDING, TS.IN_PROGRESS) or task.case.status != CS.IN_PROGRESS:
            continue  # done, returned or cancelled; or its case is not being worked
        if task.case.clock_paused_at is not None:
            continue  # its case is paused (挂起): the clocks stand still
        yellow, red, _ = thresholds[task.case.category_id]
        key = f"task:{task.pk}"
        if task.due_on > today:
            next_working_day = (
                calendar.is_working_day(task.due_on) and calendar.working_days_between(today, task.due_on) == 1
            )
            if calendar.is_working_day(today) and next_working_day:
                expected.add((Kind.TASK_DUE_TOMORROW, key, task.due_on))
        elif task.due_on == today:
            expected.add((Kind.TASK_DUE_TODAY, key, task.due_on))
        else:
            late_by = calendar.working_days_between(task.due_on, today)
            expected.add((Kind.TASK_OVERDUE, key, task.due_on))
            if late_by >= yellow:
                expected.add((Kind.TASK_YELLOW, key, task.due_on))
            if late_by >= red:
                expected.add((Kind.TASK_RED, key, task.due_on))
    fields = ("status", "accept_due_on", "verdict_due_on", "redo_due_on", "category", "clock_paused_at")
    for case in Case.objects.only(*fields):
        if case.clock_paused_at is not None:
            continue
        key = f"case:{case.pk}"
        escalate = thresholds[case.category_id][2]
        if case.status == CS.SUBMITTED and case.accept_due_on < today:
            expected.add((Kind.ACCEPT_OVERDUE, key, case.accept_due_on))
            if calendar.working_days_between(case.accept_due_on, today) >= escalate:
                expected.add((Kind.ACCEPT_ESCALATED, key, case.accept_due_on))
        elif case.status == CS.IN_PROGRESS and case.redo_due_on is not None and case.redo_due_on < today:
            expected.add((Kind.REDO_OVERDUE, key, case.redo_due_on))
            if calendar.working_days_between(case.redo_due_on, today) >= escalate:
                expected.add((Kind.REDO_ESCALATED, key, case.redo_due_on))
        elif case.status == CS.RESOLVED and case.verdict_due_on <= today:
            kind = Kind.VERDICT_DUE if case.verdict_due_on == today else Kind.CALLBACK_DUE
            expected.add((kind, key, case.verdict_due_on))
    return expected


def split_queries(captured) -> tuple[Counter, list[str]]:
    """(INSERT statements per table, every other statement)."""
    inserts, others = Counter(), []
    for query in captured.captured_queries:
        sql = query["sql"]
        if sql.startswith("INSERT "):  # INSERT INTO …, or SQLite's INSERT OR IGNORE INTO …
            inserts[sql.split('"')[1]] += 1
        else:
            others.append(sql)
    return inserts, others


def batches(model, rows: int) -> int:
    """INSERT statements for `rows` rows of `model`: the sweep's batch size, or fewer rows a statement where the
    database limits the parameters of one (SQLite: 999)."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    size = min(BATCH_SIZES[model._meta.db_table], connection.ops.bulk_batch_size(fields, [None] * rows) or 1)
    return -(-rows // size)


def test_one_sweep_over_the_demo_zone_writes_what_the_rules_call_for_in_bounded_queries(demo_zone):
    # Given the demo zone, and today a working day (so every kind of reminder can be due, whatever day it is)
    now = timezone.now()
    today = timezone.localdate(now)
    HolidayOverride.objects.update_or_create(date=today, defaults={"is_working_day": True, "note": "测试"})
    # and the categories not all alike: the busiest escalates sooner than the zone's default, another later
    busiest, other = Category.objects.annotate(n=Count("cases")).order_by("-n", "pk")[:2]
    Category.objects.filter(pk=busiest.pk).update(yellow_after_days=1, red_after_days=3, accept_escalate_after_days=1)
    Category.objects.filter(pk=other.pk).update(yellow_after_days=4, red_after_days=8, accept_escalate_after_days=4)
    expected = expected_reminders(today, WorkingCalendar.load())
    # (the zone has late work of every main kind: otherwise this test would prove little)
    kinds = Counter(kind for kind, _, _ in expected)
    assert {Kind.TASK_OVERDUE, Kind.TASK_YELLOW, Kind.TASK_RED, Kind.ACCEPT_OVERDUE, Kind.CALLBACK_DUE} <= set(kinds)
    overdue_open_tasks = (
        Task.objects.filter(due_on__lt=today, case__status=CS.IN_PROGRESS)
        .exclude(status__in=[TS.DONE, TS.RETURNED, TS.CANCELLED])
        .count()
    )
    assert kinds[Kind.TASK_OVERDUE] == overdue_open_tasks >= 10 * SCALE

    # When the sweep runs
    with CaptureQueriesContext(connection) as captured:
        result = reminders.sweep(now)

    # Then it wrote one reminder per item, kind and deadline the rules call for — no more, no fewer
    written = list(Reminder.objects.values_list("kind", "item_key", "deadline"))
    assert len(written) == len(set(written)) == result.reminders == result.due == len(expected)
    assert set(written) == expected
    # And each reminder's notices go to distinct people, with the pushes their channels call for
    notices = list(Notification.objects.filter(reminder__isnull=False).values_list("reminder_id", "recipient_id"))
    assert len(notices) == len(set(notices)) == result.notices
    assert PushDelivery.objects.filter(notification__reminder__isnull=False).count() == result.pushes > 0
    # (spot-check the rules for whom: an overdue task's assignee hears of it; so does a late case's concierge)
    reminded = set(notices)
    for reminder in Reminder.objects.filter(kind=Kind.TASK_OVERDUE, task__assignee__is_active=True).select_related(
        "task"
    ):
        assert (reminder.pk, reminder.task.assignee_id) in reminded
    active = set(User.objects.filter(is_active=True).values_list("pk", flat=True))
    for reminder in Reminder.objects.filter(kind=Kind.ACCEPT_OVERDUE).select_related("case__enterprise"):
        concierge_id = reminder.case.concierge_id or reminder.case.enterprise.concierge_id
        if concierge_id in active:
            assert (reminder.pk, concierge_id) in reminded

    # And the queries: the INSERTs are the batches the rows need, everything else a constant
    inserts, others = split_queries(captured)
    assert inserts == {
        "tracker_reminder": batches(Reminder, len(expected)),
        "tracker_notification": batches(Notification, result.notices),
        "tracker_pushdelivery": batches(PushDelivery, result.pushes),
    }
    print(f"x{SCALE}: {result} in {len(captured.captured_queries)} queries, {len(others)} besides the INSERTs")
    assert len(others) <= OTHER_QUERIES_AT_MOST, "\n".join(q[:120] for q in others)

    # When it runs again straight after
    with CaptureQueriesContext(connection) as again:
        second = reminders.sweep(now)

    # Then everything is in the reminder log already: nothing written, in a handful of queries
    assert (second.due, second.reminders, second.notices, second.pushes) == (len(expected), 0, 0, 0)
    assert Reminder.objects.count() == len(expected)
    inserts, others = split_queries(again)
    assert inserts == {"tracker_reminder": batches(Reminder, len(expected))}
    assert len(others) <= SECOND_SWEEP_OTHER_QUERIES_AT_MOST
