"""Summaries pushed by email: each staff member's morning digest, and the leaders' weekly summary with the
dashboard figures and the Excel ledger attached. Written as push outbox rows (`services.delivery.pushes`), once per
person and day (or week) by their dedupe key, and sent from the working morning on. A digest lists what the notices
and reminders tell the same person of (`services.delivery.recipients`): the tasks they work, the cases they are
concierge (or, for those waiting to be accepted, backup) of."""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from services.delivery import compose, pushes, recipients
from services.reports.stats import dashboard
from services.states import WORKING_TASK_STATES
from services.time.calendar import WorkingCalendar
from services.time.deadlines import overdue_tasks_q
from tracker.models import Case, PushDelivery, Task, User

CS = Case.Status
LISTED = 8  # items listed per section; the rest are counted


def _started(now: datetime, calendar: WorkingCalendar) -> bool:
    """A working day, and its push window is open: a digest is sent as soon as it is written, so one written in
    the evening would reach people at night."""
    local = timezone.localtime(now)
    hours = settings.REMINDER_DAY_START_HOUR <= local.hour < settings.REMINDER_DAY_END_HOUR
    return calendar.is_working_day(local.date()) and hours


def _email_recipients(users) -> list[User]:
    return list(users.filter(is_active=True, notify_by_email=True).exclude(email="").order_by("pk"))


def _section(title: str, rows: list[str], total: int) -> list[str]:
    if not total:
        return []
    lines = [f"{title}（{total}）"]
    lines += [f"  · {row}" for row in rows]
    if total > len(rows):
        lines.append("  " + _("……另有 %(count)d 项") % {"count": total - len(rows)})
    return lines


def daily_digest(user: User, today: date) -> str | None:
    """The person's open, due and overdue items as text, or None when they have none: the tasks they work, the cases
    they are concierge of, and those waiting to be accepted they are backup of (whom a late acceptance reminds)."""
    tasks = Task.objects.filter(recipients.task_workers_q(user), status__in=WORKING_TASK_STATES).select_related("case")
    overdue = tasks.filter(overdue_tasks_q(today)).order_by("due_on", "id")
    due_soon = tasks.filter(due_on__gte=today, due_on__lte=today + timedelta(days=7)).order_by("due_on", "id")
    mine = Case.objects.filter(recipients.concierge_q(user))
    backed_up = Case.objects.filter(recipients.concierge_q(user) | recipients.backup_concierge_q(user))
    to_accept = backed_up.filter(status=CS.SUBMITTED).order_by("accept_due_on", "id")
    to_call = mine.filter(status=CS.RESOLVED, verdict_due_on__lt=today).order_by("verdict_due_on", "id")
    in_progress = mine.filter(status__in=[CS.ACCEPTED, CS.IN_PROGRESS]).count()

    def task_row(task: Task) -> str:
        return f"{task.title}（{task.case.number}，期限 {task.due_on:%m-%d}）"

    def case_row(case: Case, due: date) -> str:
        return f"{case.number} {case.title}（期限 {due:%m-%d}）"

    lines = []
    lines += _section(_("已逾期事项"), [task_row(t) for t in overdue[:LISTED]], overdue.count())
    lines += _section(_("七天内到期事项"), [task_row(t) for t in due_soon[:LISTED]], due_soon.count())
    lines += _section(_("待受理诉求"), [case_row(c, c.accept_due_on) for c in to_accept[:LISTED]], to_accept.count())
    lines += _section(
        _("企业逾期未验收，待电话回访"), [case_row(c, c.verdict_due_on) for c in to_call[:LISTED]], to_call.count()
    )
    if not lines:
        return None
    if in_progress:
        lines.append(_("办理中的诉求：%(count)d 件") % {"count": in_progress})
    lines.append(_("打开工作台：%(url)s") % {"url": compose.site_url("/admin/")})
    return "\n".join(lines)


