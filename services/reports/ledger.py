"""The case ledger (台账): the Excel list of cases that staff export from the admin's filtered case list.

One sheet, the header in row 1 (no title row), one row per case in the queryset's order. Times are the zone's
local time (settings.TIME_ZONE, Asia/Shanghai) written as real Excel date-times; deadlines as Excel dates.
The cases are read through one cursor, in chunks of LEDGER_CHUNK_SIZE, with their overdue flag and latest verdict
annotated; each chunk's tasks with units are one more query: a query per chunk, never per case, all read as plain
values rather than model instances (seconds saved at 20,000 cases). Rows go to disk as they are written
(XlsxWriter's constant_memory mode), so an export of 100,000 cases holds one chunk in memory, not the whole ledger.
"""

import re
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from itertools import islice
from typing import IO

import xlsxwriter
from django.db.models import BooleanField, Count, ExpressionWrapper, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from services.selectors import cases_visible_to
from services.states import OPEN_CASE_STATES
from services.time.deadlines import overdue_cases_q
from services.units import unit_name
from tracker.models import Case, Department, Feedback, Task, TaskForce, User

# (header, column width in characters), in column order.
_COLUMNS = (
    (gettext_lazy("诉求编号"), 16),
    (gettext_lazy("企业名称"), 28),
    (gettext_lazy("统一社会信用代码"), 21),
    (gettext_lazy("投资项目"), 22),
    (gettext_lazy("类别"), 10),
    (gettext_lazy("标题"), 30),
    (gettext_lazy("紧急程度"), 9),
    (gettext_lazy("来源渠道"), 11),
    (gettext_lazy("状态"), 9),
    (gettext_lazy("服务专员"), 10),
    (gettext_lazy("提交时间"), 17),
    (gettext_lazy("受理时间"), 17),
    (gettext_lazy("答复时间"), 17),
    (gettext_lazy("办结时间"), 17),
    (gettext_lazy("受理期限"), 12),
    (gettext_lazy("验收期限"), 12),
    (gettext_lazy("是否逾期"), 9),
    (gettext_lazy("事项数"), 8),
    (gettext_lazy("已完成事项"), 10),
    (gettext_lazy("事项摘要"), 60),
    (gettext_lazy("办结答复"), 50),
    (gettext_lazy("重办次数"), 9),
    (gettext_lazy("满意度"), 10),
    (gettext_lazy("评价意见"), 30),
)
LEDGER_COLUMNS = tuple(header for header, _width in _COLUMNS)

DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
_WRAPPED_COLUMNS = frozenset({19, 20})  # 事项摘要 and 办结答复 (0-based)
_ILLEGAL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # control characters Excel refuses
# Cases read (and tasks queried) at a time: one chunk of rows and their tasks is what the export holds in memory.
LEDGER_CHUNK_SIZE = 2000
# Options of every ledger workbook: user text is never read as a formula, URL or number.
_WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


class _Labels:
    """Every label the rows need, translated once per export rather than once per cell."""

    def __init__(self) -> None:
        def labels(choices) -> dict:
            return {value: str(label) for value, label in choices.choices}

        self.urgency = labels(Case.Urgency)
        self.channel = labels(Case.Channel)
        self.status = labels(Case.Status)
        self.task_status = labels(Task.Status)
        self.rating = labels(Feedback.Rating)
        self.yes, self.no = _("是"), _("否")
        self.task_line = _("%(unit)s：%(title)s（%(status)s，期限 %(due_on)s）")


def _latest_feedback(field: str) -> Subquery:
    return Subquery(Feedback.objects.filter(case=OuterRef("pk")).order_by("-created_at", "-id").values(field)[:1])


def _reopenings() -> Coalesce:
    """How many times the case was sent back (重办), by the enterprise or on a callback: its reopen verdicts."""
    reopens = (
        Feedback.objects.filter(case=OuterRef("pk"), verdict=Feedback.Verdict.REOPEN)
        .order_by()
        .values("case")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(reopens, output_field=IntegerField()), 0)


