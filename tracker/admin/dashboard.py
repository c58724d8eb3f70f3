"""The leaders' dashboard: the figures of `services.stats.dashboard`, each linked to the list behind it."""

from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from services.stats import dashboard

_STATUS_COLOURS = {
    "submitted": "#d97706",
    "accepted": "#2563eb",
    "in_progress": "#0891b2",
    "resolved": "#7c3aed",
    "closed": "#16a34a",
    "declined": "#6b7280",
    "withdrawn": "#9ca3af",
}


def _list(model: str, **params) -> str:
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


def dashboard_view(request):
    if not request.user.has_perm("tracker.view_case"):
        raise PermissionDenied
    figures = dashboard(user=request.user)
    statuses = [{**row, "colour": _STATUS_COLOURS.get(row["status"], "#64748b")} for row in figures["cases_by_status"]]
    total = sum(row["count"] for row in statuses) or 1
    offset = 0.0
    for row in statuses:  # the ring chart: each status an arc of the circle, in order
        row["share"] = round(row["count"] * 100 / total, 2)
        row["gap"] = round(100 - row["share"], 2)  # dash + gap = the circumference, so the pattern wraps exactly
        row["offset"] = round(25 - offset, 2)
        row["href"] = _list("case", status__exact=row["status"])
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
            "href": _list("case", deadline="overdue"),
            "alert": figures["overdue_cases"] > 0,
        },
        {
            "label": _("事项按期办结率"),
            "value": _percent(on_time["rate"]),
            "detail": ngettext(
                "%(on_time)s / %(completed)s 个事项", "%(on_time)s / %(completed)s 个事项", on_time["completed"]
            )
            % on_time,
            "href": _list("task", timeliness="late"),
            "link_label": _("看超期办结的"),
        },
        {
            "label": _("平均办结用时"),
            "value": "—" if closing["average_working_days"] is None else closing["average_working_days"],
            "unit": _("个工作日"),
            "detail": ngettext("%(closed)s 件已办结", "%(closed)s 件已办结", closing["closed"]) % closing,
            "href": _list("case", status__exact="closed"),
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
            "href": _list("feedback", satisfied="no"),
            "link_label": _("看不满意的"),
        },
    ]
    coverage_rows = [
        {
            "label": _("未挂钩服务专员的重点企业"),
            "value": coverage["key_enterprises_without_concierge"],
            "href": _list("enterprise", is_key__exact=1, has_concierge="no"),
        },
        {
            "label": _("未挂钩服务专员的投资项目"),
            "value": coverage["projects_without_concierge"],
            "href": _list("project", has_concierge="no"),
        },
        {
            "label": _("近一季度无诉求也无走访的重点企业"),
            "value": coverage["enterprises_without_contact"],
            "href": _list("enterprise", contact="none"),
            "detail": _("自 %(since)s 起") % coverage,
        },
    ]
    context = {
        "title": _("统计看板"),
        "statuses": statuses,
        "total_cases": sum(row["count"] for row in statuses),
        "categories": _bars(
            figures["cases_by_category"], "name", lambda row: _list("case", category__id__exact=row["category_id"])
        ),
        "departments": _bars(
            figures["overdue_tasks_by_department"],
            "name",
            lambda row: _list("task", deadline="overdue", unit_department=row["department_id"]),
        ),
        "cards": cards,
        "coverage": coverage_rows,
        "ratings": _bars(
            satisfaction["by_rating"],
            "label",
            lambda row: _list("feedback", rating__exact=row["rating"]),
        ),
    }
    context.update(admin.site.each_context(request))
    return TemplateResponse(request, "admin/tracker/dashboard.html", context)
