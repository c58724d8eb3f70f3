"""An enterprise user's whole journey through the portal in a real browser, on a desktop and on a phone: log in,
submit an issue with a PDF, follow it while staff accept, dispatch and answer it (through the services), read
the notices, reject the first answer, and confirm the second with a rating. Screenshots of each step go to
test-artifacts/browser/portal-<step>-<size>.png."""

import re

import pytest

from services.cases import steps as case_services
from services.cases import tasks as task_services
from services.cases.tasks import TaskSpec
from tests.browser.conftest import DESKTOP, PHONE, csp_checked_context, screenshot
from tracker.models import Attachment, Case, Feedback, Notification, Task

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pass-123456"  # tests.factories.UserFactory
SIZES = {"desktop": DESKTOP, "phone": PHONE}
PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


@pytest.fixture(params=list(SIZES), ids=list(SIZES))
def size(request) -> str:
    return request.param


@pytest.fixture
def portal_page(browser, size):
    """A fresh browser context at `size`; the phone is emulated as one (meta viewport honoured, touch)."""
    phone = size == "phone"
    options = {"viewport": SIZES[size], "locale": "zh-CN", "is_mobile": phone, "has_touch": phone}
    with csp_checked_context(browser, **options) as context:
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page


class Portal:
    """The steps a person takes on the portal, at one screen size, with the checks every page must pass."""

    def __init__(self, page, live_server, size: str):
        self.page = page
        self.base = f"{live_server.url}/portal"
        self.size = size
        self.phone = size == "phone"

    def check_layout(self) -> None:
        """Styled (Bootstrap and the portal's sheet loaded), the Chinese font in use, and nothing wider than the
        screen on a phone."""
        page = self.page
        assert page.evaluate("getComputedStyle(document.querySelector('.portal-header')).borderBottomStyle") == "solid"
        assert "Noto Sans CJK SC" in page.evaluate("getComputedStyle(document.body).fontFamily")
        if self.phone:
            widths = page.evaluate("({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
            assert widths["scroll"] <= widths["inner"] == PHONE["width"], widths

    def shot(self, step: str) -> None:
        self.check_layout()
        screenshot(self.page, f"portal-{step}-{self.size}")

    def goto(self, path: str = "/") -> None:
        self.page.goto(f"{self.base}{path}")

    def menu(self, name: str, shot: str | None = None) -> None:
        """Follow a link of the navbar; on the phone the menu is collapsed behind the toggler first."""
        page = self.page
        toggler = page.locator(".navbar-toggler")
        if self.phone:
            assert page.locator("#portal-nav").is_hidden()
            toggler.click()
            page.locator("#portal-nav.show").wait_for()
            page.wait_for_function("!document.querySelector('#portal-nav').classList.contains('collapsing')")
            if shot:
                self.shot(shot)
        else:
            assert toggler.is_hidden()
        page.locator("#portal-nav").get_by_role("link", name=name).click()

    def status(self) -> str:
        return self.page.locator(".case-head .status-badge").inner_text()

    def next_step(self) -> str:
        return self.page.locator("[data-role=next-step]").inner_text()

    def timeline(self) -> str:
        return self.page.locator("[data-role=timeline]").inner_text()

    def message(self) -> str:
        return self.page.locator(".portal-message").inner_text()


def test_enterprise_user_submits_follows_rejects_and_confirms(
    portal_page, live_server, zone, private_media, size, tmp_path
):
    page = portal_page
    portal = Portal(page, live_server, size)
    user = zone.enterprise_user

    # ---- Log in: the login page first shows a mismatch in place, then lets the user in -----------------------
    portal.goto("/cases/new/")
    page.wait_for_url("**/portal/login/?next=/portal/cases/new/")
    assert page.locator(".navbar-toggler").count() == 0  # no menu before signing in
    portal.shot("login")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "wrong-password")
    page.get_by_role("button", name="登录").click()
    assert "与密码不匹配" in page.locator(".login-wrap .alert-danger").inner_text()
    portal.shot("login-error")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()

    # ---- Submit an issue: the empty form is refused field by field, the full one is taken -------------------
    page.wait_for_url("**/portal/cases/new/")
    assert page.locator("#portal-nav .nav-link.active").inner_text() == "提交诉求"
    page.locator("#submit-form button[type=submit]").click()
    assert "提交的内容有误" in page.locator("#submit-form .alert-danger").inner_text()
    assert page.locator("[data-field=category]").is_visible()
    assert page.locator("#submit-form .invalid-feedback").count() >= 3  # category, title, description
    portal.shot("submit-errors")

    page.get_by_text(zone.category.name, exact=True).click()  # the label of the category's radio
    assert page.is_checked(f"#category-{zone.category.pk}")
    page.fill("#id_title", "新厂房用地红线核实")
    page.fill("#id_description", "新厂房扩建需核实用地红线，规划许可尚未批复，希望协调加快。")
    page.get_by_label("紧急", exact=True).check()
    pdf = tmp_path / "用地红线图.pdf"
    pdf.write_bytes(PDF)
    page.set_input_files("#id_files", str(pdf))
    portal.shot("submit-filled")
    page.locator("#submit-form button[type=submit]").click()

    # ---- The case page: waiting to be accepted --------------------------------------------------------------
    page.wait_for_url(re.compile(r"/portal/cases/[^/]+/$"))
    case = Case.objects.get(enterprise=zone.enterprise)
    assert page.url.endswith(f"/portal/cases/{case.number}/")
    assert case.status == Case.Status.SUBMITTED and case.urgency == Case.Urgency.URGENT
    assert case.channel == Case.Channel.PORTAL and case.category == zone.category
    assert f"诉求已提交，编号 {case.number}" in portal.message()
    assert portal.status() == "待受理"
    assert "等待服务专员受理" in portal.next_step()
    assert page.locator(".case-head h1").inner_text() == "新厂房用地红线核实"
    assert "紧急" in page.locator(".case-head .case-number").inner_text()
    assert "提交了诉求" in portal.timeline()
    assert zone.concierge.display_name in page.locator("[data-role=concierge]").inner_text()
    attachment = Attachment.objects.get(case=case)
    assert attachment.original_name == "用地红线图.pdf" and attachment.content_type == "application/pdf"
    file_link = page.locator("[data-role=attachments]").get_by_role("link", name="用地红线图.pdf")
    with page.expect_download() as download:
        file_link.click()
    assert download.value.suggested_filename == "用地红线图.pdf"
    assert page.locator("#withdraw").is_visible()  # withdrawing is possible before it is answered
    assert page.locator("[data-role=verdict]").count() == 0
    portal.shot("case-submitted")

    # ---- The concierge accepts and dispatches; the task force does the work --------------------------------
    case_services.accept_case(actor=zone.concierge, case=case)
    page.reload()
    assert portal.status() == "已受理"
    assert "服务专员已受理" in portal.next_step()
    assert "张三 受理了诉求" in portal.timeline()

    [task] = task_services.decompose_case(
        actor=zone.concierge, case=case, tasks=[TaskSpec(title="核实用地红线并出具意见", task_force=zone.task_force)]
    )
    page.reload()
    assert portal.status() == "办理中"
    assert "等待专班办理" in portal.next_step()
    assert "交办给 用地保障专班" in portal.timeline()
    portal.shot("case-in-progress")

    task_services.start_task(actor=zone.member, task=task)
    task_services.complete_task(actor=zone.member, task=task, result="用地红线已核实，符合规划。")
    assert Task.objects.get(pk=task.pk).status == Task.Status.DONE
    case_services.resolve_case(
        actor=zone.concierge, case=case, answer="用地红线已核实，规划许可已批复，请到政务服务中心领取。"
    )

    # ---- The home page calls for a verdict ------------------------------------------------------------------
    portal.menu("我的诉求")
    page.wait_for_url("**/portal/")
    callout = page.locator("[data-role=awaiting-callout]")
    assert "有 1 件诉求已答复，等待您验收" in callout.inner_text()
    row = page.locator(f"[data-case='{case.number}']")
    assert "待验收" in row.inner_text()
    assert "查看答复并验收" in row.inner_text()
    assert zone.enterprise.name in page.locator("aside").inner_text()
    portal.shot("home")
    callout.get_by_role("link", name="去验收").click()
    page.wait_for_url("**/portal/?show=awaiting")
    assert page.locator(".case-item").count() == 1

    # ---- The notices: three, of which only the answer is unread (the case page was open for the others) -------
    badge = page.locator("#portal-nav .unread-count")
    assert badge.inner_text() == "1"
    if portal.phone:  # the count shows without opening the menu
        assert page.locator(".navbar-toggler .toggler-unread").inner_text() == "1"
    portal.menu("消息", shot="menu")
    page.wait_for_url("**/portal/notifications/")
    notices = page.locator("[data-role=notifications] .notice")
    assert notices.count() == 3
    assert page.locator("[data-role=notifications] .notice.unread").count() == 1
    texts = notices.all_inner_texts()
    assert ["收到答复，请验收" in texts[0], "诉求已交办" in texts[1], "诉求已受理" in texts[2]] == [True] * 3
    assert all(case.number in text for text in texts) and "未读" in texts[0]
    portal.shot("notifications")
    notices.first.get_by_role("button").click()

    # ---- The case page with the answer and the verdict panel ------------------------------------------------
    page.wait_for_url(f"**/portal/cases/{case.number}/")
    assert badge.count() == 0
    assert Notification.objects.filter(recipient=user, read_at__isnull=True).count() == 0
    assert portal.status() == "待验收"
    assert "请您在" in portal.next_step() and "前验收" in portal.next_step()
    assert "规划许可已批复" in page.locator("[data-role=answer]").inner_text()
    assert "作出办结答复，等待企业验收" in portal.timeline()
    verdict = page.locator("[data-role=verdict]")
    assert verdict.is_visible()
    assert page.locator("#withdraw").count() == 0
    portal.shot("case-resolved")

    # ---- Not satisfied: the reason is required, then the case goes back to work ------------------------------
    verdict.get_by_role("tab", name="不满意，退回重办").click()
    reopen_form = page.locator("#reopen-form")
    reopen_form.wait_for()
    reopen_form.get_by_role("button", name="退回重办").click()
    page.wait_for_url(f"**/portal/cases/{case.number}/reopen/")
    assert page.locator("#pane-reopen").is_visible()  # the refused form is shown again, on its tab
    assert "此项不能为空" in page.locator("#reopen-form .invalid-feedback").inner_text()
    assert page.locator("#reopen-form textarea[name=reason]").get_attribute("class").count("is-invalid") == 1
    assert Case.objects.get(pk=case.pk).status == Case.Status.RESOLVED
    portal.shot("reopen-errors")
    page.fill("#reopen-form textarea[name=reason]", "许可证领取地址不明确，请补充办理窗口和所需材料。")
    reopen_form.get_by_role("button", name="退回重办").click()

    page.wait_for_url(f"**/portal/cases/{case.number}/")
    assert "已退回重办" in portal.message()
    assert portal.status() == "办理中"
    assert "退回重办：许可证领取地址不明确" in portal.timeline()
    assert page.locator("[data-role=answer]").count() == 0  # the answer sent back is no longer shown as the answer
    assert "规划许可已批复" in portal.timeline()  # but stays on the record
    assert page.locator("[data-role=verdict]").count() == 0
    assert Feedback.objects.get(case=case).verdict == Feedback.Verdict.REOPEN
    portal.shot("case-reopened")

    # ---- The concierge answers again; the user confirms with a rating ---------------------------------------
    case_services.resolve_case(
        actor=zone.concierge, case=case, answer="办理窗口：政务服务中心二楼 12 号窗口，携带营业执照原件即可领取。"
    )
    page.reload()
    assert portal.status() == "待验收"
    assert "二楼 12 号窗口" in page.locator("[data-role=answer]").inner_text()
    verdict_form = page.locator("#confirm-form")
    assert verdict_form.is_visible()  # the confirm tab is the one open
    verdict_form.get_by_role("button", name="确认办结").click()  # no rating yet: refused on the rating
    page.wait_for_url(f"**/portal/cases/{case.number}/confirm/")
    assert "请选择满意度" in page.locator("#confirm-form [data-field=rating]").inner_text()
    verdict_form.locator("label", has_text=re.compile(r"^满意$")).click()
    assert page.is_checked("#rating-4")
    page.fill("#confirm-form textarea[name=comment]", "办理及时，服务专员很负责。")
    portal.shot("verdict-filled")
    verdict_form.get_by_role("button", name="确认办结").click()

    # ---- Closed: the rating shows, the verdict panel is gone -------------------------------------------------
    page.wait_for_url(f"**/portal/cases/{case.number}/")
    assert "感谢您的评价，诉求已办结" in portal.message()
    assert portal.status() == "已办结"
    assert "已办结" in portal.next_step()
    feedback = page.locator("[data-role=feedback]")
    assert "满意" in feedback.inner_text() and "办理及时，服务专员很负责。" in feedback.inner_text()
    assert "确认办结，评价：满意" in portal.timeline()
    assert page.locator("[data-role=verdict]").count() == 0
    assert page.locator("#add-info").count() == 0 and page.locator("#withdraw").count() == 0
    assert "办结时间" in page.locator(".case-facts").inner_text()
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED
    assert Feedback.objects.filter(case=case).latest("created_at").rating == Feedback.Rating.SATISFIED
    portal.shot("closed")

    # The home page now lists it among the finished, with nothing awaiting a verdict
    portal.menu("我的诉求")
    page.wait_for_url("**/portal/")
    assert page.locator("[data-role=awaiting-callout]").count() == 0
    assert "已办结" in page.locator(f"[data-case='{case.number}']").inner_text()
