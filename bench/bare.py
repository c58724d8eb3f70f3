"""The floor under the API's case list, for bench/api.py only: a plain Django view that answers the leader's
`GET /api/v1/cases/?page_size=N` with the same bytes from one SQL statement and a loop, no DRF.

Mounted at /bench/bare/cases/ by this module's URLconf (the product's URLs plus that one), which gunicorn uses when
started with DJANGO_SETTINGS_MODULE=bench.bare_settings. It is never part of the product's URLconf. It does not
authenticate: the user whose `actions` it lists is BENCH_BARE_USER_ID (a leader, who sees the whole zone), so the
API's ratio to it includes what authentication costs.

The statement is the API's own queryset compiled once per process (`today` fixed at the first request), then
only executed; what the generic path does per request — compiling, model instances, fields — is what it skips.
"""

import json
import os
from base64 import b64encode
from datetime import date, datetime
from urllib.parse import urlencode

from django.db import connection
from django.http import HttpResponse
from django.urls import path
from django.utils import timezone

from services.permissions import case_actions_for
from services.states import annotate_open_task_count
from services.time.deadlines import annotate_case_deadlines
from tracker.models import Case, User
from tracker.urls import urlpatterns as product_urlpatterns

COLUMNS = (
    "id",
    "number",
    "enterprise_id",
    "enterprise__name",
    "project_id",
    "project__name",
    "category_id",
    "category__code",
    "category__name",
    "title",
    "description",
    "urgency",
    "channel",
    "caller_name",
    "caller_phone",
    "status",
    "concierge_id",
    "concierge__full_name",
    "concierge__first_name",
    "concierge__last_name",
    "concierge__username",
    "concierge__phone",
    "accept_due_on",
    "verdict_due_on",
    "redo_due_on",
    "clock_paused_at",
    "next_due",
    "is_overdue",
    "answer",
    "submitted_at",
    "accepted_at",
    "resolved_at",
    "closed_at",
    "updated_at",
    "version",
    "open_task_count",
)

_state: dict = {}


def _prepared(page_size: int):
    """(sql, params, user, actions memo) for this process, compiled on first use."""
    if page_size not in _state:
        cases = annotate_open_task_count(annotate_case_deadlines(Case.objects.all(), timezone.localdate()))
        query = cases.order_by("-id").values_list(*COLUMNS)[: page_size + 1].query
        sql, params = query.sql_with_params()
        user = User.objects.get(pk=int(os.environ["BENCH_BARE_USER_ID"]))
        _state[page_size] = (sql, params, user, {})
    return _state[page_size]


def _moment(value: datetime | None, zone) -> str | None:
    if not value:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def leader_case_list(request):
    page_size = int(request.GET.get("page_size", 50))
    sql, params, user, actions_memo = _prepared(page_size)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    zone = timezone.get_current_timezone()
    labels = {value: str(label) for value, label in Case.Status.choices}
    results = []
    for row in rows[:page_size]:
        r = dict(zip(COLUMNS, row, strict=True))
        # For a zone-wide user the actions depend only on the state and the two guards' inputs.
        key = (r["status"], r["open_task_count"] > 0, r["clock_paused_at"] is not None)
        if key not in actions_memo:
            probe = Case(status=r["status"], clock_paused_at=r["clock_paused_at"])
            probe.open_task_count = r["open_task_count"]
            actions_memo[key] = case_actions_for(user, probe)
        concierge = None
        if r["concierge_id"] is not None:
            full = f"{r['concierge__first_name']} {r['concierge__last_name']}".strip()
            concierge = {
                "id": r["concierge_id"],
                "name": r["concierge__full_name"] or full or r["concierge__username"],
                "phone": r["concierge__phone"],
            }
        results.append(
            {
                "id": r["id"],
                "number": r["number"],
                "enterprise": {"id": r["enterprise_id"], "name": r["enterprise__name"]},
                "project": None if r["project_id"] is None else {"id": r["project_id"], "name": r["project__name"]},
                "category": {"id": r["category_id"], "code": r["category__code"], "name": r["category__name"]},
                "title": r["title"],
                "description": r["description"],
                "urgency": r["urgency"],
                "channel": r["channel"],
                "caller_name": r["caller_name"],
                "caller_phone": r["caller_phone"],
                "status": r["status"],
                "status_display": labels.get(r["status"], r["status"]),
                "concierge": concierge,
                "accept_due_on": _day(r["accept_due_on"]),
                "verdict_due_on": _day(r["verdict_due_on"]),
                "redo_due_on": _day(r["redo_due_on"]),
                "clock_paused_at": _moment(r["clock_paused_at"], zone),
                "next_due": _day(r["next_due"]),
                "is_overdue": r["is_overdue"],
                "answer": r["answer"],
                "submitted_at": _moment(r["submitted_at"], zone),
                "accepted_at": _moment(r["accepted_at"], zone),
                "resolved_at": _moment(r["resolved_at"], zone),
                "closed_at": _moment(r["closed_at"], zone),
                "updated_at": _moment(r["updated_at"], zone),
                "version": r["version"],
                "actions": list(actions_memo[key]),
            }
        )
    following = None
    if len(rows) > page_size:
        # DRF's cursor for the next page: the last shown row's position (ids are unique, so no offset).
        cursor_token = b64encode(urlencode({"p": str(rows[page_size - 1][0])}).encode("ascii")).decode("ascii")
        query = urlencode(sorted({**request.GET.dict(), "cursor": cursor_token}.items()), doseq=True)
        following = request.build_absolute_uri("/api/v1/cases/") + "?" + query
    body = {"next": following, "previous": None, "results": results}
    text = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")  # as DRF's JSONRenderer
    return HttpResponse(text.encode("utf-8"), content_type="application/json")


urlpatterns = [path("bench/bare/cases/", leader_case_list), *product_urlpatterns]
handler500 = "tracker.api.errors.server_error"
