"""A case walked through the workbench in a real browser: the concierge accepts and decomposes it, the task
force completes the task, the concierge resolves it — checking what the page shows at each step."""

import pytest

from services.cases import steps as case_services
from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tracker.models import Case, Task

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pass-123456"  # tests.factories.UserFactory


def log_in(page, live_server, user):
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")


def at_phone_size(page, name: str) -> None:
    """Show the page at 390 px, screenshot it, and check nothing is wider than the screen."""
    page.set_viewport_size(PHONE)
    screenshot(page, name)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name


def test_concierge_and_task_force_take_a_case_to_resolution(page, live_server, zone):
    # Given a case the enterprise submitted
    case = case_services.submit_case(
        actor=zone.enterprise_user,
        enterprise=zone.enterprise,
        category=zone.category,
        title="新厂房规划许可办理",
        description="新厂房扩建，规划许可尚未批复，希望协调加快。",
    )

    # When the concierge logs in, they land on their cases, with this one waiting to be accepted
    log_in(page, live_server, zone.concierge)
    page.wait_for_url("**/admin/tracker/case/?queue=mine&state=open")
    row = page.locator("#result_list tbody tr", has_text=case.number)
    assert "待受理" in row.inner_text()
    screenshot(page, "queue-1440")
    # On a phone the queue is a stack of cards, each cell under its column's name, nothing wider than the screen
    at_phone_size(page, "queue-390")
    assert row.locator("td.field-title").get_attribute("data-label") == "标题"
    page.set_viewport_size(DESKTOP)
    row.get_by_role("link", name=case.number).click()

    # The case page shows the enterprise and the buttons the concierge may use now
    assert zone.enterprise.name in page.locator(".case-summary").inner_text()
    assert page.locator(".action-bar [data-action]").evaluate_all("els => els.map(e => e.dataset.action)") == [
        "accept",
        "add_info",
        "request_info",
        "decline",
    ]
    screenshot(page, "case-page-submitted-1440")
    at_phone_size(page, "case-page-submitted-390")
    page.set_viewport_size(DESKTOP)
    page.click("[data-action=accept]")
    assert "已受理" in page.locator(".messagelist").inner_text()
    assert "张三 受理了诉求" in page.locator(".timeline").inner_text()

    # Decompose into one task for the land task force, due date pre-filled
    page.click("[data-action=decompose]")
    assert page.input_value("#id_tasks-0-due_on") != ""
    page.fill("#id_tasks-0-title", "核实用地红线并出具意见")
    page.select_option("#id_tasks-0-task_force", label=zone.task_force.name)
    page.click("input[type=submit].default")
    assert "已交办" in page.locator(".messagelist").inner_text()
    assert "办理中" in page.locator(".summary-head").inner_text()
    assert "交办给 用地保障专班" in page.locator(".timeline").inner_text()
    screenshot(page, "case-page-in-progress")

    # The task force member finds the task in their queue, signs for it and completes it
    log_in(page, live_server, zone.member)
    page.wait_for_url("**/admin/tracker/task/?queue=mine&state=open")
    at_phone_size(page, "task-queue-390")
    page.set_viewport_size(DESKTOP)
    page.get_by_role("link", name="核实用地红线并出具意见").click()
    page.click("[data-action=start]")
    assert "已签收" in page.locator(".messagelist").inner_text()
    page.click("[data-action=complete]")
    page.click("input[type=submit].default")  # empty result: refused on the field
    assert "此项不能为空" in page.locator(".errorlist").inner_text()
    page.fill("#id_result", "用地红线已核实，符合规划。")
    page.click("input[type=submit].default")
    assert "已办结" in page.locator(".summary-head").inner_text()
    assert Task.objects.get(case=case).status == Task.Status.DONE

    # The concierge answers the enterprise
    log_in(page, live_server, zone.concierge)
    page.goto(f"{live_server.url}/admin/tracker/case/{case.pk}/change/")
    page.click("[data-action=resolve]")
    page.fill("#id_answer", "规划许可已批复，请到政务服务中心领取。")
    page.click("input[type=submit].default")
    assert "等待企业验收" in page.locator(".messagelist").inner_text()
    assert "待验收" in page.locator(".summary-head").inner_text()
    assert Case.objects.get(pk=case.pk).status == Case.Status.RESOLVED
    screenshot(page, "case-page-resolved")

    # The leader's dashboard, on a desktop and on a phone
    log_in(page, live_server, zone.leader)
    page.wait_for_url("**/admin/dashboard/")
    assert page.locator(".ring-chart > svg").count() == 1
    assert page.locator(".legend .swatch").first.bounding_box()["width"] == 10  # a small square beside each status
    # Each category has its bar (SVG, no inline style), as long as its share of the largest: that one fills its cell
    cell = page.locator("table.bars svg.bar").first.bounding_box()["width"]
    lengths = page.locator("table.bars svg.bar rect").evaluate_all("rs => rs.map(r => r.getBoundingClientRect().width)")
    assert cell > 0 and max(lengths) == cell
    screenshot(page, "dashboard")
    page.set_viewport_size(PHONE)
    screenshot(page, "dashboard-phone")
