"""The case ledger (services/reports/ledger.py): the .xlsx staff export, read back with openpyxl."""

from datetime import UTC, date, datetime, timedelta
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from services.cases import steps as case_services
from services.cases import tasks as task_services
from services.cases.tasks import TaskSpec
from services.reports.ledger import LEDGER_COLUMNS, case_ledger
from tests.factories import EnterpriseUserFactory, ProjectFactory, case_at, make_case, run_case_action
from tracker.models import Case

CS = Case.Status

HEADER = [
    "诉求编号",
    "企业名称",
    "统一社会信用代码",
    "投资项目",
    "类别",
    "标题",
    "紧急程度",
    "来源渠道",
    "状态",
    "服务专员",
    "提交时间",
    "受理时间",
    "答复时间",
    "办结时间",
    "受理期限",
    "验收期限",
    "是否逾期",
    "事项数",
    "已完成事项",
    "事项摘要",
    "办结答复",
    "重办次数",
    "满意度",
    "评价意见",
]


def _open(data: bytes):
    return load_workbook(BytesIO(data)).worksheets[0]


def _rows(data: bytes) -> list[dict]:
    sheet = _open(data)
    header = [cell.value for cell in sheet[1]]
    return [dict(zip(header, values, strict=True)) for values in sheet.iter_rows(min_row=2, values_only=True)]


def _local(moment: datetime) -> datetime:
    return timezone.localtime(moment, timezone.get_default_timezone()).replace(tzinfo=None)


def _same_minute(written, expected: datetime) -> bool:
    return isinstance(written, datetime) and abs(written - expected) < timedelta(seconds=1)


def test_a_closed_case_is_one_row_with_every_column(zone):
    # Given a case resolved with one task by the task force, then confirmed by the enterprise with 5 stars
    case = case_at(zone, CS.CLOSED)
    task = case.tasks.get()

    # When staff export the ledger
    data = case_ledger(Case.objects.all())

    # Then the header is the ledger's columns, bold and frozen, with a filter over the data
    sheet = _open(data)
    assert [cell.value for cell in sheet[1]] == HEADER == [str(title) for title in LEDGER_COLUMNS]
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:X2"
    assert sheet.max_row == 2
    # And the row holds the case, column by column
    (row,) = _rows(data)
    assert row["诉求编号"] == case.number
    assert row["企业名称"] == "昆山精密制造有限公司"
    assert row["统一社会信用代码"] == zone.enterprise.uscc
    assert row["投资项目"] is None
    assert row["类别"] == "用地空间"
    assert row["标题"] == "厂房扩建审批进度咨询"
    assert row["紧急程度"] == "一般"
    assert row["来源渠道"] == "企业门户"
    assert row["状态"] == "已办结"
    assert row["服务专员"] == "张三"
    for column, moment in [
        ("提交时间", case.submitted_at),
        ("受理时间", case.accepted_at),
        ("答复时间", case.resolved_at),
        ("办结时间", case.closed_at),
    ]:
        assert moment is not None
        assert _same_minute(row[column], _local(moment)), column
    assert row["受理期限"].date() == case.accept_due_on
    assert row["验收期限"].date() == case.verdict_due_on
    assert row["是否逾期"] == "否"
    assert (row["事项数"], row["已完成事项"]) == (1, 1)
    assert row["事项摘要"] == f"用地保障专班：协调规划许可（已办结，期限 {task.due_on.isoformat()}）"
    assert (row["办结答复"], row["重办次数"]) == ("规划许可已批复，可领取证书。", 0)
    assert (row["满意度"], row["评价意见"]) == ("非常满意", "感谢")
    # And times and deadlines are real Excel dates in the ledger's formats, the summary wrapped
    cells = dict(zip(HEADER, sheet[2], strict=True))
    assert cells["提交时间"].is_date and cells["提交时间"].number_format == "yyyy-mm-dd hh:mm"
    assert cells["受理期限"].is_date and cells["受理期限"].number_format == "yyyy-mm-dd"
    assert cells["事项摘要"].alignment.wrap_text


def test_times_are_the_zones_local_time_without_tzinfo(zone):
    # Given a case submitted at 23:30 UTC (07:30 the next morning in Kunshan)
    case = case_at(zone, CS.SUBMITTED)
    Case.objects.filter(pk=case.pk).update(submitted_at=datetime(2026, 3, 2, 23, 30, tzinfo=UTC))
    # When the ledger is exported
    (row,) = _rows(case_ledger(Case.objects.all()))
    # Then the submission time is the local wall-clock time
    assert row["提交时间"] == datetime(2026, 3, 3, 7, 30)


