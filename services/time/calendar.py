"""The working-day calendar (工作日): Chinese public holidays and make-up working weekends (调休).

Three sources; the first that knows a day decides it:

1. `HolidayOverride` rows, entered by administrators (a year's notice as it is published, or a one-off change);
2. `chinesecalendar`, which carries each year's State Council notice once it is released (it lags: the notice
   comes each November or December);
3. for a year neither knows, the law: the statutory holidays of 《全国年节及纪念日放假办法》 (as amended in 2024, in
   force from 2025) — 元旦 1 Jan, 春节 除夕 to 正月初三, 清明 (the solar term), 劳动节 1–2 May, 端午 (lunar 5/5), 中秋
   (lunar 8/15), 国庆 1–3 Oct — and the weekends are rest days (`statutory_holidays`, lunar dates and 清明 from
   `lunar_python`). Only the bridging days and the make-up Saturdays wait for the year's notice.

A day decided by the third source is provisional until an administrator marks its year complete (`HolidayYear`):
a deadline that counts across such a day says so (`used_fallback`), and staff are warned.
"""

import functools
import logging
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from lunar_python import Lunar

from tracker.models import HolidayOverride, HolidayYear

logger = logging.getLogger(__name__)


@functools.cache
def statutory_holidays(year: int) -> dict[date, str]:
    """The days off fixed by law in `year` (13 since 2025), each with its festival's name."""
    days = {date(year, 1, 1): _("元旦"), date(year, 5, 1): _("劳动节"), date(year, 5, 2): _("劳动节")}
    new_year = Lunar.fromYmd(year, 1, 1)
    for offset in range(-1, 3):  # 除夕 to 初三
        solar = new_year.next(offset).getSolar()
        days[date(solar.getYear(), solar.getMonth(), solar.getDay())] = _("春节")
    qingming = Lunar.fromYmd(year, 3, 1).getJieQiTable()["清明"]
    days[date(qingming.getYear(), qingming.getMonth(), qingming.getDay())] = _("清明节")
    for month, day, name in ((5, 5, _("端午节")), (8, 15, _("中秋节"))):
        solar = Lunar.fromYmd(year, month, day).getSolar()
        days[date(solar.getYear(), solar.getMonth(), solar.getDay())] = name
    for day in (1, 2, 3):
        days[date(year, 10, day)] = _("国庆节")
    return {day: name for day, name in sorted(days.items()) if day.year == year}


@dataclass(frozen=True)
class DueDate:
    date: date
    used_fallback: bool


class WorkingCalendar:
    """A calendar with a fixed set of overrides and completed years, for computing many dates without a query
    each."""

    def __init__(self, overrides: dict[date, bool] | None = None, complete_years: set[int] | None = None):
        self.overrides = overrides or {}
        self.complete_years = complete_years or set()
        self._unknown_years: set[int] = set()

    @classmethod
    def load(cls, since: date | None = None) -> "WorkingCalendar":
        """Load the overrides and the completed years from `since` on (all of them when None): two queries."""
        rows, years = HolidayOverride.objects.all(), HolidayYear.objects.all()
        if since is not None:
            rows, years = rows.filter(date__gte=date(since.year, 1, 1)), years.filter(year__gte=since.year)
        return cls(dict(rows.values_list("date", "is_working_day")), set(years.values_list("year", flat=True)))

    def _library_says(self, day: date) -> bool | None:
        if day.year in self._unknown_years:
            return None
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            self._unknown_years.add(day.year)
            logger.info("chinesecalendar has no data for %s; using the statutory holidays and weekends", day.year)
            return None

    def check(self, day: date) -> tuple[bool, bool]:
        """(is it a working day, is that provisional: decided by the law alone, in a year not yet complete)."""
        if day in self.overrides:
            return self.overrides[day], False
        library = self._library_says(day)
        if library is not None:
            return library, False
        working = day.weekday() < 5 and day not in statutory_holidays(day.year)
        return working, day.year not in self.complete_years

    def year_is_known(self, year: int) -> bool:
        """Whether `year`'s schedule is known in full: in the library, or marked complete by an administrator."""
        return year in self.complete_years or self._library_says(date(year, 1, 1)) is not None

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


