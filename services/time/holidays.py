"""The administrators' writes to the holiday schedule: entering a day of the State Council's notice (节假日调整),
confirming a year's notice, after which its deadlines are firm and every open deadline touching it is counted again
(`services.time.reschedule`), and reopening a year. Each is recorded in the audit log (`services.audit`)."""

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from services.audit import delete_audited, record, save_audited
from services.errors import InvalidInput, NotFound, NotPermitted
from services.roles import Role, has_role
from services.time import reschedule
from services.time.calendar import year_problems
from services.validation import FieldErrors
from tracker.models import AuditEntry, HolidayOverride, HolidayYear, User


def check_year_complete(*, year, note: str = "") -> tuple[int, str]:
    """Check that `year` may be marked complete (for forms that show errors before saving); InvalidInput names
    each problem: the year out of range or already confirmed, or entered days that contradict the law."""
    errors = FieldErrors()
    note = errors.text("note", note, required=False, max_length=HolidayYear._meta.get_field("note").max_length)
    this_year = timezone.localdate().year
    if not isinstance(year, int) or isinstance(year, bool) or not this_year - 1 <= year <= this_year + 2:
        bounds = {"first": this_year - 1, "last": this_year + 2}
        errors.add("year", gettext("请填写 %(first)d 至 %(last)d 之间的年份") % bounds)
    elif HolidayYear.objects.filter(year=year).exists():
        errors.add("year", gettext("%(year)d 年的节假日安排已经确认过") % {"year": year})
    else:
        for problem in year_problems(year):
            errors.add("year", problem)
    errors.raise_if_any()
    return year, note


def _require_administrator(actor: User) -> None:
    if not has_role(actor, Role.ADMINISTRATOR):
        raise NotPermitted(gettext("只有系统管理员可以修改节假日安排"))


def save_holiday_override(
    *, actor: User, override: HolidayOverride | int | None, values: Mapping[str, Any]
) -> HolidayOverride:
    """An administrator enters a day of a holiday notice (`override` None) or corrects one: its date, whether it is
    a make-up working day, its note. Recorded in the audit log; InvalidInput names each bad field (a date entered
    twice, a note too long)."""
    _require_administrator(actor)
    return save_audited(actor=actor, model=HolidayOverride, obj=override, values=values)


def delete_holiday_override(*, actor: User, override: HolidayOverride | int) -> None:
    """An administrator removes an entered day; the log keeps what it said."""
    _require_administrator(actor)
    delete_audited(actor=actor, model=HolidayOverride, obj=override, fields=["date", "is_working_day", "note"])


def reopen_year(*, actor: User, year: HolidayYear | int) -> None:
    """An administrator withdraws a year's confirmation (`year` the confirmation or its id): its deadlines are
    provisional again until it is confirmed anew. Recorded in the audit log."""
    _require_administrator(actor)
    pk = year.pk if isinstance(year, HolidayYear) else year
    if not HolidayYear.objects.filter(pk=pk).exists():
        raise NotFound()
    delete_audited(actor=actor, model=HolidayYear, obj=pk, fields=["year", "note", "completed_by", "completed_at"])


def mark_year_complete(*, actor, year, note: str = "") -> HolidayYear:
    """An administrator confirms that `year`'s notice is entered in full (its holidays and make-up working days in
    `HolidayOverride`): from now on its deadlines are firm. Refused, naming each problem (`check_year_complete`).
    Once it commits, a worker counts every open deadline that touches the year again (`services.time.reschedule`)."""
    if not has_role(actor, Role.ADMINISTRATOR):
        raise NotPermitted(gettext("只有系统管理员可以确认年度节假日安排"))
    year, note = check_year_complete(year=year, note=note)
    try:
        with transaction.atomic():
            confirmed = HolidayYear.objects.create(
                year=year, note=note, completed_by=actor, completed_at=timezone.now()
            )
            lines = {"year": ["", year], "note": ["", note]} if note else {"year": ["", year]}
            record(actor=actor, obj=confirmed, action=AuditEntry.Action.CREATED, changes=lines)
            transaction.on_commit(lambda: reschedule.queue(year))
    except IntegrityError:  # another administrator confirmed it a moment ago
        raise InvalidInput.field("year", gettext("%(year)d 年的节假日安排已经确认过") % {"year": year}) from None
    return confirmed
