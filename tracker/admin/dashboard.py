"""The leaders' dashboard: the figures of `services.reports.stats.dashboard`, each linked to the list behind it."""

from urllib.parse import urlencode

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from services.permissions import can_decide_extension
from services.reports.stats import dashboard
from services.reports.supervision import attention
from services.time.calendar import WorkingCalendar
from services.units import unit_name

_STATUS_COLOURS = {
    "submitted": "#d97706",
    "accepted": "#2563eb",
    "in_progress": "#0891b2",
    "resolved": "#7c3aed",
    "closed": "#16a34a",
    "declined": "#6b7280",
    "withdrawn": "#9ca3af",
}


def _list(request, model: str, **params) -> str:
    """The address of a list behind a figure; empty (the figure is shown, not linked) when the person's menu does
    not offer that list."""
    if not admin.site.offers(request, apps.get_model("tracker", model)):
        return ""
    url = reverse(f"admin:tracker_{model}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def _bars(rows: list[dict], label_key: str, href) -> list[dict]:
    """Rows with their bar width (percent of the largest) for the chart."""
    top = max((row["count"] for row in rows), default=0) or 1
    return [
        {**row, "label": row[label_key], "width": round(row["count"] * 100 / top, 1), "href": href(row)} for row in rows
    ]


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _attention(request, calendar: WorkingCalendar) -> list[dict]:
    """What the leader must see first: extensions to decide, red and yellow cards — each with its first rows."""
    figures = attention(request.user, timezone.localdate(), calendar)
    count, extensions = figures["extensions"]
    panels = [
        {
            "key": "extensions",
            "label": _("待审批延期"),
            "count": count,
            "href": _list(request, "extension", status__exact="pending"),
            "rows": [
                {
                    "href": reverse("admin:tracker_extension_change", args=[e.pk]),
                    "title": e.task.title,
                    "detail": _("%(enterprise)s · 原期限 %(previous)s → 申请延至 %(requested)s")
                    % {
                        "enterprise": e.task.case.enterprise.name,
                        "previous": f"{e.previous_due_on:%Y-%m-%d}",
                        "requested": f"{e.requested_due_on:%Y-%m-%d}",
                    },
                }
                for e in extensions
            ],
        }
    ]
    for card, label in (("red", _("红牌督办")), ("yellow", _("黄牌督办"))):
        count, tasks = figures[card]
        panels.append(
            {
                "key": card,
                "label": label,
                "count": count,
                "href": _list(request, "task", deadline=card),
                "rows": [
                    {
                        "href": reverse("admin:tracker_task_change", args=[t.pk]),
                        "title": t.title,
                        "detail": _("%(enterprise)s · %(unit)s · 期限 %(due)s")
                        % {
                            "enterprise": t.case.enterprise.name,
                            "unit": unit_name(t.task_force, t.department),
                            "due": f"{t.due_on:%Y-%m-%d}",
                        },
                    }
                    for t in tasks
                ],
            }
        )
    return panels


def dashboard_view(request):
    if not request.user.has_perm("tracker.view_case"):
        raise PermissionDenied
    calendar = WorkingCalendar.load()  # one for the figures and the leader's cards
    figures = dashboard(user=request.user, calendar=calendar)
    statuses = [{**row, "colour": _STATUS_COLOURS.get(row["status"], "#64748b")} for row in figures["cases_by_status"]]
    total = sum(row["count"] for row in statuses) or 1
    offset = 0.0
    for row in statuses:  # the ring chart: each status an arc of the circle, in order
        row["share"] = round(row["count"] * 100 / total, 2)
        row["gap"] = round(100 - row["share"], 2)  # dash + gap = the circumference, so the pattern wraps exactly
        row["offset"] = round(25 - offset, 2)
        row["href"] = _list(request, "case", status__exact=row["status"])
        offset += row["share"]
    on_time, closing, satisfaction, coverage = (
        figures["on_time"],
        figures["time_to_close"],
        figures["satisfaction"],
        figures["coverage"],
    )
    cards = [
        {
            "label": _("逾期诉求"),
            "value": figures["overdue_cases"],
            "href": _list(request, "case", deadline="overdue"),
            "alert": figures["overdue_cases"] > 0,
        },
        {
            "label": _("挂起中的诉求"),
            "value": figures["paused_cases"]["all"],
            "detail": _("等待企业补充材料，办理时限暂停"),
            "note": ngettext(
                "其中 %(long)s 件已满 %(days)s 个工作日",
                "其中 %(long)s 件已满 %(days)s 个工作日",
                figures["paused_cases"]["long"],
            )
            % {"long": figures["paused_cases"]["long"], "days": settings.CLOCK_PAUSE_LONG_AFTER_DAYS}
            if figures["paused_cases"]["long"]
            else "",
            "href": _list(request, "case", paused="long" if figures["paused_cases"]["long"] else "yes"),
            "alert": figures["paused_cases"]["long"] > 0,
        },
        {
            "label": _("事项按期办结率"),
            "value": _percent(on_time["rate"]),
            "detail": ngettext(
                "%(on_time)s / %(completed)s 个事项", "%(on_time)s / %(completed)s 个事项", on_time["completed"]
            )
            % on_time,
            "href": _list(request, "task", timeliness="late"),
            "link_label": _("看超期办结的"),
        },
        {
            "label": _("平均办结用时"),
            "value": "—" if closing["average_working_days"] is None else closing["average_working_days"],
            "unit": _("个工作日"),
            "detail": ngettext("%(closed)s 件已办结", "%(closed)s 件已办结", closing["closed"]) % closing,
            "href": _list(request, "case", status__exact="closed"),
        },
        {
            "label": _("满意率"),
            "value": _percent(satisfaction["rate"]),
            "detail": ngettext(
                "%(satisfied)s / %(verdicts)s 次评价（非常满意+满意+基本满意）",
                "%(satisfied)s / %(verdicts)s 次评价（非常满意+满意+基本满意）",
                satisfaction["verdicts"],
            )
            % satisfaction,
            # Early callbacks are the concierge's word for the enterprise, not the enterprise's own: apart.
            "note": ngettext(
                "另有 %(verdicts)s 次提前电话回访，不计入满意率",
                "另有 %(verdicts)s 次提前电话回访，不计入满意率",
                satisfaction["early_callbacks"]["verdicts"],
            )
            % satisfaction["early_callbacks"]
            if satisfaction["early_callbacks"]["verdicts"]
            else "",
            "href": _list(request, "feedback", satisfied="no", early__exact=0),
            "link_label": _("看不满意的"),
        },
    ]
    coverage_rows = [
        {
            "label": _("未挂钩服务专员的重点企业"),
            "value": coverage["key_enterprises_without_concierge"],
            "href": _list(request, "enterprise", is_key__exact=1, has_concierge="no"),
        },
        {
            "label": _("未挂钩服务专员的投资项目"),
            "value": coverage["projects_without_concierge"],
            "href": _list(request, "project", has_concierge="no"),
        },
        {
            "label": _("近一季度无诉求也无走访的重点企业"),
            "value": coverage["enterprises_without_contact"],
            "href": _list(request, "enterprise", contact="none"),
            "detail": _("自 %(since)s 起") % coverage,
        },
    ]
    context = {
        "title": _("统计看板"),
        "attention": _attention(request, calendar) if can_decide_extension(request.user) else [],
        "statuses": statuses,
        "total_cases": sum(row["count"] for row in statuses),
        "categories": _bars(
            figures["cases_by_category"],
            "name",
            lambda row: _list(request, "case", category__id__exact=row["category_id"]),
        ),
        "departments": _bars(
            figures["overdue_tasks_by_department"],
            "name",
            lambda row: _list(request, "task", deadline="overdue", unit_department=row["department_id"]),
        ),
        "cards": cards,
        "coverage": coverage_rows,
        "ratings": _bars(
            satisfaction["by_rating"],
            "label",
            lambda row: _list(request, "feedback", rating__exact=row["rating"], early__exact=0),
        ),
        "early_callbacks": {
            **satisfaction["early_callbacks"],
            "href": _list(request, "feedback", early__exact=1),
        },
    }
    context.update(admin.site.each_context(request))
    return TemplateResponse(request, "admin/tracker/dashboard.html", context)
