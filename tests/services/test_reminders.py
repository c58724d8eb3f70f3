"""Reminders (services/time/reminders.py, docs/states-and-roles.md): which are due, to whom, counted in working days
with the real Chinese calendar, written once per item, kind and deadline, and held for the working morning.

The clock is stopped (time-machine) at each moment named. November 2026 is a plain month (Mon 11-02 … Fri 11-13);
September–October 2026 holds the calendar's specials: Sun 09-20 and Sat 10-10 are make-up working days (调休),
09-25..27 and 10-01..07 are holidays (Mid-autumn, National Day). chinesecalendar 1.11 knows nothing of 2027.
"""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from services.cases import steps as case_services
from services.cases import tasks as task_services
from services.cases.tasks import TaskSpec
from services.roles import Role
from services.time import reminders
from services.time.calendar import WorkingCalendar
from services.time.reminders import working_days_ago
from tests.factories import (
    CategoryFactory,
    EnterpriseUserFactory,
    HolidayOverrideFactory,
    ProjectFactory,
    UserFactory,
    at,
    case_at,
    frozen,
    run_case_action,
)
from tracker.models import Case, Notification, PushDelivery, Reminder, Task

CS = Case.Status
Kind = Reminder.Kind


@pytest.fixture(autouse=True)
def rules(settings):
    """The defaults, written out: yellow after 2 working days overdue, red after 5, acceptance escalated after 2;
    pushes from 09:00 to 18:00."""
    settings.REMINDER_YELLOW_AFTER_DAYS = 2
    settings.REMINDER_RED_AFTER_DAYS = 5
    settings.REMINDER_ACCEPT_ESCALATE_AFTER_DAYS = 2
    settings.REMINDER_DAY_START_HOUR = 9
    settings.REMINDER_DAY_END_HOUR = 18


@pytest.fixture
def people(zone):
    """Everyone the rules can reach: the task force gets a lead, each department a head."""
    zone.task_force.lead = UserFactory(username="force_lead", department=zone.department)
    zone.task_force.save(update_fields=["lead"])
    zone.department.head = UserFactory(username="planning_head", department=zone.department)
    zone.department.save(update_fields=["head"])
    zone.other_department.head = UserFactory(username="power_head", department=zone.other_department)
    zone.other_department.save(update_fields=["head"])
    return zone


UNITS = {
    "named person": lambda zone: {"task_force": zone.task_force, "assignee": zone.member},
    "task force": lambda zone: {"task_force": zone.task_force},
    "department": lambda zone: {"department": zone.department},
    "other department": lambda zone: {"department": zone.other_department},
}


def given_task(zone, *, made, due_on: date | None, unit: str = "task force", case: Case | None = None) -> Task:
    """A case accepted and given one task due on `due_on` (or the category's default), all done at `made`."""
    with frozen(made):
        case = case or case_at(zone, CS.ACCEPTED)
        spec = TaskSpec(title="协调规划许可", due_on=due_on, **UNITS[unit](zone))
        (task,) = task_services.decompose_case(actor=zone.concierge, case=case, tasks=[spec])
    return task


def sweep_at(moment) -> reminders.SweepResult:
    with frozen(moment):
        return reminders.sweep()


def told(kind: str) -> list[str]:
    """Who has a notice of reminder `kind`, by username, sorted (one entry per notice)."""
    return sorted(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


def reminder_log() -> list[tuple[str, date]]:
    """The reminders written so far, oldest first, as (kind, deadline)."""
    return list(Reminder.objects.order_by("id").values_list("kind", "deadline"))


def written_on() -> list[tuple[str, date]]:
    """The reminders written so far, oldest first, as (kind, the day the sweep wrote it)."""
    rows = Reminder.objects.order_by("id").values_list("kind", "created_at")
    return [(kind, created.date()) for kind, created in rows]


# The rules and whom each reaches ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "workers"),
    [
        ("named person", ["member"]),
        ("task force", ["force_lead", "member"]),
        ("department", ["officer"]),
    ],
)
def test_a_task_due_on_the_next_working_day_reminds_whoever_works_it(people, unit, workers):
    # Given a task made on Monday, due on Wednesday, for a named person, a task force or a department
    UserFactory(username="planner", department=people.department)  # works there, is no officer
    given_task(people, made=at("2026-11-02"), due_on=date(2026, 11, 4), unit=unit)

    # When the sweep runs on Monday, two days ahead: nothing is due
    assert sweep_at(at("2026-11-02", 11)).reminders == 0

    # When it runs on Tuesday
    sweep_at(at("2026-11-03", 8))

    # Then whoever works the task is told it is due tomorrow, and nothing else is said
    assert told(Kind.TASK_DUE_TOMORROW) == workers
    assert reminder_log() == [(Kind.TASK_DUE_TOMORROW, date(2026, 11, 4))]


