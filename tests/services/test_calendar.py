"""The working-day calendar (services/time/calendar.py): chinesecalendar 1.11 knows years up to 2026; a later year
counts its statutory holidays (computed) and weekends as rest days, with the staff-entered HolidayOverride rows winning,
and says its deadlines are provisional until an administrator marks the year complete (HolidayYear)."""

from datetime import date, timedelta
from unittest import mock

import chinese_calendar
import pytest
from django.urls import reverse
from django.utils import timezone

from services.cases import tasks as task_services
from services.cases.tasks import TaskSpec
from services.errors import InvalidInput, NotPermitted
from services.time import calendar, holidays
from services.time.calendar import WorkingCalendar
from tests.factories import HolidayOverrideFactory, case_at, task_at
from tracker.models import Case, HolidayOverride, HolidayYear, Task

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


def test_a_deadline_reaching_an_unknown_year_skips_its_statutory_holidays_and_says_so():
    # Given no holidays entered for 2027 (the library knows years up to 2026)
    # When 30 working days are added to 2026-12-15
    due = calendar.add_working_days(date(2026, 12, 15), 30)
    # Then 12 working days are left in 2026, then 18 of 2027 — New Year's Day (a Friday) skipped as the law says —
    # and the result says it is provisional, so that staff are warned
    assert due == calendar.DueDate(date(2027, 1, 27), used_fallback=True)


def test_a_twenty_day_task_dispatched_this_week_is_not_due_on_new_years_day():
    due = calendar.add_working_days(date(2026, 12, 4), 20)
    assert due == calendar.DueDate(date(2027, 1, 4), used_fallback=True)


STATUTORY_2027 = {
    date(2027, 1, 1): "元旦",
    date(2027, 2, 5): "春节",  # 除夕
    date(2027, 2, 6): "春节",  # 正月初一
    date(2027, 2, 7): "春节",
    date(2027, 2, 8): "春节",  # 初三
    date(2027, 4, 5): "清明节",
    date(2027, 5, 1): "劳动节",
    date(2027, 5, 2): "劳动节",
    date(2027, 6, 9): "端午节",
    date(2027, 9, 15): "中秋节",
    date(2027, 10, 1): "国庆节",
    date(2027, 10, 2): "国庆节",
    date(2027, 10, 3): "国庆节",
}


def test_the_statutory_holidays_of_2027_from_the_law():
    assert {day: str(name) for day, name in calendar.statutory_holidays(2027).items()} == STATUTORY_2027


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        # the library's years, where the notices carry the same statutory days (除夕 and 5-02 from 2025)
        (2025, {date(2025, 1, 28), date(2025, 4, 4), date(2025, 5, 31), date(2025, 10, 6)}),
        (2026, {date(2026, 2, 16), date(2026, 4, 5), date(2026, 6, 19), date(2026, 9, 25)}),
        (2028, {date(2028, 1, 25), date(2028, 4, 4), date(2028, 5, 28), date(2028, 10, 3)}),
    ],
)
def test_the_movable_feasts(year, expected):
    assert expected <= set(calendar.statutory_holidays(year))


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_statutory_day_is_a_rest_day_in_the_librarys_years(year):
    assert not any(chinese_calendar.is_workday(day) for day in calendar.statutory_holidays(year))


@pytest.mark.parametrize("day", sorted(STATUTORY_2027), ids=lambda d: d.isoformat())
def test_each_statutory_day_of_2027_is_a_provisional_rest_day(day):
    assert WorkingCalendar().check(day) == (False, True)


def test_one_override_does_not_make_a_year_known():
    # Given an administrator entered 2027-01-01 only
    HolidayOverrideFactory(date=date(2027, 1, 1), is_working_day=False, note="元旦")
    # When a deadline runs across Spring Festival 2027 (除夕 02-05 to 初三 02-08)
    due = calendar.add_working_days(date(2027, 2, 1), 5)
    # Then the festival is skipped, and the deadline is still provisional: the notice's bridging days are unknown
    assert due == calendar.DueDate(date(2027, 2, 10), used_fallback=True)


def test_once_an_administrator_marks_the_year_complete_the_fallback_is_over(zone):
    # Given the notice entered: a bridging day off and a make-up Saturday, and the year marked complete
    HolidayOverrideFactory(date=date(2027, 2, 9), is_working_day=False, note="春节")
    HolidayOverrideFactory(date=date(2027, 2, 20), is_working_day=True, note="春节调休上班")
    HolidayYear.objects.create(year=2027, completed_by=zone.admin, completed_at=timezone.now())
    # When deadlines are computed across it
    # Then the entered days count, and nothing is provisional any more
    assert calendar.add_working_days(date(2027, 2, 1), 5) == calendar.DueDate(date(2027, 2, 11), used_fallback=False)
    assert calendar.add_working_days(date(2026, 12, 15), 30) == calendar.DueDate(date(2027, 1, 27), False)
    assert calendar.is_working_day(date(2027, 2, 20)) is True
    assert WorkingCalendar.load().year_is_known(2027) and not WorkingCalendar.load().year_is_known(2028)


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
        (date(2026, 12, 30), date(2027, 1, 5), 3),  # 12-31, then 01-04 and 01-05 (01-01 is a holiday by law)
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
    # Given it is 2026-12-28 and an administrator entered 2027's schedule and marked it complete
    HolidayYear.objects.create(year=2027, completed_by=zone.admin, completed_at=timezone.now())
    # When the concierge gives a task without a due date
    task = _decompose_on(zone, accepted_case, date(2026, 12, 28))
    # Then its deadline skips New Year's Day and is firm
    assert task.due_on == date(2027, 1, 12)
    assert task.due_is_provisional is False


