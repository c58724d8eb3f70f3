"""The seed: reference data, the generated demo zone, and its history checked against the services' invariants."""

import io
from datetime import date

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from seeds import texts
from seeds.loader import load_reference_data, load_zone
from services.cases import invariants as audit
from services.register.uscc import parse_uscc
from tracker.models import Case, CaseEvent, Category, Enterprise, Feedback, Project, Task, TaskForce, User


@pytest.fixture(scope="module")
def demo_zone(django_db_setup, django_db_blocker):
    """The demo zone, loaded once for this module (the loader is what `manage.py seed --demo` runs)."""
    with django_db_blocker.unblock():
        load_reference_data()
        load_zone(scale=1, log=lambda _: None)
        yield
        # Leave the database as other modules expect it: empty. Events are append-only by design, so
        # the test database is rebuilt rather than emptied row by row.
        from django.db import connection

        with connection.cursor() as cursor:
            kept = {"django_content_type", "auth_permission", "django_migrations"}  # created by migrate, not the seed
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


pytestmark = pytest.mark.django_db


def test_demo_zone_has_the_real_zone_sizes(demo_zone):
    assert Enterprise.objects.count() == 806
    assert Project.objects.count() == 218
    assert Category.objects.count() == 7
    assert TaskForce.objects.filter(is_standing=True).count() >= 5
    # Every key enterprise and every project has a concierge
    assert not Enterprise.objects.filter(concierge=None).exists()
    assert not Project.objects.filter(concierge=None).exists()


def test_every_generated_credit_code_is_valid(demo_zone):
    codes = list(Enterprise.objects.values_list("uscc", "uscc_checksum_ok"))
    assert all(parse_uscc(code).checksum_ok and ok for code, ok in codes)
    assert len({code for code, _ in codes}) == 806


def test_history_has_about_1500_closed_cases_in_all_seven_categories(demo_zone):
    closed = Case.objects.filter(status=Case.Status.CLOSED)
    assert closed.count() == 1500
    per_category = dict(closed.values_list("category__code").annotate(n=Count("id")))
    assert len(per_category) == 7 and min(per_category.values()) > 50
    # Over about two years, with ratings from both the enterprise and callbacks
    span = closed.order_by("submitted_at").last().submitted_at - closed.order_by("submitted_at").first().submitted_at
    assert span.days > 600
    sources = set(Feedback.objects.values_list("source", flat=True))
    assert sources == {Feedback.Source.ENTERPRISE, Feedback.Source.CALLBACK}


def test_open_cases_exist_at_every_stage(demo_zone):
    statuses = set(Case.objects.values_list("status", flat=True))
    assert statuses == set(Case.Status.values)
    task_statuses = set(Task.objects.values_list("status", flat=True))
    assert {Task.Status.PENDING, Task.Status.IN_PROGRESS, Task.Status.DONE, Task.Status.RETURNED} <= task_statuses
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.EXTENSION_REQUESTED).exists()
    assert Case.objects.filter(status=Case.Status.IN_PROGRESS, events__kind=CaseEvent.Kind.REOPENED).exists()


def test_generated_history_keeps_every_invariant_the_services_keep(demo_zone):
    assert audit.violations() == []


def test_case_numbers_are_unique_and_follow_the_yearly_sequence(demo_zone):
    numbers = list(Case.objects.values_list("number", flat=True))
    assert len(set(numbers)) == len(numbers)
    assert all(n.startswith("GX-20") and len(n) == len("GX-2026-000123") for n in numbers)


def test_seeding_twice_changes_nothing(demo_zone):
    before = (User.objects.count(), Case.objects.count(), CaseEvent.objects.count(), Enterprise.objects.count())
    call_command("seed", "--demo", stdout=io.StringIO())
    after = (User.objects.count(), Case.objects.count(), CaseEvent.objects.count(), Enterprise.objects.count())
    assert after == before


def test_the_audit_catches_a_timeline_that_skips_a_step(demo_zone):
    # Given a closed case whose timeline is replayed without its acceptance
    case = Case.objects.filter(status=Case.Status.CLOSED).first()
    events = [e for e in case.events.all() if e.kind != CaseEvent.Kind.ACCEPTED]
    # Then the audit names the illegal move
    problems = audit.case_violations(case, events, list(case.tasks.all()), list(case.feedback.all()))
    assert any("illegal" in p for p in problems)


def test_seeding_again_keeps_limits_staff_edited(demo_zone):
    # Given staff changed a category's working-day limit in the admin
    Category.objects.filter(code="land").update(task_days=25)
    # When the seed runs again (for example on a deploy)
    load_reference_data()
    # Then the edit stands
    assert Category.objects.get(code="land").task_days == 25


def test_generated_comments_fit_their_rating(demo_zone):
    # No 不满意 or 非常不满意 rating comes with praise, nor a 满意 one with a complaint
    low = Feedback.objects.filter(rating__lte=Feedback.Rating.DISSATISFIED)
    assert low.exists()
    assert not low.filter(comment__in=texts.PRAISE_COMMENTS).exists()
    assert not Feedback.objects.filter(
        rating__gte=Feedback.Rating.SATISFIED, comment__in=texts.COMPLAINT_COMMENTS
    ).exists()


def test_no_case_has_two_identical_tasks(demo_zone):
    repeated = (
        Task.objects.values("case_id", "title", "task_force_id", "department_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert list(repeated[:5]) == []


def test_generated_callbacks_keep_the_rules_of_a_callback(demo_zone):
    # Callbacks name whom staff spoke to; one recorded while the enterprise's window was open is marked early and
    # says what the contact said, as record_callback requires — and history's callbacks come after the window
    callbacks = list(Feedback.objects.filter(source=Feedback.Source.CALLBACK).select_related("case"))
    assert callbacks and all(f.contact_name for f in callbacks)
    resolved = {}
    for event in CaseEvent.objects.filter(kind=CaseEvent.Kind.RESOLVED).order_by("created_at", "id"):
        resolved.setdefault(event.case_id, []).append(event)
    for feedback in callbacks:
        answer = [e for e in resolved[feedback.case_id] if e.created_at <= feedback.created_at][-1]
        window_open = timezone.localdate(feedback.created_at) <= date.fromisoformat(answer.data["verdict_due_on"])
        assert feedback.early == window_open, feedback.case.number
        assert not feedback.early or feedback.comment
    assert sum(not f.early for f in callbacks) > 0.9 * len(callbacks)


def test_whoever_signed_for_a_task_is_its_assignee(demo_zone):
    assert not Task.objects.filter(started_at__isnull=False, assignee__isnull=True).exists()


def test_some_case_sent_back_still_waits_on_the_concierge_past_its_redo_deadline(demo_zone):
    waiting = Case.objects.filter(status=Case.Status.IN_PROGRESS, redo_due_on__lt=timezone.localdate())
    assert waiting.exists()
    # with every task done: nothing was reopened or added since the enterprise sent it back
    assert not Task.objects.filter(case__in=waiting, status__in=["pending", "in_progress", "returned"]).exists()