@pytest.mark.parametrize("unit", ["named person", "task force", "department"])
def test_a_task_due_today_reminds_the_same_people(people, unit):
    given_task(people, made=at("2026-11-02"), due_on=date(2026, 11, 4), unit=unit)
    # When the sweep runs just after midnight on the day
    sweep_at(at("2026-11-04", 0, 5))
    # Then the workers are told it is due today
    expected = {"named person": ["member"], "task force": ["force_lead", "member"], "department": ["officer"]}
    assert told(Kind.TASK_DUE_TODAY) == expected[unit]
    assert reminder_log() == [(Kind.TASK_DUE_TODAY, date(2026, 11, 4))]


def test_on_friday_a_task_due_monday_is_due_on_the_next_working_day(people):
    # Given a task due on Monday 11-09
    given_task(people, made=at("2026-11-02"), due_on=date(2026, 11, 9), unit="named person")
    # When the sweep runs on Thursday, Friday, Saturday and Sunday
    for day in ("2026-11-05", "2026-11-06", "2026-11-07", "2026-11-08"):
        sweep_at(at(day))
    # Then the reminder came on Friday, the working day before, and the weekend added nothing
    assert reminder_log() == [(Kind.TASK_DUE_TOMORROW, date(2026, 11, 9))]
    assert Reminder.objects.get().created_at == at("2026-11-06")


@pytest.mark.parametrize(
    ("unit", "workers"),
    [
        # a named person, and the lead of the task force the task belongs to
        ("named person", ["force_lead", "member"]),
        ("task force", ["force_lead", "member"]),
        ("department", ["officer"]),
    ],
)
def test_an_overdue_task_tells_its_workers_and_the_task_force_lead(people, unit, workers):
    # Given a task due Tuesday, not done
    given_task(people, made=at("2026-11-02"), due_on=date(2026, 11, 3), unit=unit)
    # When the sweep runs on Wednesday
    sweep_at(at("2026-11-04"))
    # Then it is overdue, to the workers and the task force's lead; one working day late is no escalation yet
    assert told(Kind.TASK_OVERDUE) == workers
    assert reminder_log() == [(Kind.TASK_OVERDUE, date(2026, 11, 3))]


@pytest.mark.parametrize(
    ("unit", "head"),
    [("task force", "planning_head"), ("department", "planning_head"), ("other department", "power_head")],
)
def test_a_task_overdue_by_n_working_days_goes_to_the_department_head(people, unit, head):
    # Given a task due Tuesday, for the task force (led by the planning department) or a department
    given_task(people, made=at("2026-11-02"), due_on=date(2026, 11, 3), unit=unit)

    # When the sweep runs Wednesday (one working day late): no yellow card
    sweep_at(at("2026-11-04"))
    assert told(Kind.TASK_YELLOW) == []

    # When it runs Thursday (two working days late)
    sweep_at(at("2026-11-05"))

    # Then the head of the department responsible gets the yellow card (黄牌督办), and only they
    assert told(Kind.TASK_YELLOW) == [head]


def test_a_task_overdue_by_m_working_days_goes_to_the_enterprise_linked_leader(people):
    # Given a task due Tuesday 11-03 of an enterprise whose linked leader is 吴主任
    given_task(people, made=at("2026-11-02"), due_on=date(2026, 11, 3))

    # When the sweep runs each day until Monday 11-09 (Wed, Thu, Fri, Mon late: four working days)
    for day in ("2026-11-04", "2026-11-05", "2026-11-06", "2026-11-07", "2026-11-08", "2026-11-09"):
        sweep_at(at(day))
    assert told(Kind.TASK_RED) == []

    # When it runs on Tuesday 11-10, five working days late
    sweep_at(at("2026-11-10"))

    # Then the linked leader gets the red card (红牌督办)
    assert told(Kind.TASK_RED) == ["leader"]
    # And over the week each reminder came once: overdue Wednesday, yellow Thursday, red Tuesday
    assert written_on() == [
        (Kind.TASK_OVERDUE, date(2026, 11, 4)),
        (Kind.TASK_YELLOW, date(2026, 11, 5)),
        (Kind.TASK_RED, date(2026, 11, 10)),
    ]


