"""The working-day calendar (services/calendar.py): chinesecalendar 1.11 knows years up to 2026; later years fall
back to weekdays plus the staff-entered HolidayOverride rows, and say so."""

from datetime import date, timedelta
from unittest import mock

import pytest

from services import calendar
from services import tasks as task_services
from services.calendar import WorkingCalendar
from services.tasks import TaskSpec
from tests.factories import HolidayOverrideFactory
from tests.services.helpers import case_at
from tracker.models import Case

pytestmark = pytest.mark.django_db


def test_a_make_up_saturday_is_a_working_day():
    # Given 2026-10-10, the Saturday worked in exchange for Golden Week (调休)
    # When asked, Then it is a working day, while the next Sunday is not
    assert calendar.is_working_day(date(2026, 10, 10)) is True
    assert calendar.is_working_day(date(2026, 10, 11)) is False


@pytest.mark.parametrize("day", [date(2026, 10, d) for d in range(1, 8)], ids=lambda d: d.isoformat())
def test_golden_week_is_not_worked(day):
    # Given a day of the 2026 National Day holiday, weekday or not
    # When asked, Then it is not a working day
    assert calendar.is_working_day(day) is False


@pytest.mark.parametrize(
    ("days", "expected"),
    [(1, date(2026, 10, 8)), (2, date(2026, 10, 9)), (3, date(2026, 10, 10)), (4, date(2026, 10, 12))],
)
def test_a_deadline_counted_from_the_eve_of_golden_week_skips_it(days, expected):
    # Given 2026-09-30, the last working day before Golden Week (10-01..07 off; 10-08 and 10-09 are working
    # weekdays; 10-10 is a make-up Saturday)
    # When `days` working days are added
    due = calendar.add_working_days(date(2026, 9, 30), days)
    # Then the holiday is skipped and the make-up Saturday counted, from data the library has
    assert (due.date, due.used_fallback) == (expected, False)


def test_zero_days_from_a_holiday_is_the_next_working_day():
    # Given the first day of Golden Week
    # When zero working days are added, Then the answer is the first working day after it
    assert calendar.add_working_days(date(2026, 10, 1), 0).date == date(2026, 10, 8)
    assert WorkingCalendar().next_working_day(date(2026, 10, 9)) == date(2026, 10, 9)


def test_negative_days_are_refused():
    with pytest.raises(ValueError):
        calendar.add_working_days(date(2026, 10, 9), -1)


def test_a_deadline_reaching_an_unknown_year_falls_back_to_weekdays_and_says_so():
    # Given no holidays entered for 2027 (the library knows years up to 2026)
    # When 30 working days are added to 2026-12-15
    due = calendar.add_working_days(date(2026, 12, 15), 30)
    # Then it does not crash: 12 working days are left in 2026, then 18 weekdays of 2027 (01-01 counted as one),
    # and the result says the fallback was used so that staff are warned
    assert due == calendar.DueDate(date(2027, 1, 26), used_fallback=True)


def test_once_staff_enter_next_years_holidays_the_fallback_is_over():
    # Given staff entered 2027-01-01 as a holiday
    HolidayOverrideFactory(date=date(2027, 1, 1), is_working_day=False, note="元旦")
    # When the same deadline is computed
    due = calendar.add_working_days(date(2026, 12, 15), 30)
    # Then New Year's Day is skipped and the date is no longer flagged as provisional
    assert due == calendar.DueDate(date(2027, 1, 27), used_fallback=False)
    assert calendar.is_working_day(date(2027, 1, 1)) is False


def test_an_override_making_a_sunday_a_working_day_is_honoured():
    # Given a plain Sunday in 2026 and a Friday before it
    sunday, friday = date(2026, 6, 7), date(2026, 6, 5)
    assert sunday.weekday() == 6 and calendar.is_working_day(sunday) is False
    assert calendar.add_working_days(friday, 1).date == date(2026, 6, 8)
    # When staff mark that Sunday as a working day
    HolidayOverrideFactory(date=sunday, is_working_day=True, note="调休上班")
    # Then it counts as one, over the library's word
    assert calendar.is_working_day(sunday) is True
    assert calendar.add_working_days(friday, 1) == calendar.DueDate(sunday, used_fallback=False)