def test_a_case_past_its_acceptance_deadline_is_overdue(zone):
    # Given a case nobody has accepted
    case = case_at(zone, CS.SUBMITTED)
    # When the ledger is exported on its acceptance deadline, and on the day after
    on_time = _rows(case_ledger(Case.objects.all(), today=case.accept_due_on))
    late = _rows(case_ledger(Case.objects.all(), today=case.accept_due_on + timedelta(days=1)))
    # Then it is overdue only the day after, and its empty columns are blank
    assert on_time[0]["是否逾期"] == "否"
    assert late[0]["是否逾期"] == "是"
    assert (late[0]["受理时间"], late[0]["事项数"], late[0]["事项摘要"], late[0]["满意度"]) == (None, 0, None, None)


def test_the_latest_verdict_gives_the_satisfaction(zone):
    # Given a case the enterprise first sent back, and then accepted as satisfied
    case = case_at(zone, CS.RESOLVED)
    case_services.reopen_case(actor=zone.enterprise_user, case=case, reason="证书还没拿到", rating=2)
    case_services.resolve_case(actor=zone.concierge, case=case, answer="证书已寄出。")
    case_services.confirm_case(actor=zone.enterprise_user, case=case, rating=4, comment="已收到")
    # When the ledger is exported
    (row,) = _rows(case_ledger(Case.objects.all()))
    # Then the later verdict shows, not the first
    assert (row["满意度"], row["评价意见"]) == ("满意", "已收到")
    # And the ledger says it was sent back once, with the answer that closed it
    assert (row["重办次数"], row["办结答复"]) == (1, "证书已寄出。")


def test_the_ledger_counts_every_reopening_by_the_enterprise_or_on_a_callback(zone):
    # Given a case sent back twice (once by the enterprise, once on a callback) and another never sent back
    case = case_at(zone, CS.RESOLVED)
    case_at(zone, CS.SUBMITTED, title="未答复的诉求")
    case_services.reopen_case(actor=zone.enterprise_user, case=case, reason="证书还没拿到")
    case_services.resolve_case(actor=zone.concierge, case=case, answer="证书已寄出。")
    run_case_action(zone, "callback_reopen", case)
    # When the ledger is exported
    rows = {row["标题"]: row for row in _rows(case_ledger(Case.objects.all()))}
    # Then each row shows its own count, and no answer where none was given
    assert (rows["厂房扩建审批进度咨询"]["重办次数"], rows["厂房扩建审批进度咨询"]["办结答复"]) == (2, "证书已寄出。")
    assert (rows["未答复的诉求"]["重办次数"], rows["未答复的诉求"]["办结答复"]) == (0, None)


def test_a_reopened_case_shows_the_reason_and_no_rating(zone):
    # Given a case the enterprise sent back without a rating
    case = case_at(zone, CS.RESOLVED)
    case_services.reopen_case(actor=zone.enterprise_user, case=case, reason="证书还没拿到")
    # When the ledger is exported
    (row,) = _rows(case_ledger(Case.objects.all()))
    # Then satisfaction is blank and the comment is the enterprise's reason
    assert (row["状态"], row["满意度"], row["评价意见"]) == ("办理中", None, "证书还没拿到")


def test_rows_follow_the_querysets_order_and_filter(zone):
    # Given three cases, one of them for another enterprise
    first = case_at(zone, CS.SUBMITTED, title="第一件")
    second = case_at(zone, CS.ACCEPTED, title="第二件")
    make_case(
        status=CS.SUBMITTED,
        enterprise_user=zone.other_enterprise_user,
        concierge=zone.other_concierge,
        category=zone.category,
        unit=zone.department,
        worker=zone.officer,
        title="别家的",
    )
    mine = Case.objects.filter(enterprise=zone.enterprise)
    # When the ledger is exported in ascending and in descending number order
    ascending = [row["标题"] for row in _rows(case_ledger(mine.order_by("number")))]
    descending = [row["诉求编号"] for row in _rows(case_ledger(mine.order_by("-number")))]
    # Then the rows are exactly the filtered cases, in that order
    assert ascending == ["第一件", "第二件"]
    assert descending == [second.number, first.number]


def test_a_task_given_to_a_department_is_summarised_under_the_departments_name(zone):
    # Given a case in progress with one task given to a department
    case = make_case(
        status=CS.IN_PROGRESS,
        enterprise_user=zone.enterprise_user,
        concierge=zone.concierge,
        category=zone.category,
        unit=zone.department,
        worker=zone.officer,
    )
    task = case.tasks.get()
    # When the ledger is exported
    (row,) = _rows(case_ledger(Case.objects.all()))
    # Then the summary names the department and the task is counted as not done
    assert row["事项摘要"] == f"规划建设局：协调规划许可（待签收，期限 {task.due_on.isoformat()}）"
    assert (row["事项数"], row["已完成事项"]) == (1, 0)