def test_the_red_card_of_a_project_case_goes_to_the_project_linked_leader(people):
    # Given a case about a project that has its own linked leader
    project_leader = UserFactory(username="project_leader", roles=[Role.LEADER])
    project = ProjectFactory(enterprise=people.enterprise, linked_leader=project_leader)
    with frozen(at("2026-11-02")):
        case = case_services.submit_case(
            actor=people.enterprise_user,
            enterprise=people.enterprise,
            project=project,
            category=people.category,
            title="新厂房项目用地",
            description="项目用地指标尚未落实。",
        )
        case_services.accept_case(actor=people.concierge, case=case)
    given_task(people, made=at("2026-11-02"), due_on=date(2026, 11, 3), case=case)

    # When it is five working days overdue
    sweep_at(at("2026-11-10"))

    # Then the project's leader gets the red card, not the enterprise's
    assert told(Kind.TASK_RED) == ["project_leader"]


def test_a_task_done_or_a_case_accepted_in_time_is_not_reminded(people):
    # Given a task due Tuesday, on a case accepted the day it came, reminded on Tuesday morning
    task = given_task(people, made=at("2026-11-02"), due_on=date(2026, 11, 3), unit="named person")
    sweep_at(at("2026-11-03", 0, 5))
    # When its member completes it that day, and the sweep runs the rest of the week
    with frozen(at("2026-11-03")):
        task_services.start_task(actor=people.member, task=task)
        task_services.complete_task(actor=people.member, task=task, result="已批复")
    for day in ("2026-11-04", "2026-11-05", "2026-11-06", "2026-11-09", "2026-11-10"):
        sweep_at(at(day))
    # Then only the "due today" reminder written before the work was done exists: no overdue, no cards, and
    # nothing about accepting the case
    assert reminder_log() == [(Kind.TASK_DUE_TODAY, date(2026, 11, 3))]


def test_a_case_not_accepted_in_time_tells_the_concierge_and_backup_then_the_linked_leader(people):
    # Given a case submitted on Monday 11-02, to be accepted by Tuesday
    with frozen(at("2026-11-02")):
        case = case_at(people, CS.SUBMITTED)
    assert case.accept_due_on == date(2026, 11, 3)

    # When the sweep runs on Tuesday: still in time
    sweep_at(at("2026-11-03", 17))
    assert reminder_log() == []

    # When it runs on Wednesday: late
    sweep_at(at("2026-11-04"))
    assert told(Kind.ACCEPT_OVERDUE) == ["backup", "concierge"]
    assert told(Kind.ACCEPT_ESCALATED) == []

    # When it runs on Thursday: late by two working days
    sweep_at(at("2026-11-05"))

    # Then the enterprise's linked leader is told (督办), and the concierges are not told again
    assert told(Kind.ACCEPT_ESCALATED) == ["leader"]
    assert told(Kind.ACCEPT_OVERDUE) == ["backup", "concierge"]


def test_a_verdict_due_today_tells_the_enterprise_users_then_the_concierge_is_asked_to_call_back(people):
    # Given a case answered on Monday 11-02, two active users of the enterprise and a former one
    EnterpriseUserFactory(username="ent_colleague", enterprise=people.enterprise)
    EnterpriseUserFactory(username="ent_former", enterprise=people.enterprise, is_active=False)
    with frozen(at("2026-11-02")):
        case = case_at(people, CS.RESOLVED)
    assert case.verdict_due_on == date(2026, 11, 9)  # five working days

    # When the sweep runs on Friday: not yet
    sweep_at(at("2026-11-06"))
    assert reminder_log() == []

    # When it runs on the day the verdict is due
    sweep_at(at("2026-11-09"))
    assert told(Kind.VERDICT_DUE) == ["ent_colleague", "ent_user"]
    assert told(Kind.CALLBACK_DUE) == []

    # When it runs the next day, no verdict given
    sweep_at(at("2026-11-10"))

    # Then the concierge is asked to call the enterprise back (回访)
    assert told(Kind.CALLBACK_DUE) == ["concierge"]


def test_a_verdict_given_in_time_ends_the_reminders(people):
    with frozen(at("2026-11-02")):
        case = case_at(people, CS.RESOLVED)
    with frozen(at("2026-11-09", 8)):
        run_case_action(people, "confirm", case)
    sweep_at(at("2026-11-09", 10))
    sweep_at(at("2026-11-10"))
    assert reminder_log() == []