def test_an_explicit_due_date_in_an_unknown_year_is_kept_and_flagged(zone, accepted_case):
    # Given it is 2026-12-28
    # When the concierge sets the due date themselves, a Wednesday of 2027
    task = _decompose_on(zone, accepted_case, date(2026, 12, 28), due_on=date(2027, 1, 20))
    # Then it is kept, and flagged: the year's notice may yet make it a rest day
    assert (task.due_on, task.due_is_provisional) == (date(2027, 1, 20), True)


@pytest.mark.parametrize(
    ("typed", "moved"),
    [
        (date(2026, 10, 3), date(2026, 10, 8)),  # Golden Week: the first working day after it
        (date(2026, 11, 21), date(2026, 11, 23)),  # a Saturday: the Monday
        (date(2026, 10, 10), date(2026, 10, 10)),  # a make-up Saturday is a working day: kept
        (date(2027, 1, 1), date(2027, 1, 4)),  # New Year's Day 2027, by law
    ],
)
def test_a_due_date_typed_on_a_rest_day_runs_to_the_next_working_day(zone, accepted_case, typed, moved):
    task = _decompose_on(zone, accepted_case, date(2026, 9, 28), due_on=typed)
    assert task.due_on == moved


def test_a_redispatch_and_an_extension_on_a_rest_day_are_moved_too(zone):
    returned = task_at(zone, Task.Status.RETURNED)
    with mock.patch("django.utils.timezone.localdate", return_value=date(2026, 9, 28)):
        task_services.redispatch_task(
            actor=zone.concierge, task=returned, department=zone.department, due_on=date(2026, 10, 4)
        )
    assert Task.objects.get(pk=returned.pk).due_on == date(2026, 10, 8)
    working = task_at(zone, Task.Status.IN_PROGRESS)
    with mock.patch("django.utils.timezone.localdate", return_value=date(2026, 9, 28)):
        Task.objects.filter(pk=working.pk).update(due_on=date(2026, 9, 30))
        extension = task_services.request_extension(
            actor=zone.member, task=working, requested_due_on=date(2026, 10, 5), reason="等待批复"
        )
    assert extension.requested_due_on == date(2026, 10, 8)


def test_an_administrator_confirms_a_year_and_its_deadlines_become_firm(zone):
    assert calendar.add_working_days(date(2027, 2, 1), 5).used_fallback is True
    confirmed = holidays.mark_year_complete(actor=zone.admin, year=2027, note="国办发明电〔2026〕X号")
    assert (confirmed.year, confirmed.completed_by) == (2027, zone.admin)
    assert calendar.add_working_days(date(2027, 2, 1), 5).used_fallback is False


def test_a_statutory_holiday_entered_as_a_working_day_is_refused(zone):
    HolidayOverrideFactory(date=date(2027, 2, 6), is_working_day=True, note="误录")
    with pytest.raises(InvalidInput) as refused:
        holidays.mark_year_complete(actor=zone.admin, year=2027)
    assert "2027-02-06 是法定节假日（春节）" in refused.value.fields["year"][0]
    assert not HolidayYear.objects.exists()


def test_a_make_up_day_on_a_weekday_is_refused(zone):
    HolidayOverrideFactory(date=date(2027, 2, 10), is_working_day=True, note="调休上班")  # a Wednesday
    with pytest.raises(InvalidInput) as refused:
        holidays.mark_year_complete(actor=zone.admin, year=2027)
    assert "2027-02-10 是工作日" in refused.value.fields["year"][0]


@pytest.mark.parametrize("year", [2020, 2099, "2027", None, True])
def test_a_year_out_of_range_or_not_a_number_is_refused(zone, year):
    with pytest.raises(InvalidInput) as refused:
        holidays.mark_year_complete(actor=zone.admin, year=year)
    assert list(refused.value.fields) == ["year"]


def test_a_year_is_confirmed_once_and_only_by_an_administrator(zone):
    with pytest.raises(NotPermitted):
        holidays.mark_year_complete(actor=zone.leader, year=2027)
    holidays.mark_year_complete(actor=zone.admin, year=2027)
    with pytest.raises(InvalidInput):
        holidays.mark_year_complete(actor=zone.admin, year=2027)


def test_the_workbench_confirms_a_year_and_shows_the_problems(zone, client):
    client.force_login(zone.admin)
    HolidayOverrideFactory(date=date(2027, 10, 1), is_working_day=True, note="误录")
    page = client.post(reverse("admin:tracker_holidayyear_add"), {"year": "2027", "note": ""})
    assert page.status_code == 200 and "2027-10-01 是法定节假日（国庆节）" in page.content.decode()
    assert not HolidayYear.objects.exists()
    HolidayOverride.objects.filter(date=date(2027, 10, 1)).delete()
    done = client.post(reverse("admin:tracker_holidayyear_add"), {"year": "2027", "note": "国办通知"})
    assert done.status_code == 302
    assert HolidayYear.objects.get().completed_by == zone.admin
