"""The leaders' dashboard (数据看板): figures over the cases, tasks, enterprises and projects a user may see.

Every figure starts from the selectors, so an enterprise user gets only its own enterprise's numbers and an
anonymous or inactive user gets zeros. The conditions behind the clickable figures are exported, so that the
admin's filtered lists and the numbers on the dashboard always agree. The result is plain JSON-serialisable
data (dates as ISO strings), for the admin page and the API alike.

Local dates are taken in the zone's time zone (settings.TIME_ZONE), whatever time zone a request activated.
"""

from datetime import date, datetime, time, timedelta
from itertools import accumulate

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce, TruncDate
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from services.cases.clocks import long_pauses_q
from services.selectors import cases_visible_to, enterprises_visible_to, projects_visible_to, tasks_visible_to
from services.states import OPEN_CASE_STATES
from services.time.calendar import WorkingCalendar
from services.time.deadlines import overdue_cases_q, overdue_tasks_q
from tracker.models import Case, Category, Enterprise, Feedback, Task, User, Visit

CS = Case.Status
Rating = Feedback.Rating

# Cases someone still has to act on: the open states plus resolved (awaiting the enterprise's verdict).
ACTIVE_CASE_STATES = OPEN_CASE_STATES | {CS.RESOLVED}
# 非常满意, 满意 and 基本满意 count as satisfied.
SATISFIED_RATINGS = (Rating.VERY_SATISFIED, Rating.SATISFIED, Rating.FAIRLY_SATISFIED)
# An enterprise counts as contacted when it submitted a case or was visited in this many days back from today.
CONTACT_WINDOW_DAYS = 90


def local_date(field: str) -> TruncDate:
    """The date of the datetime column `field` in the zone's time zone, on SQLite and PostgreSQL alike."""
    return TruncDate(field, tzinfo=timezone.get_default_timezone())


def task_department_expression() -> Coalesce:
    """The department answerable for a task: its own department if set, else its task force's lead department.

    Usable in `annotate`/`alias` and then in filters, e.g. `tasks.alias(d=task_department_expression())
    .filter(d=department.pk)`.
    """
    return Coalesce("department_id", "task_force__lead_department_id")


def tasks_completed_on_time_q() -> Q:
    """Done tasks whose completion (local date) is on or before their due date."""
    return Q(LessThanOrEqual(local_date("completed_at"), F("due_on")), status=Task.Status.DONE)


def contact_since(today: date) -> date:
    """The first day of the contact window: a rolling 90 days back from `today` (both ends included).

    Rolling rather than calendar quarters, so the figure does not drop to "everyone uncontacted" on the first
    day of each quarter.
    """
    return today - timedelta(days=CONTACT_WINDOW_DAYS)


def enterprises_without_contact(enterprises: QuerySet[Enterprise], since: date) -> QuerySet[Enterprise]:
    """The key enterprises among `enterprises` that have submitted no case and had no visit since `since`.

    Any case of the enterprise counts (declined and withdrawn ones too): it is contact all the same.
    """
    start = timezone.make_aware(datetime.combine(since, time.min), timezone.get_default_timezone())
    recent_case = Case.objects.filter(enterprise=OuterRef("pk"), submitted_at__gte=start)
    recent_visit = Visit.objects.filter(enterprise=OuterRef("pk"), visited_on__gte=since)
    return enterprises.filter(is_key=True).exclude(Exists(recent_case)).exclude(Exists(recent_visit))


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _working_day_index(calendar: WorkingCalendar, first: date, last: date) -> list[int]:
    """index[i] = working days in (first, first + i days]; so working days in (a, b] = index[b] - index[a]."""
    days = (last - first).days
    working = (int(calendar.is_working_day(first + timedelta(days=i))) for i in range(1, days + 1))
    return list(accumulate(working, initial=0))


def _average_working_days(pairs: list[tuple[date, date, int]], calendar: WorkingCalendar) -> float | None:
    """The mean of working_days_between(start, end) over (start, end, how many cases) rows.

    One pass over the date span instead of one calendar walk per case: 17k cases over a few years cost a few
    thousand day look-ups.
    """
    pairs = [(start, end, n) for start, end, n in pairs if start is not None and end is not None]
    cases = sum(n for _, _, n in pairs)
    if not cases:
        return None
    first = min(min(start, end) for start, end, _ in pairs)
    last = max(max(start, end) for start, end, _ in pairs)
    index = _working_day_index(calendar, first, last)
    total = sum((index[(end - first).days] - index[(start - first).days]) * n for start, end, n in pairs)
    return round(total / cases, 1)