def test_a_case_sent_back_and_not_taken_up_tells_the_concierge_and_backup_then_the_linked_leader(people):
    # Given a case answered on Monday 11-02 (its one task done) and sent back by the enterprise on Tuesday
    with frozen(at("2026-11-02")):
        case = case_at(people, CS.RESOLVED)
    with frozen(at("2026-11-03")):
        run_case_action(people, "reopen", case)
    case.refresh_from_db()
    assert case.redo_due_on == date(2026, 11, 4)  # the category's one working day to take it up again

    # When the sweep runs on Wednesday: still in time
    sweep_at(at("2026-11-04", 17))
    assert reminder_log() == []

    # When it runs on Thursday, the concierge having neither reopened nor added a task
    sweep_at(at("2026-11-05"))
    assert reminder_log() == [(Kind.REDO_OVERDUE, date(2026, 11, 4))]
    assert told(Kind.REDO_OVERDUE) == ["backup", "concierge"]
    assert told(Kind.REDO_ESCALATED) == []

    # When it runs on Friday: late by two working days
    sweep_at(at("2026-11-06"))
    sweep_at(at("2026-11-06", 11))

    # Then the enterprise's linked leader is told (督办), once, and the concierges are not told again
    assert told(Kind.REDO_ESCALATED) == ["leader"]
    assert told(Kind.REDO_OVERDUE) == ["backup", "concierge"]


@pytest.mark.parametrize("taken_up_by", ["reopening the task", "adding a task", "answering again"])
def test_a_case_sent_back_and_taken_up_in_time_is_not_reminded(people, taken_up_by):
    # Given a case sent back on Tuesday 11-03, to be taken up by Wednesday
    with frozen(at("2026-11-02")):
        case = case_at(people, CS.RESOLVED)
    with frozen(at("2026-11-03")):
        run_case_action(people, "callback_reopen", case)
    # When the concierge takes it up on Wednesday
    with frozen(at("2026-11-04")):
        if taken_up_by == "reopening the task":
            task_services.reopen_task(actor=people.concierge, task=case.tasks.get(), note="请按企业意见重办")
        elif taken_up_by == "adding a task":
            task_services.decompose_case(
                actor=people.concierge, case=case, tasks=[TaskSpec(title="现场核查", task_force=people.task_force)]
            )
        else:
            case_services.resolve_case(actor=people.concierge, case=case, answer="经再次核实，证书已寄出。")
    # Then the redo deadline is met: no redo reminder, then or later
    assert Case.objects.get(pk=case.pk).redo_due_on is None
    sweep_at(at("2026-11-05"))
    sweep_at(at("2026-11-09"))
    assert told(Kind.REDO_OVERDUE) == told(Kind.REDO_ESCALATED) == []


# Working days from the real Chinese calendar ---------------------------------------------------------------


def test_the_library_knows_the_2026_days_this_file_relies_on():
    # The make-up working weekend days (调休) and the holidays of September-October, as chinesecalendar has them
    import chinese_calendar

    autumn = (date(2026, 9, 14), date(2026, 10, 18))
    assert [d for d in chinese_calendar.get_workdays(*autumn) if d.weekday() >= 5] == [
        date(2026, 9, 20),
        date(2026, 10, 10),
    ]
    assert [d for d in chinese_calendar.get_holidays(*autumn) if d.weekday() < 5] == [date(2026, 9, 25)] + [
        date(2026, 10, d) for d in (1, 2, 5, 6, 7)
    ]


def test_a_make_up_saturday_counts_as_a_working_day(people):
    # Given a task due on Friday 10-09, the day before the make-up Saturday 10-10
    given_task(people, made=at("2026-09-28"), due_on=date(2026, 10, 9))

    # When the sweep runs on Saturday and Sunday: one working day late (the Saturday)
    sweep_at(at("2026-10-10"))
    sweep_at(at("2026-10-11"))
    assert told(Kind.TASK_YELLOW) == []

    # When it runs on Monday 10-12
    sweep_at(at("2026-10-12"))

    # Then the yellow card comes: the Saturday counted, two working days late (it would be Tuesday otherwise)
    assert told(Kind.TASK_YELLOW) == ["planning_head"]


def test_a_task_due_on_a_make_up_day_is_due_tomorrow_the_working_day_before(people):
    # Given a task due on Sunday 09-20, a make-up working day
    given_task(people, made=at("2026-09-14"), due_on=date(2026, 9, 20), unit="named person")
    # When the sweep runs Friday, Saturday and Sunday
    for day in ("2026-09-18", "2026-09-19", "2026-09-20"):
        sweep_at(at(day))
    # Then Friday said "due tomorrow" (the next working day), the rest day nothing, the Sunday "due today"
    assert written_on() == [
        (Kind.TASK_DUE_TOMORROW, date(2026, 9, 18)),
        (Kind.TASK_DUE_TODAY, date(2026, 9, 20)),
    ]