# A year's schedule -----------------------------------------------------------------------------------------------


def year_problems(year: int, calendar: WorkingCalendar | None = None) -> list[str]:
    """What is wrong with `year`'s entered schedule, in words an administrator can act on: a statutory holiday
    marked as a working day, a make-up working day that is not a weekend."""
    calendar = calendar or WorkingCalendar.load(since=date(year, 1, 1))
    problems = []
    for day, name in statutory_holidays(year).items():
        if calendar.overrides.get(day) is True:
            problems.append(
                gettext("%(day)s 是法定节假日（%(name)s），不能设为调休上班") % {"day": day.isoformat(), "name": name}
            )
    for day, working in sorted(calendar.overrides.items()):
        if day.year == year and working and day.weekday() < 5:
            problems.append(gettext("%(day)s 是工作日，无需设为调休上班") % {"day": day.isoformat()})
    return problems


def unconfirmed_next_year(today: date) -> int | None:
    """From 1 November, next year while its schedule is not known (neither in the library nor confirmed by an
    administrator): the workbench then reminds administrators and leaders to enter it."""
    if today.month < 11:
        return None
    year = today.year + 1
    calendar = WorkingCalendar(complete_years=set(HolidayYear.objects.filter(year=year).values_list("year", flat=True)))
    return None if calendar.year_is_known(year) else year


# chinesecalendar's names of the festivals (its `Holiday` values), as the law names them.
_LIBRARY_FESTIVALS = {
    "New Year's Day": _("元旦"),
    "Spring Festival": _("春节"),
    "Tomb-sweeping Day": _("清明节"),
    "Labour Day": _("劳动节"),
    "Dragon Boat Festival": _("端午节"),
    "Mid-autumn Festival": _("中秋节"),
    "National Day": _("国庆节"),
}


def rest_days_ahead(today: date, until: date) -> dict[date, tuple[date, str, bool]]:
    """Every rest day from `today` to `until`, with the working day a deadline falling on it moves to (民法典
    第二百零三条), why it is a rest day (the entered override's note, the festival, or 周六/周日; "" when none of
    these says) and whether that move is provisional — for a form to say so before it is saved. Three queries."""
    days = WorkingCalendar.load(since=today)
    notes = dict(
        HolidayOverride.objects.filter(date__range=(today, until), is_working_day=False)
        .exclude(note="")
        .values_list("date", "note")
    )
    weekend = {5: gettext("周六"), 6: gettext("周日")}
    moves = {}
    day = today
    while day <= until:
        if not days.is_working_day(day):
            due = days.add_working_days(day, 0)
            festival = statutory_holidays(day.year).get(day)
            if festival is None and days._library_says(day) is not None:
                festival = _LIBRARY_FESTIVALS.get(chinese_calendar.get_holiday_detail(day)[1])
            reason = notes.get(day) or (str(festival) if festival else weekend.get(day.weekday(), ""))
            moves[day] = (due.date, reason, due.used_fallback)
        day += timedelta(days=1)
    return moves


@dataclass(frozen=True)
class ScheduleDay:
    day: date
    is_working_day: bool
    label: str  # the festival, or the override's note
    statutory: bool


def year_schedule(year: int) -> list[ScheduleDay]:
    """What differs from an ordinary week in `year`, as the calendar counts it now: the statutory holidays and the
    entered rest days and make-up working days, by date — for an administrator's last look before confirming."""
    calendar = WorkingCalendar.load(since=date(year, 1, 1))
    statutory = statutory_holidays(year)
    days = {day: ScheduleDay(day, calendar.is_working_day(day), str(name), True) for day, name in statutory.items()}
    entered = HolidayOverride.objects.filter(date__year=year).values_list("date", "is_working_day", "note")
    for day, working, note in entered:
        days[day] = ScheduleDay(day, working, note or str(statutory.get(day, "")), day in statutory)
    return [days[day] for day in sorted(days)]