_CASE_VALUES = (
    "pk",
    "number",
    "enterprise__name",
    "enterprise__uscc",
    "project__name",
    "category__name",
    "title",
    "urgency",
    "channel",
    "status",
    "concierge_id",
    "concierge__username",
    "concierge__full_name",
    "concierge__first_name",
    "concierge__last_name",
    "submitted_at",
    "accepted_at",
    "resolved_at",
    "closed_at",
    "accept_due_on",
    "verdict_due_on",
    "ledger_overdue",
    "ledger_rating",
    "ledger_comment",
    "answer",
    "ledger_reopenings",
)
_TASK_VALUES = (
    "case_id",
    "title",
    "status",
    "due_on",
    "task_force_id",
    "task_force__name",
    "department_id",
    "department__name",
)


def _case_chunks(cases: QuerySet[Case], today: date, chunk_size: int) -> Iterator[list]:
    """The cases as plain rows, `chunk_size` at a time, in the queryset's order, read through one cursor (a
    server-side one on PostgreSQL) so that only a chunk is ever held."""
    annotated = cases.annotate(
        ledger_overdue=ExpressionWrapper(overdue_cases_q(today), output_field=BooleanField()),
        ledger_rating=_latest_feedback("rating"),
        ledger_comment=_latest_feedback("comment"),
        ledger_reopenings=_reopenings(),
    )
    rows = annotated.values_list(*_CASE_VALUES, named=True).iterator(chunk_size=chunk_size)
    while chunk := list(islice(rows, chunk_size)):
        yield chunk


def _task_lines(case_ids: list[int], labels: _Labels) -> dict[int, tuple[int, int, str]]:
    """Per case id of one chunk: (tasks not cancelled, tasks done, one summary line per task)."""
    # One parameter per case of the chunk: LEDGER_CHUNK_SIZE stays far below SQLite's cap on parameters.
    tasks = Task.objects.filter(case_id__in=case_ids).order_by("case_id", "id").values_list(*_TASK_VALUES, named=True)
    task_forces: dict[int, TaskForce] = {}
    departments: dict[int, Department] = {}
    lines: dict[int, list[str]] = defaultdict(list)
    live: dict[int, int] = defaultdict(int)
    done: dict[int, int] = defaultdict(int)
    for task in tasks:
        task_force = department = None
        if task.task_force_id:
            task_force = task_forces.setdefault(
                task.task_force_id, TaskForce(pk=task.task_force_id, name=task.task_force__name)
            )
        if task.department_id:
            department = departments.setdefault(
                task.department_id, Department(pk=task.department_id, name=task.department__name)
            )
        lines[task.case_id].append(
            labels.task_line
            % {
                "unit": unit_name(task_force, department),
                "title": task.title,
                "status": labels.task_status[task.status],
                "due_on": task.due_on.isoformat(),
            }
        )
        live[task.case_id] += task.status != Task.Status.CANCELLED
        done[task.case_id] += task.status == Task.Status.DONE
    return {case_id: (live[case_id], done[case_id], "\n".join(found)) for case_id, found in lines.items()}


def _values(case, tasks: tuple[int, int, str], labels: _Labels, concierges: dict, zone_tz) -> list:
    def local(moment: datetime | None) -> datetime | None:
        return moment.astimezone(zone_tz).replace(tzinfo=None) if moment else None

    concierge = None
    if case.concierge_id:
        if case.concierge_id not in concierges:
            concierges[case.concierge_id] = User(
                username=case.concierge__username,
                full_name=case.concierge__full_name,
                first_name=case.concierge__first_name,
                last_name=case.concierge__last_name,
            ).display_name
        concierge = concierges[case.concierge_id]
    live, done, summary = tasks
    return [
        case.number,
        case.enterprise__name,
        case.enterprise__uscc,
        case.project__name,
        case.category__name,
        case.title,
        labels.urgency[case.urgency],
        labels.channel[case.channel],
        labels.status[case.status],
        concierge,
        local(case.submitted_at),
        local(case.accepted_at),
        local(case.resolved_at),
        local(case.closed_at),
        case.accept_due_on,
        case.verdict_due_on,
        labels.yes if case.ledger_overdue else labels.no,
        live,
        done,
        summary or None,
        case.answer or None,
        case.ledger_reopenings,
        labels.rating.get(case.ledger_rating),
        case.ledger_comment or None,
    ]