def _case_figures(cases: QuerySet[Case], today: date, calendar: WorkingCalendar) -> dict:
    counts = cases.order_by().aggregate(
        overdue=Count("pk", filter=overdue_cases_q(today)),
        paused=Count("pk", filter=Q(clock_paused_at__isnull=False)),
        long_paused=Count("pk", filter=long_pauses_q(today, calendar)),
        **{f"status_{status}": Count("pk", filter=Q(status=status)) for status in CS.values},
    )
    per_category = {
        row["category_id"]: row
        for row in cases.order_by()
        .values("category_id")
        .annotate(count=Count("pk"), open=Count("pk", filter=Q(status__in=ACTIVE_CASE_STATES)))
    }
    categories = Category.objects.filter(is_active=True).order_by("sort_order", "name").values_list("pk", "name")
    pairs = (
        cases.filter(status=CS.CLOSED)
        .order_by()
        .annotate(submitted_on=local_date("submitted_at"), closed_on=local_date("closed_at"))
        .values_list("submitted_on", "closed_on")
        .annotate(n=Count("pk"))
    )
    return {
        "cases_by_status": [
            {"status": status.value, "label": str(status.label), "count": counts[f"status_{status}"]} for status in CS
        ],
        "cases_by_category": [
            {
                "category_id": pk,
                "name": name,
                "count": per_category.get(pk, {}).get("count", 0),
                "open": per_category.get(pk, {}).get("open", 0),
            }
            for pk, name in categories
        ],
        "overdue_cases": counts["overdue"],
        "paused_cases": {"all": counts["paused"], "long": counts["long_paused"]},
        "time_to_close": {
            "closed": counts[f"status_{CS.CLOSED}"],
            "average_working_days": _average_working_days(list(pairs), calendar),
        },
    }


def _task_figures(tasks: QuerySet[Task], today: date) -> dict:
    overdue = (
        tasks.filter(overdue_tasks_q(today))
        .annotate(
            unit_department_id=task_department_expression(),
            unit_department_name=Coalesce("department__name", "task_force__lead_department__name"),
        )
        .values("unit_department_id", "unit_department_name")
        .annotate(count=Count("pk"))
        .order_by("-count", "unit_department_name", "unit_department_id")
    )
    done = tasks.order_by().aggregate(
        completed=Count("pk", filter=Q(status=Task.Status.DONE)),
        on_time=Count("pk", filter=tasks_completed_on_time_q()),
    )
    return {
        "overdue_tasks_by_department": [
            {"department_id": row["unit_department_id"], "name": row["unit_department_name"], "count": row["count"]}
            for row in overdue
        ],
        "on_time": {**done, "rate": _rate(done["on_time"], done["completed"])},
    }


def _satisfaction(cases: QuerySet[Case]) -> dict:
    """The enterprise's own verdicts and callbacks after its verdict window; early callbacks (提前回访, given
    by phone while the enterprise could still answer itself) counted apart, never in the rate."""
    counted, early = Q(early=False), Q(early=True)
    counts = (
        Feedback.objects.filter(case__in=cases.values("pk"))
        .order_by()
        .aggregate(
            verdicts=Count("pk", filter=counted),
            satisfied=Count("pk", filter=counted & Q(rating__in=SATISFIED_RATINGS)),
            early_verdicts=Count("pk", filter=early),
            early_satisfied=Count("pk", filter=early & Q(rating__in=SATISFIED_RATINGS)),
            **{f"rating_{rating}": Count("pk", filter=counted & Q(rating=rating)) for rating in Rating.values},
        )
    )
    return {
        "verdicts": counts["verdicts"],
        "satisfied": counts["satisfied"],
        "rate": _rate(counts["satisfied"], counts["verdicts"]),
        "by_rating": [
            {"rating": rating.value, "label": str(rating.label), "count": counts[f"rating_{rating.value}"]}
            for rating in sorted(Rating, reverse=True)
        ],
        "early_callbacks": {"verdicts": counts["early_verdicts"], "satisfied": counts["early_satisfied"]},
    }


def _coverage(user: User, today: date) -> dict:
    enterprises = enterprises_visible_to(user).order_by()
    since = contact_since(today)
    return {
        "key_enterprises_without_concierge": enterprises.filter(is_key=True, concierge__isnull=True).count(),
        "projects_without_concierge": projects_visible_to(user).filter(concierge__isnull=True).count(),
        "enterprises_without_contact": enterprises_without_contact(enterprises, since).count(),
        "since": since.isoformat(),
    }


def dashboard(*, user: User, today: date | None = None, calendar: WorkingCalendar | None = None) -> dict:
    """The dashboard figures over what `user` may see, as of `today` (default: the zone's today).

    Read-only; a constant number of queries whatever the number of cases, departments or categories.
    Keys: cases_by_status, cases_by_category, overdue_tasks_by_department, overdue_cases, on_time,
    time_to_close (working days from the local date submitted to the local date closed, as
    `services.time.calendar.working_days_between` counts them), satisfaction (the enterprise's verdicts and the
    callbacks after its verdict window; satisfied = rated 5, 4 or 3; early callbacks apart in `early_callbacks`)
    and coverage.
    """
    today = today or timezone.localdate()
    cases = cases_visible_to(user)
    # One calendar for every count of working days (its overrides are a few dozen rows a year).
    case_figures = _case_figures(cases, today, calendar or WorkingCalendar.load())
    task_figures = _task_figures(tasks_visible_to(user), today)
    return {
        "today": today.isoformat(),
        "cases_by_status": case_figures["cases_by_status"],
        "cases_by_category": case_figures["cases_by_category"],
        "overdue_tasks_by_department": task_figures["overdue_tasks_by_department"],
        "overdue_cases": case_figures["overdue_cases"],
        "paused_cases": case_figures["paused_cases"],
        "on_time": task_figures["on_time"],
        "time_to_close": case_figures["time_to_close"],
        "satisfaction": _satisfaction(cases),
        "coverage": _coverage(user, today),
    }