def test_golden_week_days_do_not_count(people):
    # Given a task due on Wednesday 09-30, the eve of Golden Week
    given_task(people, made=at("2026-09-21"), due_on=date(2026, 9, 30))

    # When the sweep runs every day of the holiday, and on Thursday 10-08, the first day back
    for day in range(1, 9):
        sweep_at(at(date(2026, 10, day)))

    # Then the task is overdue, but by one working day only: no card after eight calendar days
    assert told(Kind.TASK_OVERDUE) == ["force_lead", "member"]
    assert told(Kind.TASK_YELLOW) == told(Kind.TASK_RED) == []

    # When it runs on 10-09 and up to Monday 10-12 (10-08, 10-09, the make-up 10-10, 10-12: four)
    for day in (9, 10, 11, 12):
        sweep_at(at(date(2026, 10, day)))
    assert told(Kind.TASK_YELLOW) == ["planning_head"]
    assert told(Kind.TASK_RED) == []

    # When it runs on Tuesday 10-13, five working days late
    sweep_at(at("2026-10-13"))

    # Then the red card comes
    assert told(Kind.TASK_RED) == ["leader"]
    assert Reminder.objects.get(kind=Kind.TASK_YELLOW).created_at == at("2026-10-09")


def test_a_task_due_after_golden_week_is_due_tomorrow_on_its_eve(people):
    given_task(people, made=at("2026-09-21"), due_on=date(2026, 10, 8), unit="named person")
    sweep_at(at("2026-09-30"))
    assert reminder_log() == [(Kind.TASK_DUE_TOMORROW, date(2026, 10, 8))]


@pytest.mark.parametrize(
    ("override", "yellow_on"),
    [
        (None, "2026-10-12"),
        # staff declare the make-up Saturday a rest day after all: Tuesday
        ({"date": date(2026, 10, 10), "is_working_day": False, "note": "调休取消"}, "2026-10-13"),
        # or Sunday 10-11 a working day: Sunday
        ({"date": date(2026, 10, 11), "is_working_day": True, "note": "加班"}, "2026-10-11"),
    ],
    ids=["library", "saturday-off", "sunday-worked"],
)
def test_a_holiday_override_wins_over_the_library(people, override, yellow_on):
    # Given a task due Friday 10-09, and perhaps an override of the next weekend
    if override:
        HolidayOverrideFactory(**override)
    given_task(people, made=at("2026-09-28"), due_on=date(2026, 10, 9))

    # When the sweep runs each day from Saturday to Tuesday
    for day in (10, 11, 12, 13):
        sweep_at(at(date(2026, 10, day)))

    # Then the yellow card came on the day the override makes two working days late
    assert Reminder.objects.get(kind=Kind.TASK_YELLOW).created_at == at(yellow_on)


@pytest.mark.parametrize(
    ("today", "days", "expected"),
    [
        (date(2026, 11, 5), 2, date(2026, 11, 3)),  # Thu: Wed and Thu after Tue
        (date(2026, 11, 7), 2, date(2026, 11, 4)),  # Sat: Thu and Fri after Wed
        (date(2026, 10, 12), 2, date(2026, 10, 9)),  # Mon: Sat (make-up) and Mon after Fri
        (date(2026, 10, 9), 2, date(2026, 10, 7)),  # Fri: Thu and Fri after the holiday's last day
        (date(2026, 10, 12), 5, date(2026, 9, 29)),  # Mon: 10-12, 10-10, 10-09, 10-08 and 09-30
        (date(2026, 10, 13), 5, date(2026, 10, 7)),
    ],
)
def test_working_days_ago(today, days, expected):
    # The latest deadline that is `days` working days late on `today`
    assert working_days_ago(today, days, WorkingCalendar()) == expected


# A year the library does not know --------------------------------------------------------------------------


def test_the_library_does_not_know_2027():
    import chinese_calendar

    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 4))


def test_a_deadline_in_an_unknown_year_falls_back_to_weekdays(people):
    # Given a task made on Monday 2026-12-28, due Tuesday 2027-01-05 (a year chinesecalendar does not know)
    given_task(people, made=at("2026-12-28"), due_on=date(2027, 1, 5), unit="named person")

    # When the sweep runs every day from 12-31 to 2027-01-08
    for moment in [at("2026-12-31")] + [at(date(2027, 1, d)) for d in range(1, 9)]:
        sweep_at(moment)

    # Then nothing crashed, and days were counted as weekdays: due tomorrow on Monday 01-04, today on Tuesday,
    # overdue Wednesday, the yellow card on Thursday (Wed, Thu)
    assert written_on() == [
        (Kind.TASK_DUE_TOMORROW, date(2027, 1, 4)),
        (Kind.TASK_DUE_TODAY, date(2027, 1, 5)),
        (Kind.TASK_OVERDUE, date(2027, 1, 6)),
        (Kind.TASK_YELLOW, date(2027, 1, 7)),
    ]


