"""The leaders' dashboard (services/reports/stats.py): each figure on a small hand-made zone, the scope of each role,
zeros for anonymous users, and a constant number of queries whatever the amount of data."""

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from services.cases import steps as case_services
from services.cases.tasks import TaskSpec, decompose_case
from services.reports.stats import (
    contact_since,
    dashboard,
    enterprises_without_contact,
    task_department_expression,
    tasks_completed_on_time_q,
)
from services.time.calendar import working_days_between
from tests.factories import (
    CategoryFactory,
    DepartmentFactory,
    EnterpriseFactory,
    EnterpriseUserFactory,
    ProjectFactory,
    UserFactory,
    VisitFactory,
    after_verdict_window,
    make_case,
)
from tracker.models import Case, Category, Enterprise, Task

CS = Case.Status


def local(day: date, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """An aware datetime at `day` `hour:minute` in the zone's time zone (Asia/Shanghai)."""
    return datetime.combine(day, time(hour, minute, second), tzinfo=timezone.get_default_timezone())


def case_of(zone, status: str, *, category: Category | None = None, other: bool = False) -> Case:
    """A case walked through the services to `status`: of zone.enterprise (one task to the task force, whose
    lead department is zone.department) or, with `other`, of zone.other_enterprise (task to other_department)."""
    if other:
        people = {
            "enterprise_user": zone.other_enterprise_user,
            "concierge": zone.other_concierge,
            "unit": zone.other_department,
            "worker": zone.other_officer,
        }
    else:
        people = {
            "enterprise_user": zone.enterprise_user,
            "concierge": zone.concierge,
            "unit": zone.task_force,
            "worker": zone.member,
        }
    return make_case(status=status, category=category or zone.category, **people)


def set_task(case: Case, **fields) -> Task:
    """Overwrite fields the services set themselves (due date, completion time) on the case's only task."""
    task = case.tasks.get()
    Task.objects.filter(pk=task.pk).update(**fields)
    return task


@dataclass
class Board:
    """zone.enterprise's cases, one at every status; see `board` for what each holds."""

    today: date
    policy: Category
    talent: Category
    submitted: Case
    working: Case
    reopened: Case
    resolved: Case
    closed: Case
    closed_by_callback: Case
    tasks: dict[str, Task]


@pytest.fixture
def board(zone) -> Board:
    today = timezone.localdate()
    policy = CategoryFactory(code="policy", name="政策兑现", sort_order=1)
    talent = CategoryFactory(code="talent", name="人才用工", sort_order=2)
    CategoryFactory(code="retired", name="旧类别", sort_order=0, is_active=False)

    # Submitted (policy) and not accepted in time: an overdue case.
    submitted = case_of(zone, CS.SUBMITTED, category=policy)
    Case.objects.filter(pk=submitted.pk).update(accept_due_on=today - timedelta(days=1))
    case_of(zone, CS.ACCEPTED)
    case_of(zone, CS.DECLINED, category=policy)
    case_of(zone, CS.WITHDRAWN)

    # In progress with four open tasks: three overdue (two answered by 规划建设局 — once through the task force
    # it leads, once directly — and one by 供电公司) and one due today, which is not overdue yet.
    working = case_of(zone, CS.ACCEPTED)
    specs = {
        "via_task_force": TaskSpec(title="核实用地红线", task_force=zone.task_force),
        "via_department": TaskSpec(title="出具规划条件", department=zone.department),
        # Given to the task force but named to 供电公司: the named department answers for it.
        "power": TaskSpec(title="核查供电容量", task_force=zone.task_force, department=zone.other_department),
        "due_today": TaskSpec(title="办理施工许可", task_force=zone.task_force),
    }
    tasks = dict(
        zip(specs, decompose_case(actor=zone.concierge, case=working, tasks=list(specs.values())), strict=True)
    )
    for name, days_late in {"via_task_force": 1, "via_department": 2, "power": 5, "due_today": 0}.items():
        Task.objects.filter(pk=tasks[name].pk).update(due_on=today - timedelta(days=days_late))

    # Resolved, its task done (today) a day after its due date: late.
    resolved = case_of(zone, CS.RESOLVED)
    tasks["late"] = set_task(resolved, due_on=today - timedelta(days=1))

    # Reopened by the enterprise with rating 1: back in progress; its task was done in time and stays done.
    reopened = case_of(zone, CS.RESOLVED)
    case_services.reopen_case(actor=zone.enterprise_user, case=reopened, reason="答复未解决实际问题", rating=1)
    tasks["reopened_on_time"] = reopened.tasks.get()

    # Closed by the enterprise (rating 5): submitted 2024-09-30 00:30 (still 09-29 in UTC, a make-up working
    # Sunday), closed 2024-10-08 after the National Day holiday: 1 working day. Its task was done at 23:00 on
    # its due date: on time.
    closed = case_of(zone, CS.CLOSED)
    Case.objects.filter(pk=closed.pk).update(
        submitted_at=local(date(2024, 9, 30), 0, 30), closed_at=local(date(2024, 10, 8), 10)
    )
    tasks["on_time_at_23h"] = set_task(closed, due_on=date(2024, 10, 8), completed_at=local(date(2024, 10, 8), 23))

    # Closed after a callback (rating 3): 2024-10-08 → 2024-10-14 is 5 working days (Saturday 10-12 was a
    # make-up working day). Its task was done at 01:00 the day after its due date — still the due date in UTC,
    # but late in the zone.
    # (called back once the enterprise had let its verdict window pass: one of its verdicts like the others)
    closed_by_callback = case_of(zone, CS.RESOLVED)
    with after_verdict_window(closed_by_callback):
        case_services.record_callback(actor=zone.concierge, case=closed_by_callback, verdict="confirm", rating=3)
    Case.objects.filter(pk=closed_by_callback.pk).update(
        submitted_at=local(date(2024, 10, 8), 9), closed_at=local(date(2024, 10, 14), 9)
    )
    tasks["late_at_1h"] = set_task(
        closed_by_callback, due_on=date(2024, 10, 11), completed_at=local(date(2024, 10, 12), 1)
    )
    return Board(
        today=today,
        policy=policy,
        talent=talent,
        submitted=submitted,
        working=working,
        reopened=reopened,
        resolved=resolved,
        closed=closed,
        closed_by_callback=closed_by_callback,
        tasks=tasks,
    )


def by_status(figures: dict) -> dict[str, int]:
    return {row["status"]: row["count"] for row in figures["cases_by_status"]}


def test_cases_by_status_counts_every_status_in_declaration_order(zone, board):
    # Given zone.enterprise's cases at every status (two in progress, two closed)
    # When a leader opens the dashboard
    figures = dashboard(user=zone.leader, today=board.today)
    # Then every status is listed, in the state machine's order, with its label and count
    assert figures["cases_by_status"] == [
        {"status": "submitted", "label": "待受理", "count": 1},
        {"status": "accepted", "label": "已受理", "count": 1},
        {"status": "in_progress", "label": "办理中", "count": 2},
        {"status": "resolved", "label": "待验收", "count": 1},
        {"status": "closed", "label": "已办结", "count": 2},
        {"status": "declined", "label": "不予受理", "count": 1},
        {"status": "withdrawn", "label": "已撤回", "count": 1},
    ]


def test_cases_by_category_lists_active_categories_with_all_and_open_cases(zone, board):
    # Given 7 cases in 用地空间 (4 still being worked on), 2 in 政策兑现 (1 waiting to be accepted, 1 declined),
    # none in 人才用工, and a retired category
    # When a leader opens the dashboard
    figures = dashboard(user=zone.leader, today=board.today)
    # Then the active categories are listed in their sort order, with all and open cases
    assert figures["cases_by_category"] == [
        {"category_id": zone.category.pk, "name": "用地空间", "count": 7, "open": 4},
        {"category_id": board.policy.pk, "name": "政策兑现", "count": 2, "open": 1},
        {"category_id": board.talent.pk, "name": "人才用工", "count": 0, "open": 0},
    ]


def test_overdue_tasks_are_counted_by_answerable_department(zone, board):
    # Given three overdue open tasks (two for 规划建设局: one given to the task force it leads, one to it
    # directly; one for 供电公司, named on a task of the task force), one due today, and done tasks past their
    # due date
    # When a leader opens the dashboard
    figures = dashboard(user=zone.leader, today=board.today)
    # Then only overdue open tasks count, each under its answerable department, the most overdue first
    assert figures["overdue_tasks_by_department"] == [
        {"department_id": zone.department.pk, "name": "规划建设局", "count": 2},
        {"department_id": zone.other_department.pk, "name": "供电公司", "count": 1},
    ]


def test_overdue_cases_are_those_waiting_past_a_deadline(zone, board):
    # Given a case not accepted in time and a case with overdue tasks; the others are within their deadlines
    # When a leader opens the dashboard
    figures = dashboard(user=zone.leader, today=board.today)
    # Then both overdue cases are counted, and nothing else
    assert figures["overdue_cases"] == 2
    # And a day before the earliest deadline passed, nothing was overdue
    assert dashboard(user=zone.leader, today=board.today - timedelta(days=5))["overdue_cases"] == 0


def test_on_time_rate_compares_the_local_completion_date_with_the_due_date(zone, board):
    # Given four done tasks: on time (23:00 on the due date; well ahead), late (a day after; 01:00 the day
    # after, which is still the due date in UTC)
    # When a leader opens the dashboard
    figures = dashboard(user=zone.leader, today=board.today)
    # Then two of four were on time
    assert figures["on_time"] == {"completed": 4, "on_time": 2, "rate": 0.5}


def test_on_time_uses_the_zone_time_zone_whatever_the_request_activated(zone, board):
    # Given the task done at 01:00 (zone time) the day after its due date
    # When the dashboard is computed while a request has activated UTC
    with timezone.override("UTC"):
        figures = dashboard(user=zone.leader, today=board.today)
    # Then that task is still late
    assert figures["on_time"] == {"completed": 4, "on_time": 2, "rate": 0.5}


def test_tasks_completed_on_time_q_selects_the_tasks_the_figure_counts(zone, board):
    # Given the board's tasks
    # When the admin filters tasks with the exported condition
    on_time = set(Task.objects.filter(tasks_completed_on_time_q()))
    # Then it lists exactly the done tasks counted as on time (open tasks never are)
    assert on_time == {board.tasks["on_time_at_23h"], board.tasks["reopened_on_time"]}


def test_task_department_expression_filters_tasks_by_answerable_department(zone, board):
    # Given tasks given to 规划建设局 directly, to the task force it leads, and one to that task force naming
    # 供电公司
    # When the admin filters tasks by the answerable department
    planning = Task.objects.alias(unit=task_department_expression()).filter(unit=zone.department.pk)
    power = Task.objects.alias(unit=task_department_expression()).filter(unit=zone.other_department.pk)
    # Then the task force's tasks count for its lead department, unless they name a department
    assert set(planning) == set(Task.objects.exclude(department=zone.other_department))
    assert set(power) == {board.tasks["power"]}


def test_time_to_close_averages_working_days_between_local_dates(zone, board):
    # Given two closed cases: 2024-09-30 00:30 → 2024-10-08 (1 working day, across the National Day holiday)
    # and 2024-10-08 → 2024-10-14 (5 working days, a make-up working Saturday included)
    # When a leader opens the dashboard
    figures = dashboard(user=zone.leader, today=board.today)
    # Then the average is 3 working days, as the working-day calendar counts them
    assert figures["time_to_close"] == {"closed": 2, "average_working_days": 3.0}
    assert working_days_between(date(2024, 9, 30), date(2024, 10, 8)) == 1
    assert working_days_between(date(2024, 10, 8), date(2024, 10, 14)) == 5


def test_time_to_close_matches_the_calendar_on_many_spans(zone):
    # Given closed cases over spans of various lengths (0 to 35 days), starting on different weekdays
    starts = [date(2024, 12, 20) + timedelta(days=i * 3) for i in range(8)]
    spans = [(start, start + timedelta(days=(i * 7) % 41)) for i, start in enumerate(starts)]
    for start, end in spans:
        case = case_of(zone, CS.CLOSED)
        Case.objects.filter(pk=case.pk).update(submitted_at=local(start, 8), closed_at=local(end, 17))
    # When a leader opens the dashboard
    figures = dashboard(user=zone.leader)
    # Then the average is the calendar's own count, averaged
    expected = sum(working_days_between(start, end) for start, end in spans) / len(spans)
    assert figures["time_to_close"] == {"closed": len(spans), "average_working_days": round(expected, 1)}


def test_satisfaction_counts_every_verdict_and_ratings_5_4_3_as_satisfied(zone, board):
    # Given verdicts rated 5 (enterprise confirmed), 3 (confirmed on a callback) and 1 (enterprise reopened)
    # When a leader opens the dashboard
    figures = dashboard(user=zone.leader, today=board.today)
    # Then two of three verdicts are satisfied
    assert figures["satisfaction"] == {
        "verdicts": 3,
        "satisfied": 2,
        "rate": 0.6667,
        "by_rating": [
            {"rating": 5, "label": "非常满意", "count": 1},
            {"rating": 4, "label": "满意", "count": 0},
            {"rating": 3, "label": "基本满意", "count": 1},
            {"rating": 2, "label": "不满意", "count": 0},
            {"rating": 1, "label": "非常不满意", "count": 1},
        ],
        "early_callbacks": {"verdicts": 0, "satisfied": 0},
    }


def test_early_callbacks_are_counted_apart_from_the_enterprises_own_verdicts(zone, board):
    # Given the board (verdicts rated 5, 3 and 1), and two cases closed on a callback a few minutes after the
    # answer, while the enterprise could still have answered itself: one rated 5, one rated 2
    for rating in (5, 2):
        case = case_of(zone, CS.RESOLVED)
        feedback = case_services.record_callback(
            actor=zone.concierge,
            case=case,
            verdict="confirm",
            rating=rating,
            comment="企业表示认可" if rating == 5 else "企业表示不太满意",
            contact_name="王经理",
            contact_phone="13812345678",
        )
        assert feedback.early
    # When a leader opens the dashboard
    satisfaction = dashboard(user=zone.leader, today=board.today)["satisfaction"]
    # Then the satisfaction rate and the ratings are the enterprise's own verdicts and the on-time callback alone
    assert (satisfaction["verdicts"], satisfaction["satisfied"], satisfaction["rate"]) == (3, 2, 0.6667)
    assert [row["count"] for row in satisfaction["by_rating"]] == [1, 0, 1, 0, 1]
    # And the early phone verdicts are shown apart
    assert satisfaction["early_callbacks"] == {"verdicts": 2, "satisfied": 1}


def test_the_dashboard_is_plain_json(zone, board):
    # Given the board
    # When the dashboard is serialised as the API will
    figures = dashboard(user=zone.leader, today=board.today)
    # Then it round-trips unchanged, dates as ISO strings
    assert json.loads(json.dumps(figures)) == figures
    assert figures["today"] == board.today.isoformat()


def total_cases(figures: dict) -> int:
    return sum(by_status(figures).values())


def test_each_user_counts_only_what_they_may_see(zone, board):
    # Given the board (9 cases of zone.enterprise) and 2 cases of zone.other_enterprise, one closed with rating 5
    other_closed = case_of(zone, CS.CLOSED, other=True)
    set_task(other_closed, due_on=board.today - timedelta(days=30))  # done late
    other_submitted = case_of(zone, CS.SUBMITTED, other=True)
    Case.objects.filter(pk=other_submitted.pk).update(accept_due_on=board.today - timedelta(days=1))

    # When each of them opens the dashboard
    def figures(user):
        return dashboard(user=user, today=board.today)

    own, other_user, concierge, other_concierge, leader = map(
        figures,
        [zone.enterprise_user, zone.other_enterprise_user, zone.concierge, zone.other_concierge, zone.leader],
    )
    # Then an enterprise user and a concierge count only their own enterprise's cases
    for mine in (own, concierge):
        assert total_cases(mine) == 9
        assert mine["overdue_cases"] == 2
        assert mine["satisfaction"]["verdicts"] == 3
        assert mine["on_time"] == {"completed": 4, "on_time": 2, "rate": 0.5}
        assert [row["count"] for row in mine["overdue_tasks_by_department"]] == [2, 1]
    # And the other enterprise's user and concierge count only theirs
    for theirs in (other_user, other_concierge):
        assert by_status(theirs) == {**dict.fromkeys(CS.values, 0), "closed": 1, "submitted": 1}
        assert theirs["overdue_cases"] == 1
        assert theirs["overdue_tasks_by_department"] == []
        assert theirs["on_time"] == {"completed": 1, "on_time": 0, "rate": 0.0}
        assert theirs["satisfaction"]["verdicts"] == 1
        assert theirs["satisfaction"]["rate"] == 1.0
        assert theirs["time_to_close"]["closed"] == 1
        assert [row["count"] for row in theirs["cases_by_category"]] == [2, 0, 0]
    # And a leader counts everything
    assert total_cases(leader) == 11
    assert leader["overdue_cases"] == 3
    assert leader["satisfaction"]["verdicts"] == 4
    assert leader["on_time"]["completed"] == 5


def test_an_anonymous_or_inactive_user_gets_zeros(zone, board):
    # Given the board, and a user who signed in once but has been deactivated
    inactive = UserFactory(is_active=False, is_superuser=True)
    for user in (AnonymousUser(), inactive):
        # When they get the dashboard
        figures = dashboard(user=user, today=board.today)
        # Then every figure is zero or empty, and no rate is made up
        assert set(by_status(figures).values()) == {0}
        assert {(row["count"], row["open"]) for row in figures["cases_by_category"]} == {(0, 0)}
        assert figures["overdue_tasks_by_department"] == []
        assert figures["overdue_cases"] == 0
        assert figures["on_time"] == {"completed": 0, "on_time": 0, "rate": None}
        assert figures["time_to_close"] == {"closed": 0, "average_working_days": None}
        assert figures["satisfaction"]["verdicts"] == 0
        assert figures["satisfaction"]["rate"] is None
        assert {row["count"] for row in figures["satisfaction"]["by_rating"]} == {0}
        coverage = figures["coverage"]
        assert coverage["key_enterprises_without_concierge"] == 0
        assert coverage["projects_without_concierge"] == 0
        assert coverage["enterprises_without_contact"] == 0


def test_contact_since_is_a_rolling_90_days():
    assert contact_since(date(2025, 6, 30)) == date(2025, 4, 1)
    assert contact_since(date(2025, 3, 1)) == date(2024, 12, 1)


@dataclass
class Contacts:
    today: date
    since: date
    visited_on_since: Enterprise
    visited_before: Enterprise
    not_key: Enterprise


@pytest.fixture
def contacts(zone) -> Contacts:
    """zone.enterprise submitted a case at 00:00 on the first day of the window, zone.other_enterprise at 23:59
    the day before; one enterprise was visited on the first day, one the day before (and has no concierge);
    one enterprise is not a key one. Projects: one with a concierge, two without."""
    today = timezone.localdate()
    since = contact_since(today)
    for enterprise_user, submitted_at in (
        (zone.enterprise_user, local(since)),
        (zone.other_enterprise_user, local(since - timedelta(days=1), 23, 59, 59)),
    ):
        case = case_services.submit_case(
            actor=enterprise_user,
            enterprise=enterprise_user.enterprise,
            category=zone.category,
            title="用电增容",
            description="新产线需要增容。",
        )
        Case.objects.filter(pk=case.pk).update(submitted_at=submitted_at)
    visited_on_since = EnterpriseFactory(name="昆山启明光电有限公司", concierge=zone.concierge)
    VisitFactory(enterprise=visited_on_since, concierge=zone.concierge, visited_on=since)
    visited_before = EnterpriseFactory(name="昆山瑞丰材料有限公司")
    VisitFactory(enterprise=visited_before, concierge=zone.concierge, visited_on=since - timedelta(days=1))
    not_key = EnterpriseFactory(name="昆山小微商贸有限公司", is_key=False)
    ProjectFactory(enterprise=zone.enterprise)  # the enterprise's concierge
    ProjectFactory(enterprise=zone.enterprise, concierge=None)
    ProjectFactory(enterprise=visited_before)  # that enterprise has no concierge, so neither has the project
    return Contacts(today, since, visited_on_since, visited_before, not_key)


def test_coverage_counts_key_enterprises_and_projects_left_without_service(zone, contacts):
    # Given the contacts fixture
    # When a leader opens the dashboard
    figures = dashboard(user=zone.leader, today=contacts.today)
    # Then the key enterprise without a concierge, both projects without one, and the two key enterprises last
    # contacted before the window (a case at 23:59 the day before, a visit the day before) are counted
    assert figures["coverage"] == {
        "key_enterprises_without_concierge": 1,
        "projects_without_concierge": 2,
        "enterprises_without_contact": 2,
        "since": contacts.since.isoformat(),
    }
    # And the admin's list behind the figure names exactly those enterprises
    assert set(enterprises_without_contact(Enterprise.objects.all(), contacts.since)) == {
        zone.other_enterprise,
        contacts.visited_before,
    }


def test_coverage_is_scoped_to_what_the_user_may_see(zone, contacts):
    # Given the contacts fixture
    # When the enterprises' users and concierges open the dashboard
    def coverage(user):
        return dashboard(user=user, today=contacts.today)["coverage"]

    # Then each counts only its own enterprises and projects
    own = {"key_enterprises_without_concierge": 0, "projects_without_concierge": 1, "enterprises_without_contact": 0}
    other = {"key_enterprises_without_concierge": 0, "projects_without_concierge": 0, "enterprises_without_contact": 1}
    for user, expected in (
        (zone.enterprise_user, own),
        (zone.concierge, own),
        (zone.other_enterprise_user, other),
        (zone.other_concierge, other),
    ):
        assert coverage(user) == {**expected, "since": contacts.since.isoformat()}, user


def fresh(user):
    """The user as a new request would load it (nothing cached on the object)."""
    return type(user).objects.get(pk=user.pk)


MAX_QUERIES = 13  # the working calendar is two of them: its overrides and its confirmed years


def test_the_dashboard_costs_a_constant_number_of_queries(zone, board, django_assert_max_num_queries):
    # Given the board, measured once
    leader = fresh(zone.leader)
    with CaptureQueriesContext(connection) as small:
        dashboard(user=leader, today=board.today)
    assert len(small) <= MAX_QUERIES
    # And then more of everything: categories, departments with overdue tasks, closed cases with verdicts,
    # enterprises, projects and visits
    for i in range(3):
        category = CategoryFactory(code=f"extra{i}", name=f"附加类别{i}", sort_order=10 + i)
        department = DepartmentFactory(code=f"extra{i}", name=f"附加部门{i}")
        closed = case_of(zone, CS.CLOSED, category=category)
        Case.objects.filter(pk=closed.pk).update(submitted_at=local(date(2025, 3, 1 + i), 9))
        working = case_of(zone, CS.ACCEPTED, category=category)
        (task,) = decompose_case(
            actor=zone.concierge, case=working, tasks=[TaskSpec(title="协调", department=department)]
        )
        Task.objects.filter(pk=task.pk).update(due_on=board.today - timedelta(days=i + 1))
        enterprise = EnterpriseFactory()
        EnterpriseUserFactory(enterprise=enterprise)
        ProjectFactory(enterprise=enterprise)
        VisitFactory(enterprise=enterprise, concierge=zone.concierge)
    # When the dashboard is computed again, for a leader and for a concierge
    for user in (fresh(zone.leader), fresh(zone.concierge)):
        with django_assert_max_num_queries(len(small)):
            figures = dashboard(user=user, today=board.today)
        # Then the query count has not grown, and the new rows are counted
        assert len(figures["overdue_tasks_by_department"]) == 5
        assert figures["time_to_close"]["closed"] == 5
