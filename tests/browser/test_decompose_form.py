"""The decomposition form (分解交办) in a real browser, on a phone and on a desktop: each row's 承办人 list offers
only the people of the unit chosen on that row (searchable), every row — added ones too — carries a due date,
the page fits a 390 px screen, and submitting gives the tasks out."""

import pytest
from django.urls import reverse
from django.utils import timezone

from services.cases import steps as case_services
from services.roles import Role
from services.time import calendar
from tests.browser.conftest import PHONE, screenshot
from tests.factories import DepartmentFactory, TaskForceFactory, UserFactory
from tracker.models import Case, Task

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pass-123456"  # tests.factories.UserFactory
WIDE = {"width": 1440, "height": 900}


def log_in(page, live_server, user):
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_load_state()


def options(page, selector) -> list[str]:
    return page.eval_on_selector_all(f"{selector} option", "els => els.filter(e => e.value).map(e => e.textContent)")


def overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.fixture
def accepted_case(zone):
    """An accepted case, in a zone with a busy department (enough people for a search box), a namesake of the
    department's officer elsewhere, an administrator sitting in the department, and a task force formed for another
    enterprise's case."""
    case = case_services.submit_case(
        actor=zone.enterprise_user,
        enterprise=zone.enterprise,
        category=zone.category,
        title="新厂房用地与供电接入",
        description="扩建厂房需核实用地红线并申请供电增容。",
    )
    case_services.accept_case(actor=zone.concierge, case=case)
    zone.officer.title = "科长"
    zone.officer.save(update_fields=["title"])
    for n in range(8):
        UserFactory(
            full_name=f"规划经办{n}", title="经办人", department=zone.department, roles=[Role.DEPARTMENT_OFFICER]
        )
    power = zone.other_department
    UserFactory(full_name="赵六", title="客户经理", department=power, roles=[Role.DEPARTMENT_OFFICER])
    UserFactory(full_name="系统管理员", department=zone.department, roles=[Role.ADMINISTRATOR])
    other_case = case_services.submit_case(
        actor=zone.other_enterprise_user,
        enterprise=zone.other_enterprise,
        category=zone.category,
        title="扩产用地",
        description="扩产用地需求。",
    )
    TaskForceFactory(
        name="恒远电子扩产专班", is_standing=False, case=other_case, lead_department=DepartmentFactory(code="ndrc")
    )
    return Case.objects.get(pk=case.pk)


def test_decompose_on_a_phone_offers_each_units_people_and_gives_the_tasks_out(page, live_server, zone, accepted_case):
    case = accepted_case
    due = calendar.add_working_days(timezone.localdate(), zone.category.task_days).date.isoformat()

    # Given the concierge on a phone, on the case's 分解交办 page
    page.set_viewport_size(PHONE)
    log_in(page, live_server, zone.concierge)
    page.goto(f"{live_server.url}{reverse('admin:tracker_case_action', args=[case.pk, 'decompose'])}")

    # Then the page fits the screen, and each of the three rows has the default due date
    assert overflow(page) <= PHONE["width"]
    assert [page.input_value(f"#id_tasks-{i}-due_on") for i in range(3)] == [due] * 3
    # And another enterprise's task force is not offered
    assert "恒远电子扩产专班" not in page.inner_text("#id_tasks-0-task_force")
    # And before a unit is chosen no one can be picked
    assert options(page, "#id_tasks-0-assignee") == []

    # When the first row is given to the task force, only its people are offered: its member, then the officers
    # of its lead department — not the administrator sitting there, nor the power company's namesake
    page.fill("#id_tasks-0-title", "核实用地红线")
    page.select_option("#id_tasks-0-task_force", label=zone.task_force.name)
    offered = options(page, "#id_tasks-0-assignee")
    assert offered[0] == "周八"
    assert "赵六（规划建设局 · 科长）" in offered and len(offered) == 10
    assert not any("系统管理员" in name or "供电公司" in name for name in offered)
    # The list is long: a search box narrows it
    search = page.locator("[data-unit-scope]").nth(0).locator(".assignee-search")
    assert search.is_visible()
    search.fill("赵六")
    assert options(page, "#id_tasks-0-assignee") == ["赵六（规划建设局 · 科长）"]
    page.select_option("#id_tasks-0-assignee", label="赵六（规划建设局 · 科长）")

    # The second row goes to the power company: its two officers, the namesake told apart by unit and title
    page.fill("#id_tasks-1-title", "申请供电增容")
    page.select_option("#id_tasks-1-department", label=zone.other_department.name)
    assert sorted(options(page, "#id_tasks-1-assignee")) == ["孙七（供电公司）", "赵六（供电公司 · 客户经理）"]
    assert not page.locator("[data-unit-scope]").nth(1).locator(".assignee-search").is_visible()
    # Choosing a task force on that row instead clears the department
    page.select_option("#id_tasks-1-task_force", label=zone.task_force.name)
    assert page.input_value("#id_tasks-1-department") == ""
    page.select_option("#id_tasks-1-department", label=zone.other_department.name)
    assert page.input_value("#id_tasks-1-task_force") == ""
    page.select_option("#id_tasks-1-assignee", label="孙七（供电公司）")

    # A fourth row added on the page has the due date too
    page.click("[data-add-task-row]")
    assert page.input_value("#id_tasks-3-due_on") == due
    page.fill("#id_tasks-3-title", "出具规划条件")
    page.select_option("#id_tasks-3-department", label=zone.department.name)
    page.fill("#id_tasks-3-due_on", "2027-01-29")
    assert overflow(page) <= PHONE["width"]
    screenshot(page, "decompose-390")

    # On a desktop the rows are a grid that fits as well
    page.set_viewport_size(WIDE)
    assert overflow(page) <= WIDE["width"]
    screenshot(page, "decompose-1440")

    # When the concierge submits, the three filled rows become tasks (the untouched third row is skipped)
    page.click("input[type=submit].default")
    assert "已交办" in page.locator(".messagelist").inner_text()
    tasks = {t.title: t for t in Task.objects.filter(case=case).select_related("task_force", "department")}
    assert set(tasks) == {"核实用地红线", "申请供电增容", "出具规划条件"}
    assert (tasks["核实用地红线"].task_force, tasks["核实用地红线"].assignee) == (zone.task_force, zone.officer)
    assert (tasks["申请供电增容"].department, tasks["申请供电增容"].assignee) == (
        zone.other_department,
        zone.other_officer,
    )
    assert tasks["核实用地红线"].due_on.isoformat() == due
    assert tasks["出具规划条件"].due_on.isoformat() == "2027-01-29"
