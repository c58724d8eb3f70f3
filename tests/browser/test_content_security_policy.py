"""The pages whose scripts are not walked by the journeys, in a real browser under the Content-Security-Policy: the
API docs (Swagger UI), Django admin's own widgets (autocomplete, calendar and clock, the two-box group picker), the
language switches, the withdraw confirmation, the error pages and beat's periodic task page. Each page fails its test
if Chromium refuses anything (tests/browser/conftest.py: csp_checked_context)."""

import pytest
from django_celery_beat.models import CrontabSchedule

from services.cases import steps as case_services
from tests.browser.conftest import CSP_VIOLATION, csp_checked_context, screenshot
from tests.browser.test_workbench_intake import log_in
from tests.factories import UserFactory
from tracker.models import Case

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_page_that_breaks_the_policy_fails_its_test(browser, live_server):
    # Given a page of ours under the policy, when something on it runs an inline event handler
    refused = pytest.raises(AssertionError, match="Content-Security-Policy violations")
    with refused, csp_checked_context(browser) as context:
        page = context.new_page()
        page.goto(f"{live_server.url}/portal/login/")
        with page.expect_console_message(lambda message: CSP_VIOLATION.search(message.text)):
            page.evaluate(
                """() => { const b = document.createElement("button"); b.setAttribute("onclick", "void 0");
                           document.body.append(b); b.click(); }"""
            )
    # Then Chromium refused it, and the context closing says so (so the browser tests would fail)


def test_the_api_docs_render_under_the_policy(page, live_server):
    # When someone opens the API docs
    response = page.goto(f"{live_server.url}/api/docs/")
    # Then the page carries the policy and Swagger UI, started by its separate init script, shows the operations
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.locator(".opblock").first.wait_for(state="visible")
    assert page.locator(".opblock-summary-path", has_text="/api/v1/cases/").count() >= 1
    # And an operation opens (Swagger UI's own scripts and styles at work)
    page.locator(".opblock-summary", has_text="/api/v1/categories/").first.click()
    page.locator(".opblock-body").first.wait_for(state="visible")
    screenshot(page, "api-docs")


def test_django_admins_own_widgets_work_under_the_policy(page, live_server, zone):
    # Given the administrator on a staff member's page, which has every kind of Django admin widget
    log_in(page, live_server, zone.admin)
    page.goto(f"{live_server.url}/admin/tracker/user/{zone.officer.pk}/change/")

    # When they pick the department in the autocomplete (select2) by part of its name
    page.click(".field-department .select2-selection")
    page.fill(".select2-container--open .select2-search__field", "供电")
    page.locator(".select2-results__option", has_text="供电公司").click()
    assert "供电公司" in page.locator(".field-department .select2-selection__rendered").inner_text()

    # And the date and time with the admin's calendar and clock
    page.locator(".field-date_joined .datetimeshortcuts").first.get_by_role("link").last.click()  # the calendar
    calendar = page.locator(".calendarbox:visible")
    calendar.wait_for()
    calendar.locator("td a", has_text="15").first.click()
    assert page.input_value("#id_date_joined_0").endswith("15")  # 2026/12/15 in Chinese
    page.locator(".field-date_joined .datetimeshortcuts").last.get_by_role("link").last.click()  # the clock
    page.locator(".clockbox:visible a", has_text="6").first.click()
    assert page.input_value("#id_date_joined_1").startswith("06:00")

    # And a group in the two-box picker (SelectFilter)
    page.select_option("#id_groups_from", label="leader")
    page.click("#id_groups_add")
    assert "leader" in page.locator("#id_groups_to").inner_text()

    # Then saving keeps what the widgets put in
    page.locator("input[name=_continue]").click()
    assert "成功修改" in page.locator(".messagelist").inner_text()
    zone.officer.refresh_from_db()
    assert zone.officer.department == zone.other_department
    assert zone.officer.groups.filter(name="leader").exists()


def test_the_language_switches_change_the_language_on_choosing(page, live_server, zone):
    # Given someone on the portal's login page, when they choose English under it
    page.goto(f"{live_server.url}/portal/login/")
    with page.expect_navigation():
        page.select_option("#portal-language", "en")
    # Then the page comes back in English, and the cookie that remembers it is no script's business
    assert page.locator("html").get_attribute("lang") == "en"
    cookie = next(c for c in page.context.cookies() if c["name"] == "django_language")
    assert cookie["value"] == "en" and cookie["sameSite"] == "Lax" and cookie["httpOnly"]

    # And on the workbench the same switch takes them back to Chinese
    log_in(page, live_server, zone.concierge)
    with page.expect_navigation():
        page.select_option(".language-switch select", "zh-hans")
    assert page.locator("html").get_attribute("lang") == "zh-hans"


def test_withdrawing_a_case_asks_first(page, live_server, zone):
    # Given a case the enterprise submitted, open on the portal with the withdraw panel unfolded
    case = case_services.submit_case(
        actor=zone.enterprise_user,
        enterprise=zone.enterprise,
        category=zone.category,
        title="厂区道路照明",
        description="厂区外道路路灯不亮，夜间通行不便。",
    )
    log_in(page, live_server, zone.enterprise_user, portal=True)
    page.goto(f"{live_server.url}/portal/cases/{case.number}/")
    page.locator("#withdraw summary").click()
    page.fill("#withdraw-form textarea", "问题已经自行解决")

    # When they press 确认撤回 and then cancel the question
    questions = []

    def answer(dialog, accept):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    page.get_by_role("button", name="确认撤回").click()
    # Then nothing was sent
    assert questions == ["确定撤回这件诉求吗？"]
    assert Case.objects.get(pk=case.pk).status == Case.Status.SUBMITTED

    # When they press it again and confirm, the case is withdrawn
    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    with page.expect_navigation():
        page.get_by_role("button", name="确认撤回").click()
    assert len(questions) == 2
    assert Case.objects.get(pk=case.pk).status == Case.Status.WITHDRAWN


def test_the_error_pages_keep_their_own_style_under_the_policy(page, live_server):
    # When someone opens an address that does not exist
    response = page.goto(f"{live_server.url}/no-such-page/")
    # Then the error page, under the policy, is styled by its own inline style (allowed by its hash)
    assert response.status == 404 and "style-src" in response.headers["content-security-policy"]
    assert page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor") == "rgb(29, 79, 145)"


def test_a_periodic_task_spells_out_its_crontab_under_the_policy(page, live_server, zone):
    # Given a weekday-morning schedule, and a superuser on the page adding a periodic task (django-celery-beat's)
    schedule = CrontabSchedule.objects.create(minute="0", hour="9", day_of_week="1-5", timezone="Asia/Shanghai")
    log_in(page, live_server, UserFactory(username="root", is_superuser=True))
    page.goto(f"{live_server.url}/admin/django_celery_beat/periodictask/add/")
    assert page.locator(".field-crontab_translation").is_hidden()
    # When they choose the schedule
    page.select_option("#id_crontab", str(schedule.pk))
    # Then the field's help says what it means in words (beat's script, now a static file)
    assert f"含义：{schedule.human_readable}" in page.locator(".field-crontab .help").inner_text()
