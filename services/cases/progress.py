"""Where a case stands, told to the enterprise: what happens next, by when, and whether it waits on them."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Max, OuterRef, QuerySet, Subquery
from django.utils import dateformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from services.states import OPEN_TASK_STATES
from services.time.calendar import WorkingCalendar
from tracker.models import Case, CaseEvent, Task

CS = Case.Status


@dataclass(frozen=True)
class NextStep:
    text: str
    due_on: date | None = None
    awaits_enterprise: bool = False
    is_overdue: bool = False


def annotate_answer_due(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Add `answer_due` — the latest due date of the case's open tasks, i.e. when an answer can be expected —
    in the list's one query."""
    latest = (
        Task.objects.filter(case=OuterRef("pk"), status__in=OPEN_TASK_STATES)
        .values("case")
        .annotate(last=Max("due_on"))
        .values("last")
    )
    return cases.annotate(answer_due=Subquery(latest))


def _day(value: date) -> str:
    return dateformat.format(value, _("n月j日"))


def _late(due: date, today: date, calendar: WorkingCalendar | None) -> str:
    """How late the zone is on `due`, in working days: "已超期 N 个工作日" (or, on the rest days right after the
    deadline, that the deadline has passed)."""
    days = (calendar or WorkingCalendar.load(since=due)).working_days_between(due, today)
    if days < 1:
        return _("已超过期限")
    return ngettext("已超期 %(days)d 个工作日", "已超期 %(days)d 个工作日", days) % {"days": days}


def _dated(due: date, today: date, calendar: WorkingCalendar | None, on_time: str, late: str) -> NextStep:
    """A step the zone owes by `due`: `on_time` until then; after it, `late` with how late it is — never a past
    date shown as still expected."""
    if due < today:
        return NextStep(late % {"date": _day(due), "late": _late(due, today, calendar)}, due, is_overdue=True)
    return NextStep(on_time % {"date": _day(due)}, due)


def next_step(
    case: Case, today: date, *, answer_due: date | None = None, calendar: WorkingCalendar | None = None
) -> NextStep:
    """The next step of `case` in the enterprise's words. `answer_due` comes from `annotate_answer_due` (lists)
    or is read here (one case); `calendar` counts how late a step is (loaded here when not given)."""
    status = case.status
    if case.clock_paused_at is not None and status in (CS.SUBMITTED, CS.ACCEPTED, CS.IN_PROGRESS):
        return NextStep(_("等待您补充材料，办理时限已暂停"), awaits_enterprise=True)
    if status == CS.SUBMITTED:
        return _dated(
            case.accept_due_on,
            today,
            calendar,
            _("等待服务专员受理，预计 %(date)s 前受理"),
            _("等待服务专员受理，原定 %(date)s 前受理，%(late)s"),
        )
    if status == CS.ACCEPTED:
        return NextStep(_("服务专员已受理，正在分解交办"))
    if status == CS.IN_PROGRESS:
        if answer_due is None:
            answer_due = getattr(case, "answer_due", None)
        if answer_due is None and not hasattr(case, "answer_due"):
            answer_due = case.tasks.filter(status__in=OPEN_TASK_STATES).aggregate(last=Max("due_on"))["last"]
        if answer_due is None and case.redo_due_on is not None:
            return _dated(
                case.redo_due_on,
                today,
                calendar,
                _("您已退回重办，服务专员将在 %(date)s 前重新安排办理"),
                _("您已退回重办，服务专员原定 %(date)s 前重新安排办理，%(late)s"),
            )
        if answer_due is None:
            return NextStep(_("各事项已办结，等待服务专员答复"))
        return _dated(
            answer_due,
            today,
            calendar,
            _("等待专班办理，预计 %(date)s 前答复"),
            _("专班仍在办理，原定 %(date)s 前答复，%(late)s"),
        )
    if status == CS.RESOLVED:
        due = case.verdict_due_on
        text = (
            _("已答复，请您在 %(date)s 前验收：确认办结或提出意见") % {"date": _day(due)}
            if due
            else _("已答复，请您验收：确认办结或提出意见")
        )
        return NextStep(text, due, awaits_enterprise=True)
    if status == CS.CLOSED:
        return NextStep(_("已办结，感谢您的评价"))
    if status == CS.DECLINED:
        return NextStep(_("不予受理，原因见办理记录"))
    return NextStep(_("您已撤回此诉求"))


def next_steps(cases: list[Case], today: date) -> list[NextStep]:
    """`next_step` for each case of a list (annotated by `annotate_answer_due`), the working-day calendar loaded
    once, and only if some step is late."""
    calendar: WorkingCalendar | None = None

    def late(due: date | None) -> bool:
        return due is not None and due < today

    if any(
        late(case.accept_due_on if case.status == CS.SUBMITTED else None)
        or late(getattr(case, "answer_due", None) or case.redo_due_on if case.status == CS.IN_PROGRESS else None)
        for case in cases
    ):
        calendar = WorkingCalendar.load()
    return [next_step(case, today, calendar=calendar) for case in cases]


def open_info_request(case: Case, events: list[CaseEvent]) -> CaseEvent | None:
    """The concierge's latest request for information (from the case's timeline, oldest first), unless someone of
    the enterprise has added information since — a colleague may have sent the files; a staff note does not count."""
    request = next((e for e in reversed(events) if e.kind == CaseEvent.Kind.INFO_REQUESTED), None)
    if request is None:
        return None
    answered = any(
        e.kind == CaseEvent.Kind.INFO_ADDED
        and e.created_at >= request.created_at
        and e.actor is not None
        and e.actor.enterprise_id == case.enterprise_id
        for e in events
    )
    return None if answered else request
