"""The administrators' writes to the holiday schedule: confirming a year's notice, after which its deadlines are
firm and every open deadline touching it is counted again (`services.time.reschedule`)."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from services.errors import InvalidInput, NotPermitted
from services.roles import Role, has_role
from services.time import reschedule
from services.time.calendar import year_problems
from services.validation import FieldErrors
from tracker.models import HolidayYear


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
            transaction.on_commit(lambda: reschedule.queue(year))
    except IntegrityError:  # another administrator confirmed it a moment ago
        raise InvalidInput.field("year", gettext("%(year)d 年的节假日安排已经确认过") % {"year": year}) from None
    return confirmed