def test_in_an_unknown_year_the_holidays_staff_enter_are_kept(people):
    # Given the new year's holidays not yet in the library, but entered by staff: 2027-01-01 off
    HolidayOverrideFactory(date=date(2027, 1, 1), is_working_day=False, note="元旦")
    given_task(people, made=at("2026-12-28"), due_on=date(2027, 1, 4), unit="named person")

    # When the sweep runs on Thursday 12-31 and on Friday 01-01
    sweep_at(at("2026-12-31"))

    # Then Thursday already says "due tomorrow" for Monday 01-04: New Year's Day is skipped
    assert reminder_log() == [(Kind.TASK_DUE_TOMORROW, date(2027, 1, 4))]
    sweep_at(at("2027-01-01"))
    assert reminder_log() == [(Kind.TASK_DUE_TOMORROW, date(2027, 1, 4))]


def test_without_the_override_new_year_day_2027_is_a_rest_day_by_law(people):
    given_task(people, made=at("2026-12-28"), due_on=date(2027, 1, 4), unit="named person")
    sweep_at(at("2026-12-31"))  # the next working day is Monday 01-04: New Year's Day is a statutory holiday
    assert reminder_log() == [(Kind.TASK_DUE_TOMORROW, date(2027, 1, 4))]


# Held for the working morning --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "goes_out"),
    [
        (at("2026-11-04", 22), at("2026-11-05", 9)),  # a Wednesday night: Thursday morning
        (at("2026-11-07", 10), at("2026-11-09", 9)),  # a Saturday: Monday morning
        (at("2026-10-03", 10), at("2026-10-08", 9)),  # Golden Week: the first day back
        (at("2026-09-18", 22), at("2026-09-20", 9)),  # a Friday night before a make-up Sunday: that Sunday
        (at("2026-11-04", 7), at("2026-11-04", 9)),  # early on a working day: at nine
        (at("2026-11-04", 10), at("2026-11-04", 10)),  # working hours: at once
    ],
)
def test_a_reminder_push_waits_for_the_next_working_morning(people, written, goes_out):
    # Given a member who takes reminders by email, and a task long overdue at `written`
    people.member.email = "member@example.com"
    people.member.save(update_fields=["email"])
    given_task(people, made=at("2026-09-01"), due_on=date(2026, 9, 2), unit="named person")

    # When the sweep runs at `written`
    sweep_at(written)

    # Then the in-app notice is there at once, and its email waits for the working morning
    notice = Notification.objects.get(kind=Kind.TASK_OVERDUE, recipient=people.member)
    assert notice.created_at == written
    push = PushDelivery.objects.get(notification=notice)
    assert (push.channel, push.address, push.status) == ("email", "member@example.com", "pending")
    assert push.next_attempt_at == goes_out


# The reminder log: once per item, kind and deadline -------------------------------------------------------


def test_a_second_sweep_writes_nothing(people):
    # Given a task overdue long enough for every card, with an email address for the member
    people.member.email = "member@example.com"
    people.member.save(update_fields=["email"])
    given_task(people, made=at("2026-11-02"), due_on=date(2026, 11, 3), unit="named person")
    first = sweep_at(at("2026-11-12"))
    assert (first.due, first.reminders) == (3, 3)  # overdue, yellow, red
    counts = (Reminder.objects.count(), Notification.objects.count(), PushDelivery.objects.count())

    # When the sweep runs again, a minute later and the next day
    again = sweep_at(at("2026-11-12", 10, 1))
    next_day = sweep_at(at("2026-11-13"))

    # Then it finds the same reminders due and writes nothing: no reminder, notice or push twice
    assert (again.due, again.reminders, again.notices, again.pushes) == (3, 0, 0, 0)
    assert (next_day.due, next_day.reminders) == (3, 0)
    assert (Reminder.objects.count(), Notification.objects.count(), PushDelivery.objects.count()) == counts


