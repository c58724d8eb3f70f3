"""Visits, the dashboard, the Excel ledger and the Excel import, as staff use them in the admin."""

import io
from datetime import timedelta

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import case_at, run_case_action
from tracker.models import Case, Enterprise, Feedback, Visit

pytestmark = pytest.mark.django_db
CS = Case.Status


def _visit_data(zone, problems):
    data = {
        "enterprise": zone.enterprise.pk,
        "visited_on": timezone.localdate().isoformat(),
        "people_met": "总经理 陈总",
        "notes": "了解扩产计划",
        "problems-TOTAL_FORMS": "3",
        "problems-INITIAL_FORMS": "0",
        "problems-MIN_NUM_FORMS": "0",
        "problems-MAX_NUM_FORMS": "1000",
    }
    for i in range(3):
        data[f"problems-{i}-urgency"] = "normal"
    for i, problem in enumerate(problems):
        for key, value in problem.items():
            data[f"problems-{i}-{key}"] = value
    return data


def test_a_concierge_records_a_visit_and_submits_its_problems_as_cases(client, zone):
    client.force_login(zone.concierge)
    form = client.get(reverse("admin:tracker_visit_add") + f"?enterprise={zone.enterprise.pk}")
    assert form.status_code == 200
    page = form.content.decode()
    # Only the enterprises linked to the concierge are offered
    assert zone.enterprise.name in page and zone.other_enterprise.name not in page
    problems = [
        {"category": zone.category.pk, "title": "新厂房用地指标", "description": "扩产需新增用地50亩"},
        {"category": zone.category.pk, "title": "员工公寓配套", "description": "希望协调人才公寓", "urgency": "urgent"},
    ]
    response = client.post(reverse("admin:tracker_visit_add"), _visit_data(zone, problems))
    assert response.status_code == 302
    visit = Visit.objects.get()
    cases = Case.objects.filter(visit=visit).order_by("id")
    assert [c.title for c in cases] == ["新厂房用地指标", "员工公寓配套"]
    assert {c.channel for c in cases} == {Case.Channel.VISIT} and cases[1].urgency == "urgent"


def test_a_visit_with_a_bad_problem_writes_nothing(client, zone):
    client.force_login(zone.concierge)
    problems = [{"category": zone.category.pk, "title": "", "description": "没有标题"}]
    response = client.post(reverse("admin:tracker_visit_add"), _visit_data(zone, problems))
    assert response.status_code == 200
    assert "此项不能为空" in response.content.decode()
    assert not Visit.objects.exists() and not Case.objects.exists()


def test_task_units_cannot_record_visits(client, zone):
    client.force_login(zone.officer)
    assert client.get(reverse("admin:tracker_visit_add")).status_code == 403


def test_dashboard_shows_figures_that_link_to_their_lists(client, zone):
    case_at(zone, CS.CLOSED)
    late = case_at(zone, CS.IN_PROGRESS, title="逾期的诉求")
    late.tasks.update(due_on=timezone.localdate() - timedelta(days=5))
    client.force_login(zone.leader)
    page = client.get(reverse("admin:dashboard")).content.decode()
    assert "<svg" in page  # the chart
    assert "?deadline=overdue" in page  # overdue cases, clickable
    assert f"unit_department={zone.department.pk}" in page  # overdue tasks of the task force's lead department
    assert "100.0%" in page  # one verdict, 非常满意
    # Following the overdue link lists the late case only
    overdue = client.get(reverse("admin:tracker_case_changelist") + "?deadline=overdue").content.decode()
    assert late.number in overdue
    # Coverage links open the enterprise list behind the figure
    response = client.get(reverse("admin:tracker_enterprise_changelist") + "?contact=none")
    assert response.status_code == 200