def write_daily_digests(now: datetime | None = None) -> int:
    """Write today's digest for every staff member with something open (once each); returns how many."""
    now = now or timezone.now()
    calendar = WorkingCalendar.load(since=timezone.localdate(now) - timedelta(days=7))
    if not _started(now, calendar):
        return 0
    today = timezone.localdate(now)
    done = set(
        PushDelivery.objects.filter(dedupe_key__startswith=f"digest:{today.isoformat()}:").values_list(
            "dedupe_key", flat=True
        )
    )
    written = []
    with translation.override(settings.LANGUAGE_CODE):
        for user in _email_recipients(recipients.staff()):
            key = f"digest:{today.isoformat()}:{user.pk}"
            if key in done:
                continue
            body = daily_digest(user, today)
            if body is None:
                continue
            written.append(
                PushDelivery(
                    dedupe_key=key,
                    channel=PushDelivery.Channel.EMAIL,
                    recipient=user,
                    address=user.email,
                    subject=_("【每日待办】%(date)s %(name)s") % {"date": today.isoformat(), "name": user.display_name},
                    body=body,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    return len(pushes.write_pushes(written, now=now))


def _week_start(today: date, calendar: WorkingCalendar) -> date | None:
    """The first working day of `today`'s week (None in a week with none)."""
    monday = today - timedelta(days=today.weekday())
    for offset in range(7):
        day = monday + timedelta(days=offset)
        if calendar.is_working_day(day):
            return day
    return None


def weekly_summary(user: User, today: date) -> str:
    figures = dashboard(user=user, today=today)
    by_status = "，".join(f"{row['label']} {row['count']}" for row in figures["cases_by_status"] if row["count"])
    lines = [
        _("截至 %(date)s，您分管范围内：") % {"date": today.isoformat()},
        _("诉求按状态：%(list)s") % {"list": by_status or "—"},
        _("逾期诉求：%(count)d 件") % {"count": figures["overdue_cases"]},
    ]
    on_time = figures["on_time"]
    if on_time.get("rate") is not None:
        lines.append(
            _("事项按期办结率：%(rate).0f%%（%(on_time)d/%(completed)d）")
            % {"rate": on_time["rate"] * 100, "on_time": on_time["on_time"], "completed": on_time["completed"]}
        )
    satisfaction = figures["satisfaction"]
    if satisfaction.get("rate") is not None:
        lines.append(
            _("企业满意率：%(rate).0f%%（%(satisfied)d/%(verdicts)d）")
            % {"rate": satisfaction["rate"] * 100, **satisfaction}
        )
    slow = figures["overdue_tasks_by_department"][:5]
    if slow:
        lines.append(_("逾期事项最多的单位：%(list)s") % {"list": "，".join(f"{r['name']} {r['count']}" for r in slow)})
    lines.append(_("附件为在办及近七天办结诉求的台账。看板：%(url)s") % {"url": compose.site_url("/admin/dashboard/")})
    return "\n".join(lines)


def write_weekly_summaries(now: datetime | None = None) -> int:
    """On the first working day of the week, write each leader's summary (once per leader and week)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    calendar = WorkingCalendar.load(since=today - timedelta(days=7))
    if not _started(now, calendar) or _week_start(today, calendar) != today:
        return 0
    year, week, _weekday = today.isocalendar()
    prefix = f"weekly:{year}-W{week:02d}:"
    done = set(PushDelivery.objects.filter(dedupe_key__startswith=prefix).values_list("dedupe_key", flat=True))
    written = []
    with translation.override(settings.LANGUAGE_CODE):
        for user in _email_recipients(recipients.leaders()):
            if f"{prefix}{user.pk}" in done:
                continue
            written.append(
                PushDelivery(
                    dedupe_key=f"{prefix}{user.pk}",
                    channel=PushDelivery.Channel.EMAIL,
                    recipient=user,
                    address=user.email,
                    subject=_("【每周汇总】%(year)d 年第 %(week)d 周") % {"year": year, "week": week},
                    body=weekly_summary(user, today),
                    attach_ledger=True,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    return len(pushes.write_pushes(written, now=now))