def test_an_approved_extension_rearms_the_reminders_of_the_new_deadline(people):
    # Given a task due Tuesday 11-03, reminded the day before, on the day and as overdue
    task = given_task(people, made=at("2026-11-02"), due_on=date(2026, 11, 3), unit="named person")
    for moment in (at("2026-11-02", 11), at("2026-11-03"), at("2026-11-04")):
        sweep_at(moment)
    assert reminder_log() == [
        (Kind.TASK_DUE_TOMORROW, date(2026, 11, 3)),
        (Kind.TASK_DUE_TODAY, date(2026, 11, 3)),
        (Kind.TASK_OVERDUE, date(2026, 11, 3)),
    ]

    # When the member asks to move the deadline to Monday 11-09 and a leader approves, on Wednesday
    with frozen(at("2026-11-04", 11)):
        extension = task_services.request_extension(
            actor=people.member, task=task, requested_due_on=date(2026, 11, 9), reason="需等待省厅批复"
        )
        task_services.approve_extension(actor=people.leader, extension=extension)
    assert Task.objects.get(pk=task.pk).due_on == date(2026, 11, 9)

    # And the sweep runs every day to Tuesday 11-10
    for day in ("2026-11-04", "2026-11-05", "2026-11-06", "2026-11-07", "2026-11-08", "2026-11-09", "2026-11-10"):
        sweep_at(at(day, 12))

    # Then the old deadline's reminders are not repeated (no yellow card for it), and the new deadline's come due
    # again in their turn: tomorrow on Friday, today on Monday, overdue on Tuesday
    assert reminder_log()[3:] == [
        (Kind.TASK_DUE_TOMORROW, date(2026, 11, 9)),
        (Kind.TASK_DUE_TODAY, date(2026, 11, 9)),
        (Kind.TASK_OVERDUE, date(2026, 11, 9)),
    ]
    assert [day for _kind, day in written_on()[3:]] == [date(2026, 11, 6), date(2026, 11, 9), date(2026, 11, 10)]
    assert told(Kind.TASK_DUE_TOMORROW) == ["member", "member"]


# A fixed number of queries --------------------------------------------------------------------------------


def overdue_tasks(zone, count: int) -> None:
    """`count` tasks due Tuesday 11-03, on as many cases, for named people, task forces and departments in turn,
    with email for everyone they reach."""
    for user in (zone.member, zone.officer, zone.task_force.lead):
        user.email = f"{user.username}@example.com"
        user.save(update_fields=["email"])
    units = list(UNITS)
    for i in range(count):
        given_task(zone, made=at("2026-11-02"), due_on=date(2026, 11, 3), unit=units[i % len(units)])


@pytest.mark.parametrize(
    ("late_by", "many"),
    # Five working days late, each task calls for three reminders and about four notices. SQLite takes at most
    # 999 parameters a statement (124 notices), so 30 tasks keep every insert to one statement there, as 1000
    # rows do on PostgreSQL: a second batch would be a query per 124 rows, not per item.
    [("overdue", 40), ("red", 30)],
)
def test_a_sweep_takes_the_same_queries_for_5_or_many_due_items(people, late_by, many):
    # Given 5 overdue tasks, then more (one working day late, or five: overdue, yellow and red)
    moment = at("2026-11-04") if late_by == "overdue" else at("2026-11-10")

    def queries_to_sweep() -> tuple[int, reminders.SweepResult]:
        Reminder.objects.all().delete()  # forget what was sent (with its notices and pushes): all is due again
        with CaptureQueriesContext(connection) as queries, frozen(moment):
            result = reminders.sweep()
        return len(queries), result

    overdue_tasks(people, 5)
    queries_for_few, few = queries_to_sweep()
    overdue_tasks(people, many - 5)
    queries_for_many, lots = queries_to_sweep()

    # Then both sweeps wrote what was due, in the same number of queries
    per_task = 1 if late_by == "overdue" else 3
    assert (few.reminders, lots.reminders) == (5 * per_task, many * per_task)
    assert lots.notices > few.notices and lots.pushes > few.pushes > 0
    assert queries_for_many == queries_for_few


def test_a_sweep_takes_the_same_queries_however_many_categories_have_their_own_thresholds(people):
    # Given 6 tasks five working days late, all of the zone's category, which keeps the defaults
    moment = at("2026-11-10")
    tasks = [given_task(people, made=at("2026-11-02"), due_on=date(2026, 11, 3)) for _ in range(6)]

    def queries_to_sweep() -> tuple[int, reminders.SweepResult]:
        Reminder.objects.all().delete()
        with CaptureQueriesContext(connection) as queries, frozen(moment):
            result = reminders.sweep()
        return len(queries), result

    queries_for_one, one = queries_to_sweep()

    # When their cases are moved to six categories, each with thresholds of its own (red after 5 to 10 days)
    for n, task in enumerate(tasks):
        category = CategoryFactory(code=f"own{n}", yellow_after_days=2, red_after_days=5 + n)
        Case.objects.filter(pk=task.case_id).update(category=category)
    queries_for_six, six = queries_to_sweep()

    # Then the sweep follows each category (only the one with red after 5 is red on the fifth day) in as many queries
    assert (one.reminders, six.reminders) == (6 * 3, 6 * 2 + 1)
    assert queries_for_six == queries_for_one