def test_dashboard_counts_early_phone_verdicts_apart_and_lists_them(client, zone):
    # Given a case the enterprise confirmed itself (非常满意), and one closed on an early callback (不满意)
    case_at(zone, CS.CLOSED)
    early = case_at(zone, CS.RESOLVED, title="提前回访的诉求")
    run_case_action(zone, "callback_confirm", early)
    Feedback.objects.filter(case=early).update(rating=Feedback.Rating.DISSATISFIED)
    client.force_login(zone.leader)
    # When a leader opens the dashboard
    page = client.get(reverse("admin:dashboard")).content.decode()
    # Then the satisfaction rate is the enterprise's own verdict alone, the early phone verdict shown apart
    assert "100.0%" in page and "1 / 1 次评价" in page
    assert "另有 1 次提前电话回访，不计入满意率" in page
    assert "提前电话回访 1 次（其中满意 0 次）" in page
    # And the early verdicts open as a list of their own, filtered by 提前回访
    feedback = client.get(reverse("admin:tracker_feedback_changelist") + "?early__exact=1")
    assert feedback.status_code == 200 and early.number in feedback.content.decode()
    assert "?early__exact=1" in page
    unsatisfied = client.get(reverse("admin:tracker_feedback_changelist") + "?satisfied=no&early__exact=0")
    assert unsatisfied.status_code == 200 and early.number not in unsatisfied.content.decode()


def test_export_gives_the_filtered_list_as_an_excel_ledger(client, zone):
    closed = case_at(zone, CS.CLOSED)
    submitted = case_at(zone, CS.SUBMITTED, title="待受理的诉求")
    client.force_login(zone.concierge)
    response = client.get(reverse("admin:tracker_case_export") + "?status__exact=closed")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    numbers = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert numbers == [closed.number] and submitted.number not in numbers
    # The list page links to the export with its filters
    page = client.get(reverse("admin:tracker_case_changelist") + "?status__exact=closed").content.decode()
    assert reverse("admin:tracker_case_export") + "?status__exact=closed" in page


def _xlsx(rows) -> io.BytesIO:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    buffer.name = "enterprises.xlsx"
    return buffer


HEADER = ["企业名称", "统一社会信用代码", "产业领域", "服务专员"]


def test_import_previews_then_imports_on_confirmation(client, zone):
    import random

    from services.register.uscc import generate_uscc

    rng = random.Random(7)
    codes = [generate_uscc(rng) for _ in range(2)]
    client.force_login(zone.admin)
    url = reverse("admin:tracker_enterprise_import")
    upload = _xlsx(
        [
            HEADER,
            ["昆山新材料有限公司", codes[0], "电子信息", "concierge"],
            ["昆山智造有限公司", codes[1], "电子信息", "张三"],
        ]
    )
    preview = client.post(url, {"kind": "enterprises", "file": upload, "preview": "1"})
    page = preview.content.decode()
    assert preview.status_code == 200 and "昆山新材料有限公司" in page and 'name="confirm"' in page
    assert not Enterprise.objects.filter(name="昆山新材料有限公司").exists()  # the preview writes nothing
    token = preview.context["token"]
    response = client.post(url, {"kind": "enterprises", "token": token, "confirm": "1"})
    assert response.status_code == 302
    assert Enterprise.objects.get(name="昆山智造有限公司").concierge == zone.concierge


def test_import_with_a_bad_row_imports_nothing_and_says_why(client, zone):
    client.force_login(zone.admin)
    url = reverse("admin:tracker_enterprise_import")
    upload = _xlsx([HEADER, ["昆山新材料有限公司", "123", "电子信息", "nobody"]])
    response = client.post(url, {"kind": "enterprises", "file": upload, "preview": "1"})
    page = response.content.decode()
    assert 'name="confirm"' not in page
    assert "nobody" in page and "row-error" in page and "统一社会信用代码：" in page
    assert not Enterprise.objects.filter(name="昆山新材料有限公司").exists()


def test_only_those_who_keep_the_register_import(client, zone):
    # Leaders keep the register (services.register.zone.require_register_keeper): they open the import page too
    client.force_login(zone.leader)
    assert client.get(reverse("admin:tracker_enterprise_import")).status_code == 200
    listed = client.get(reverse("admin:tracker_enterprise_changelist")).content.decode()
    assert reverse("admin:tracker_enterprise_import") in listed
    # A concierge does not
    client.force_login(zone.concierge)
    assert client.get(reverse("admin:tracker_enterprise_import")).status_code == 403
    listed = client.get(reverse("admin:tracker_enterprise_changelist")).content.decode()
    assert reverse("admin:tracker_enterprise_import") not in listed
