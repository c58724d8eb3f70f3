"""The case page: the timeline in plain words (without the units' internal exchanges), the concierge, the answer,
and the concierge's request for more information."""

from datetime import timedelta

import pytest

from services.cases import steps as case_services
from services.cases import tasks as task_services
from tests.factories import EnterpriseUserFactory, case_at
from tests.portal.conftest import html, section
from tracker.models import Case

pytestmark = pytest.mark.django_db
CS = Case.Status


def _page(client, case) -> str:
    response = client.get(f"/portal/cases/{case.number}/")
    assert response.status_code == 200
    return html(response)


def test_the_timeline_tells_the_steps_in_plain_words(portal, zone):
    # Given a case accepted by 张三 and given to the land task force
    case = case_at(zone, CS.IN_PROGRESS)
    # When the enterprise opens it
    timeline = section(_page(portal, case), "timeline")
    # Then each step reads as a sentence, in order
    submitted = f"{zone.enterprise_user.display_name} 提交了诉求"
    assert submitted in timeline and "张三 受理了诉求" in timeline
    assert "张三 分解了诉求，开始办理" in timeline
    assert "将“协调规划许可”交办给 用地保障专班，期限" in timeline
    assert timeline.index(submitted) < timeline.index("张三 受理了诉求") < timeline.index("交办给 用地保障专班")
    # And the next step says when an answer can be expected
    assert "等待专班办理，预计" in section(_page(portal, case), "next-step")


def test_the_timeline_hides_the_units_internal_exchanges(portal, zone):
    # Given a task force that asks for more time, then hands its task back with a reason
    case = case_at(zone, CS.IN_PROGRESS)
    task = case.tasks.get()
    task_services.request_extension(
        actor=zone.member, task=task, requested_due_on=task.due_on + timedelta(days=30), reason="等待上级批复"
    )
    task_services.return_task(actor=zone.member, task=task, reason="不属于本单位职责")
    # When the enterprise opens the case
    page = _page(portal, case)
    # Then neither the request nor the return, nor their reasons, are shown; the steps taken for it still are
    for internal in ("等待上级批复", "申请将", "延期", "退回了", "不属于本单位职责"):
        assert internal not in page, internal
    assert "交办给 用地保障专班" in section(page, "timeline")
    # (they were written: staff see them)
    staff_events = {event.kind for event in case.events.all()}
    assert {"extension_requested", "task_returned"} <= staff_events


def test_the_concierge_is_named_with_a_phone_number(portal, zone):
    zone.concierge.phone = "0512-57001234"
    zone.concierge.save(update_fields=["phone"])
    concierge = section(_page(portal, case_at(zone, CS.SUBMITTED)), "concierge")
    assert "张三" in concierge and "0512-57001234" in concierge


def test_the_answer_is_shown_once_resolved_with_the_verdict_form(portal, zone):
    # Before the answer, there is none to show and nothing to verdict
    in_progress = _page(portal, case_at(zone, CS.IN_PROGRESS))
    assert section(in_progress, "answer") is None and section(in_progress, "verdict") is None
    # Once resolved, the answer is shown, the next step asks for the verdict by a date, and the form is there
    page = _page(portal, case_at(zone, CS.RESOLVED))
    assert "规划许可已批复，可领取证书。" in section(page, "answer")
    assert "请您在" in section(page, "next-step") and "前验收" in section(page, "next-step")
    assert "确认办结" in section(page, "verdict") and 'name="rating"' in page
    assert "张三 作出办结答复，等待企业验收" in section(page, "timeline")


def test_a_closed_case_shows_the_enterprises_own_rating(portal, zone):
    page = _page(portal, case_at(zone, CS.CLOSED))
    assert "非常满意" in section(page, "feedback") and "感谢" in section(page, "feedback")
    assert section(page, "verdict") is None and 'id="add-info-form"' not in page


def test_a_request_for_information_is_shown_until_answered(portal, zone):
    # Given the concierge asks for the red-line map
    case = case_at(zone, CS.ACCEPTED)
    case_services.request_case_info(actor=zone.concierge, case=case, note="请补充用地红线图")
    # Then the case page asks for it, with who asked
    banner = section(_page(portal, case), "info-request")
    assert "张三 请您补充材料" in banner and "请补充用地红线图" in banner
    assert "张三 请企业补充材料：请补充用地红线图" in section(_page(portal, case), "timeline")
    # And once the enterprise has added information, the request is no longer shown
    portal.post(f"/portal/cases/{case.number}/info/", {"note": "红线图已上传到园区邮箱"})
    assert section(_page(portal, case), "info-request") is None


def test_a_declined_case_shows_the_reason(portal, zone):
    page = _page(portal, case_at(zone, CS.DECLINED))
    assert "张三 不予受理：不属于服务范围" in section(page, "timeline")
    assert "不予受理" in section(page, "next-step")


def test_a_request_answered_by_a_colleague_is_answered_for_everyone(client, zone):
    # Given the concierge asks for information, and first adds a note of their own
    case = case_at(zone, CS.ACCEPTED)
    case_services.request_case_info(actor=zone.concierge, case=case, note="请补充用地红线图")
    case_services.add_case_info(actor=zone.concierge, case=case, note="已电话联系企业")
    client.force_login(zone.enterprise_user)
    assert section(_page(client, case), "info-request") is not None  # a staff note answers nothing
    # When a colleague of the enterprise sends the information
    colleague = EnterpriseUserFactory(username="colleague", enterprise=zone.enterprise)
    case_services.add_case_info(actor=colleague, case=case, note="红线图已发送")
    # Then the request is no longer shown to the first user either
    assert section(_page(client, case), "info-request") is None


def test_a_units_own_words_on_a_task_stay_with_staff(portal, zone):
    # Given a task the unit completed with an internal remark, and the concierge's answer
    case = case_at(zone, CS.IN_PROGRESS)
    task = case.tasks.get()
    task_services.start_task(actor=zone.member, task=task)
    task_services.complete_task(actor=zone.member, task=task, result="内部：已电话协调规划科长")
    case_services.resolve_case(actor=zone.concierge, case=case, answer="规划许可已批复")
    # Then the enterprise reads that the task was done and the answer, not the unit's remark
    page = html(portal.get(f"/portal/cases/{case.number}/"))
    timeline = section(page, "timeline")
    assert "办结了“" in timeline and "规划许可已批复" in timeline
    assert "内部：已电话协调规划科长" not in page