# A paused case (挂起) ------------------------------------------------------------------------------------------


def pause(case: Case | int, moment) -> None:
    """The case waits for information asked of the enterprise from `moment` (as the pausing service leaves it)."""
    Case.objects.filter(pk=getattr(case, "pk", case)).update(clock_paused_at=moment)


def resume(case: Case | int) -> None:
    Case.objects.filter(pk=getattr(case, "pk", case)).update(clock_paused_at=None)


def _task_due_tomorrow(zone) -> tuple[Case, list]:
    task = given_task(zone, made=at("2026-11-02"), due_on=date(2026, 11, 4), unit="named person")
    return task.case, [at("2026-11-03"), at("2026-11-04")]


def _task_long_overdue(zone) -> tuple[Case, list]:
    task = given_task(zone, made=at("2026-11-02"), due_on=date(2026, 11, 3))
    return task.case, [at(day) for day in ("2026-11-04", "2026-11-05", "2026-11-10")]


def _acceptance_late(zone) -> tuple[Case, list]:
    with frozen(at("2026-11-02")):
        case = case_at(zone, CS.SUBMITTED)
    return case, [at("2026-11-04"), at("2026-11-05")]


def _verdict_due(zone) -> tuple[Case, list]:
    with frozen(at("2026-11-02")):
        case = case_at(zone, CS.RESOLVED)  # the verdict is due Monday 11-09
    return case, [at("2026-11-09"), at("2026-11-10")]


def _redo_late(zone) -> tuple[Case, list]:
    with frozen(at("2026-11-02")):
        case = case_at(zone, CS.RESOLVED)
    with frozen(at("2026-11-03")):
        run_case_action(zone, "reopen", case)  # to be taken up by Wednesday 11-04
    return case, [at("2026-11-05"), at("2026-11-06")]


@pytest.mark.parametrize(
    ("given", "kinds"),
    [
        (_task_due_tomorrow, {Kind.TASK_DUE_TOMORROW, Kind.TASK_DUE_TODAY}),
        (_task_long_overdue, {Kind.TASK_OVERDUE, Kind.TASK_YELLOW, Kind.TASK_RED}),
        (_acceptance_late, {Kind.ACCEPT_OVERDUE, Kind.ACCEPT_ESCALATED}),
        (_verdict_due, {Kind.VERDICT_DUE, Kind.CALLBACK_DUE}),
        (_redo_late, {Kind.REDO_OVERDUE, Kind.REDO_ESCALATED}),
    ],
    ids=["task-due", "task-overdue", "acceptance", "verdict", "redo"],
)
def test_a_paused_case_gets_no_reminder_of_any_kind(people, given, kinds):
    # Given a case with a deadline coming or gone, paused before any of them was due
    case, moments = given(people)
    pause(case, at("2026-11-02", 16))

    # When the sweep runs on each day that deadline calls for a reminder
    for moment in moments:
        sweep_at(moment)

    # Then nothing was written, and nobody was told
    assert reminder_log() == []
    assert not Notification.objects.filter(reminder__isnull=False).exists()

    # When the case resumes and the sweep runs again on the last of those days
    resume(case)
    sweep_at(moments[-1] + timedelta(minutes=5))

    # Then the reminders its deadlines call for that day are written (the test could fail)
    assert {kind for kind, _deadline in reminder_log()} & kinds


def test_a_paused_case_does_not_hold_back_the_others(people):
    # Given two cases with a task due Tuesday 11-03, one of them paused
    paused = given_task(people, made=at("2026-11-02"), due_on=date(2026, 11, 3))
    running = given_task(people, made=at("2026-11-02"), due_on=date(2026, 11, 3))
    pause(paused.case_id, at("2026-11-03", 9))
    # When the sweep runs on Thursday
    sweep_at(at("2026-11-05"))
    # Then the other one is overdue and yellow, and the paused one has nothing
    assert set(Reminder.objects.values_list("kind", "task_id")) == {
        (Kind.TASK_OVERDUE, running.pk),
        (Kind.TASK_YELLOW, running.pk),
    }
