"""The working-day calendar (工作日): Chinese public holidays and make-up working weekends (调休).

Built on `chinesecalendar` plus the staff-editable `HolidayOverride` table, which wins where both speak.
The library lags: next year's holidays are published each November. For a year it does not know, days are
weekdays plus overrides, and the result says so (`used_fallback`) so staff can be warned to enter the
new year's holidays. Once any override exists for such a year, staff are taken to have entered it.
"""

import logging
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar

from tracker.models import HolidayOverride

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DueDate:
    date: date
    used_fallback: bool


class WorkingCalendar:
    """A calendar with a fixed set of overrides, for computing many dates without a query each."""

    def __init__(self, overrides: dict[date, bool] | None = None):
        self.overrides = overrides or {}
        self._override_years = {day.year for day in self.overrides}
        self._unknown_years: set[int] = set()

    @classmethod
    def load(cls, since: date | None = None) -> "WorkingCalendar":
        """Load the overrides from `since` on (all of them when None): one query."""
        rows = HolidayOverride.objects.all()
        if since is not None:
            rows = rows.filter(date__gte=date(since.year, 1, 1))
        return cls(dict(rows.values_list("date", "is_working_day")))

    def _library_says(self, day: date) -> bool | None:
        if day.year in self._unknown_years:
            return None
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            self._unknown_years.add(day.year)
            logger.warning("chinesecalendar has no data for %s; using weekdays plus overrides", day.year)
            return None

    def check(self, day: date) -> tuple[bool, bool]:
        """(is it a working day, was the fallback used to say so)."""
        if day in self.overrides:
            return self.overrides[day], False
        library = self._library_says(day)
        if library is not None:
            return library, False
        return day.weekday() < 5, day.year not in self._override_years

    def is_working_day(self, day: date) -> bool:
        return self.check(day)[0]

    def add_working_days(self, start: date, days: int) -> DueDate:
        """The date `days` working days after `start` (start itself not counted); days >= 0.

        Zero days gives `start` if it is a working day, else the next working day.
        """
        if days < 0:
            raise ValueError("days must be >= 0")
        used_fallback = False
        day = start
        if days == 0:
            working, fallback = self.check(day)
            used_fallback |= fallback
            while not working:
                day += timedelta(days=1)
                working, fallback = self.check(day)
                used_fallback |= fallback
            return DueDate(day, used_fallback)
        remaining = days
        while remaining:
            day += timedelta(days=1)
            working, fallback = self.check(day)
            used_fallback |= fallback
            if working:
                remaining -= 1
        return DueDate(day, used_fallback)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def next_working_day(self, day: date) -> date:
        """`day` itself if it is a working day, else the first working day after it."""
        return self.add_working_days(day, 0).date


def is_working_day(day: date) -> bool:
    return WorkingCalendar.load(since=day).is_working_day(day)


def add_working_days(start: date, days: int) -> DueDate:
    return WorkingCalendar.load(since=start).add_working_days(start, days)


def working_days_between(start: date, end: date) -> int:
    return WorkingCalendar.load(since=min(start, end)).working_days_between(start, end)
