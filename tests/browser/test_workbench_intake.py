"""Intake and staff files in a real browser: a concierge registers a case received by phone with a PDF (登记诉求),
the enterprise user reads the notice in the portal; a department officer completes a task with a reply letter kept
to staff. Screenshots at 1440 and 390 px: workbench-intake-*.png, workbench-intake-case-*.png,
task-complete-file-*.png."""

import pytest

from services.cases import steps as case_services
from services.cases import tasks as task_services
from services.cases.tasks import TaskSpec
from tests.browser.conftest import screenshot
from tests.factories import PDF
from tracker.models import Attachment, Case, Notification, Task

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pass-123456"  # tests.factories.UserFactory
WIDE = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def log_in(page, live_server, user, *, portal=False):
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/{'portal' if portal else 'admin'}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.locator("form [type=submit]").first.click()
    page.wait_for_load_state()


def both_sizes(page, name: str) -> None:
    """Screenshots at 1440 and 390 px; on the phone nothing may be wider than the screen."""
    page.set_viewport_size(WIDE)
    screenshot(page, f"{name}-1440")
    page.set_viewport_size(PHONE)
    widths = page.evaluate("({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    screenshot(page, f"{name}-390")
    assert widths["scroll"] <= widths["inner"], (name, widths)
    page.set_viewport_size(WIDE)


def choose_enterprise(page, typed: str, label: str) -> None:
    """Django admin's autocomplete (select2): open it, type, pick the result."""
    page.click(".field-enterprise .select2-selection")
    page.fill(".select2-container--open .select2-search__field", typed)
    page.locator(".select2-results__option", has_text=label).click()


def test_a_concierge_registers_a_phone_call_and_the_enterprise_reads_the_notice(page, live_server, zone, tmp_path):
    letter = tmp_path / "增容申请.pdf"
    letter.write_bytes(PDF)

    # Given the concierge on their case list, they press 登记诉求
    log_in(page, live_server, zone.concierge)
    page.set_viewport_size(WIDE)
    page.goto(f"{live_server.url}/admin/tracker/case/")
    page.get_by_role("link", name="登记诉求").click()
    page.wait_for_url("**/admin/tracker/case/add/")

    # When they find the enterprise by part of its name and note down the call, with the PDF the caller sent
    choose_enterprise(page, "精密", zone.enterprise.name)
    assert page.is_checked("input[name=channel][value=phone]")  # a call is the usual case
    page.fill("#id_caller_name", "王经理")
    page.fill("#id_caller_phone", "138 1234 5678")
    page.select_option("#id_category", label=zone.category.name)
    page.check("input[name=urgency][value=urgent]")
    page.fill("#id_title", "新厂房用电增容")
    page.fill("#id_description", "企业来电：新厂房下月投产，需增容至 2000 千伏安，请协调供电公司。")
    page.set_input_files("#id_files", str(letter))
    both_sizes(page, "workbench-intake")

    # A phone number that is not one is refused on its field, what was typed stays
    page.fill("#id_caller_phone", "138123")
    page.click("input[type=submit].default")
    assert "请填写有效的手机号或固定电话" in page.locator(".field-caller_phone .errorlist").inner_text()
    assert page.input_value("#id_title") == "新厂房用电增容" and Case.objects.count() == 0
    assert "增容申请.pdf" in page.locator(".files-reselect").inner_text()
    both_sizes(page, "workbench-intake-error")
    page.fill("#id_caller_phone", "138 1234 5678")
    page.set_input_files("#id_files", str(letter))
    page.click("input[type=submit].default")

    # Then the new case's page shows it, with the channel, the caller and the file
    case = Case.objects.get()
    page.wait_for_url(f"**/admin/tracker/case/{case.pk}/change/")
    assert f"已登记诉求 {case.number}" in page.locator(".messagelist").inner_text()
    summary = page.locator(".case-summary").inner_text()
    assert "来电" in summary and "王经理" in summary and "138 1234 5678" in summary
    assert "增容申请.pdf" in page.locator("[data-role=attachments]").inner_text()
    assert "张三 登记了诉求（来电）" in page.locator(".timeline").inner_text()
    both_sizes(page, "workbench-intake-case")

    # And the enterprise's user finds the notice in the portal's 消息
    log_in(page, live_server, zone.enterprise_user, portal=True)
    page.goto(f"{live_server.url}/portal/notifications/")
    notice = page.locator("[data-role=notifications] li").first.inner_text()
    assert "工作人员为您登记了诉求" in notice and case.number in notice and "来源：来电" in notice
    both_sizes(page, "portal-case-filed-notice")
    assert Notification.objects.filter(recipient=zone.enterprise_user, kind=Notification.Kind.CASE_FILED).exists()


def test_a_department_officer_completes_a_task_with_a_reply_letter(page, live_server, zone, tmp_path):
    letter = tmp_path / "复函.pdf"
    letter.write_bytes(PDF)
    # Given a case dispatched to the officer's department
    case = case_services.submit_case(
        actor=zone.enterprise_user,
        enterprise=zone.enterprise,
        category=zone.category,
        title="新厂房规划许可办理",
        description="新厂房扩建，规划许可尚未批复，希望协调加快。",
    )
    case_services.accept_case(actor=zone.concierge, case=case)
    (task,) = task_services.decompose_case(
        actor=zone.concierge, case=case, tasks=[TaskSpec(title="出具规划意见", department=zone.department)]
    )

    # When the officer signs for it and completes it with the reply letter, on a phone
    log_in(page, live_server, zone.officer)
    page.goto(f"{live_server.url}/admin/tracker/task/{task.pk}/change/")
    page.click("[data-action=start]")
    page.click("[data-action=complete]")
    page.fill("#id_result", "规划意见已出具，同意扩建，详见复函。")
    page.set_input_files("#id_files", str(letter))
    assert page.is_checked("input[name=files_seen_by][value=staff]")  # kept to staff unless the unit shares them
    both_sizes(page, "task-complete-file")
    page.click("input[type=submit].default")

    # Then the task is done and the letter is listed on its page, kept to staff
    assert "已办结" in page.locator(".summary-head").inner_text()
    files = page.locator("[data-role=attachments]").inner_text()
    assert "复函.pdf" in files and "仅工作人员可见" in files and "赵六" in files
    assert Task.objects.get(pk=task.pk).status == Task.Status.DONE
    attachment = Attachment.objects.get()
    assert attachment.task_id == task.pk and attachment.staff_only
    both_sizes(page, "task-complete-file-done")

    # And the enterprise does not see it in the portal
    log_in(page, live_server, zone.enterprise_user, portal=True)
    page.goto(f"{live_server.url}/portal/cases/{case.number}/")
    assert "复函.pdf" not in page.content()