def test_a_cancelled_task_is_listed_but_not_counted(zone):
    # Given a case in progress whose first task (to the task force) was cancelled and replaced by one to a department
    case = case_at(zone, CS.IN_PROGRESS)
    first = case.tasks.get()
    task_services.cancel_task(actor=zone.concierge, task=first, reason="改由部门办理")
    (second,) = task_services.decompose_case(
        actor=zone.concierge, case=case, tasks=[TaskSpec(title="核发规划许可", department=zone.department)]
    )
    task_services.start_task(actor=zone.officer, task=second)
    task_services.complete_task(actor=zone.officer, task=second, result="已核发")
    # When the ledger is exported
    (row,) = _rows(case_ledger(Case.objects.all()))
    # Then both tasks are summarised in order, but only the live one is counted
    assert row["事项摘要"].split("\n") == [
        f"用地保障专班：协调规划许可（已撤销，期限 {first.due_on.isoformat()}）",
        f"规划建设局：核发规划许可（已办结，期限 {second.due_on.isoformat()}）",
    ]
    assert (row["事项数"], row["已完成事项"]) == (1, 1)


def test_a_case_of_a_project_names_the_project(zone):
    # Given a case raised about one of the enterprise's investment projects
    project = ProjectFactory(enterprise=zone.enterprise, name="新厂房扩建项目")
    case_services.submit_case(
        actor=zone.enterprise_user,
        enterprise=zone.enterprise,
        project=project,
        category=zone.category,
        title="施工许可",
        description="开工前需办理施工许可。",
    )
    # When the ledger is exported
    (row,) = _rows(case_ledger(Case.objects.all()))
    # Then the project column names it
    assert row["投资项目"] == "新厂房扩建项目"


def test_enterprise_text_that_looks_like_a_formula_stays_text(zone):
    # Given a case whose title an enterprise typed as a spreadsheet formula, with a control character
    case_at(zone, CS.SUBMITTED, title='=HYPERLINK("http://evil.example","点我")\x07')
    # When the ledger is exported
    sheet = _open(case_ledger(Case.objects.all()))
    title = sheet.cell(row=2, column=HEADER.index("标题") + 1)
    # Then the cell holds the text, not a formula, and the control character is dropped
    assert (title.value, title.data_type) == ('=HYPERLINK("http://evil.example","点我")', "s")


def test_no_cases_gives_the_header_alone(db):
    sheet = _open(case_ledger(Case.objects.none()))
    assert [cell.value for cell in sheet[1]] == HEADER
    assert sheet.max_row == 1


def _cases(zone, count: int) -> None:
    statuses = [CS.CLOSED, CS.IN_PROGRESS, CS.RESOLVED, CS.SUBMITTED]
    for index in range(count):
        user = EnterpriseUserFactory(enterprise=zone.enterprise if index % 2 else zone.other_enterprise)
        make_case(
            status=statuses[index % len(statuses)],
            enterprise_user=user,
            concierge=zone.concierge if index % 2 else zone.other_concierge,
            category=zone.category,
            unit=zone.task_force if index % 3 else zone.department,
            worker=zone.member if index % 3 else zone.officer,
        )


def test_the_ledger_costs_the_same_queries_for_2_or_20_cases(zone, django_assert_max_num_queries):
    # Given two cases with tasks and verdicts
    _cases(zone, 2)
    with CaptureQueriesContext(connection) as few:
        rows_for_two = len(_rows(case_ledger(Case.objects.all(), today=date(2026, 6, 1))))
    # When there are twenty
    _cases(zone, 18)
    # Then exporting them all takes no more queries than exporting two, and only a handful
    with django_assert_max_num_queries(len(few.captured_queries)):
        data = case_ledger(Case.objects.all(), today=date(2026, 6, 1))
    assert (rows_for_two, len(_rows(data))) == (2, 20)
    assert len(few.captured_queries) <= 2


@pytest.mark.parametrize("header", HEADER)
def test_every_column_has_a_width(db, header):
    sheet = load_workbook(BytesIO(case_ledger(Case.objects.none())), read_only=False).worksheets[0]
    letter = sheet.cell(row=1, column=HEADER.index(header) + 1).column_letter
    assert sheet.column_dimensions[letter].width >= 8