def test_an_override_making_a_weekday_a_holiday_is_honoured():
    # Given staff mark a 2026 Monday as a holiday (e.g. a local closure)
    monday = date(2026, 6, 8)
    HolidayOverrideFactory(date=monday, is_working_day=False, note="临时放假")
    # When a deadline is counted across it, Then it is skipped
    assert calendar.add_working_days(date(2026, 6, 5), 1).date == date(2026, 6, 9)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 9, 30), date(2026, 10, 10), 3),  # 10-08, 10-09 and the make-up Saturday
        (date(2026, 10, 10), date(2026, 9, 30), -3),
        (date(2026, 10, 1), date(2026, 10, 7), 0),
        (date(2026, 11, 20), date(2026, 11, 20), 0),
        (date(2026, 11, 20), date(2026, 11, 27), 5),
        (date(2026, 12, 30), date(2027, 1, 5), 4),  # 12-31, then 2027 weekdays 01-01, 01-04, 01-05 by fallback
    ],
)
def test_working_days_between(start, end, expected):
    # Given two dates, When the working days in (start, end] are counted, Then holidays are left out
    assert calendar.working_days_between(start, end) == expected


def test_the_calendar_agrees_with_itself():
    # Given any start in the autumn of 2026 and a count of days
    cal = WorkingCalendar()
    for offset in range(0, 60, 7):
        start = date(2026, 9, 1) + timedelta(days=offset)
        for days in (1, 5, 10):
            # When days are added, Then counting back gives the same number, and the end is a working day
            due = cal.add_working_days(start, days).date
            assert cal.working_days_between(start, due) == days
            assert cal.is_working_day(due)


@pytest.fixture
def accepted_case(zone) -> Case:
    return case_at(zone, Case.Status.ACCEPTED)


def _decompose_on(zone, case, today: date, **spec):
    with mock.patch("django.utils.timezone.localdate", return_value=today):
        (task,) = task_services.decompose_case(
            actor=zone.concierge, case=case, tasks=[TaskSpec(title="落实用地指标", task_force=zone.task_force, **spec)]
        )
    return task


def test_a_task_due_in_an_unknown_year_is_marked_provisional(zone, accepted_case):
    # Given it is 2026-12-28 and no holidays have been entered for 2027
    today = date(2026, 12, 28)
    # When the concierge gives a task without a due date (10 working days)
    task = _decompose_on(zone, accepted_case, today)
    # Then it is due in January 2027 and flagged for checking once the holidays are published
    assert task.due_on == calendar.add_working_days(today, zone.category.task_days).date
    assert task.due_on.year == 2027
    assert task.due_is_provisional is True


def test_a_task_due_in_a_year_staff_have_entered_is_not_provisional(zone, accepted_case):
    # Given it is 2026-12-28 and staff entered New Year's Day 2027
    HolidayOverrideFactory(date=date(2027, 1, 1), is_working_day=False)
    # When the concierge gives a task without a due date
    task = _decompose_on(zone, accepted_case, date(2026, 12, 28))
    # Then its deadline skips New Year's Day and is firm
    assert task.due_on == date(2027, 1, 12)
    assert task.due_is_provisional is False


def test_an_explicit_due_date_in_an_unknown_year_is_taken_as_given(zone, accepted_case):
    # Given it is 2026-12-28
    # When the concierge sets the due date themselves
    task = _decompose_on(zone, accepted_case, date(2026, 12, 28), due_on=date(2027, 1, 20))
    # Then it is kept and not flagged
    assert (task.due_on, task.due_is_provisional) == (date(2027, 1, 20), False)