def write_case_ledger(
    cases: QuerySet[Case], output: str | IO[bytes], *, today: date | None = None, chunk_size: int = LEDGER_CHUNK_SIZE
) -> int:
    """Write the ledger of `cases` to `output` (a path, or a binary file open for writing), one row per case in the
    queryset's order; returns the number of cases written.

    `today` (default: the zone's today) decides 是否逾期, by `services.time.deadlines.overdue_cases_q`. 事项数 and
    已完成事项 leave cancelled tasks out; 事项摘要 lists every task, cancelled ones with their status. 满意度 and
    评价意见 come from the latest verdict (a reopen has no rating; its comment is the reason). 办结答复 is the
    concierge's latest answer; 重办次数 counts the reopen verdicts (the enterprise's and on callbacks). Read-only;
    memory is bounded by `chunk_size`, whatever the number of cases (rows are flushed to temporary files).
    """
    today = today or timezone.localdate()
    labels = _Labels()
    # XlsxWriter writes ~3x faster than openpyxl. constant_memory writes each row to disk when the next one starts
    # (rows strictly in order, strings inline rather than shared), which is what keeps a large export bounded.
    book = xlsxwriter.Workbook(output, {**_WORKBOOK_OPTIONS, "constant_memory": True})
    sheet = book.add_worksheet(str(_("诉求台账")))
    formats = {
        "header": book.add_format({"bold": True}),
        "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
        datetime: book.add_format({"num_format": DATETIME_FORMAT}),
        date: book.add_format({"num_format": DATE_FORMAT}),
    }
    for index, (_header, width) in enumerate(_COLUMNS):
        sheet.set_column(index, index, width)
    sheet.freeze_panes(1, 0)
    sheet.write_row(0, 0, [str(title) for title in LEDGER_COLUMNS], formats["header"])

    zone_tz = timezone.get_default_timezone()
    concierges: dict[int, str] = {}
    no_tasks = (0, 0, "")
    row = 0
    for chunk in _case_chunks(cases, today, chunk_size):
        tasks = _task_lines([case.pk for case in chunk], labels)
        for case in chunk:
            row += 1
            values = _values(case, tasks.get(case.pk, no_tasks), labels, concierges, zone_tz)
            for column, value in enumerate(values):
                if value is None:
                    continue
                if isinstance(value, str):
                    wrap = formats["wrap"] if column in _WRAPPED_COLUMNS else None
                    sheet.write_string(row, column, _ILLEGAL_CHARACTERS.sub("", value), wrap)
                elif isinstance(value, date):
                    number_format = formats[datetime if isinstance(value, datetime) else date]
                    sheet.write_datetime(row, column, value, number_format)
                else:
                    sheet.write_number(row, column, value)
    # The filter's range is only known at the end; it is written when the book closes, so it may come last.
    sheet.autofilter(0, 0, row, len(_COLUMNS) - 1)
    book.close()
    return row


def case_ledger_file(cases: QuerySet[Case], *, today: date | None = None) -> IO[bytes]:
    """The ledger of `cases` (see `write_case_ledger`) in an anonymous temporary file, rewound: the caller streams
    it and closes it, which deletes it."""
    file = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - handed to the caller, who closes it
    try:
        write_case_ledger(cases, file, today=today)
    except BaseException:
        file.close()
        raise
    file.seek(0)
    return file


def case_ledger(cases: QuerySet[Case], *, today: date | None = None) -> bytes:
    """The ledger of `cases` as the bytes of an .xlsx file, for the small ledgers attached to a mail; the export
    streams `case_ledger_file` instead."""
    with case_ledger_file(cases, today=today) as file:
        return file.read()


def weekly_ledger(user: User, now: datetime | None = None) -> tuple[str, bytes]:
    """The ledger attached to a leader's summary: cases open now or closed in the last seven days."""
    now = now or timezone.now()
    cases = cases_visible_to(user).filter(
        Q(status__in=[*OPEN_CASE_STATES, Case.Status.RESOLVED]) | Q(closed_at__gte=now - timedelta(days=7))
    )
    today = timezone.localdate(now)
    return f"台账-{today.isoformat()}.xlsx", case_ledger(cases.order_by("-submitted_at", "-id"), today=today)
