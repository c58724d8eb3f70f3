"""What the enterprise does on an open case: add information (a note, files or both) and withdraw it; and what
it is told when the case no longer allows either."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import EnterpriseUserFactory, case_at, snapshot
from tests.portal.conftest import html, messages_of, pdf, section
from tracker.models import Case, CaseEvent, Task

pytestmark = pytest.mark.django_db
CS = Case.Status


def _url(case, step: str) -> str:
    return f"/portal/cases/{case.number}/{step}/"


def _new_events(case, before) -> list[CaseEvent]:
    return list(case.events.filter(pk__gt=before.last_event_id).order_by("id"))


# ---- add information ------------------------------------------------------------------------------------------


def test_add_a_note(portal, zone):
    case = case_at(zone, CS.IN_PROGRESS)
    before = snapshot(case)
    response = portal.post(_url(case, "info"), {"note": "补充：厂房面积 12000 平方米"}, follow=True)
    assert response.redirect_chain == [(f"/portal/cases/{case.number}/", 302)]
    assert "补充材料已提交，服务专员会看到" in messages_of(response)
    (event,) = _new_events(case, before)
    assert event.kind == CaseEvent.Kind.INFO_ADDED and event.note == "补充：厂房面积 12000 平方米"
    assert event.actor == zone.enterprise_user
    assert "补充：厂房面积 12000 平方米" in section(html(response), "timeline")


def test_add_files_only(portal, zone, private_media):
    case = case_at(zone, CS.ACCEPTED)
    response = portal.post(_url(case, "info"), {"files": [pdf("红线图.pdf"), pdf("营业执照.pdf")]}, follow=True)
    assert response.status_code == 200
    assert sorted(case.attachments.values_list("original_name", flat=True)) == ["红线图.pdf", "营业执照.pdf"]
    attachments = section(html(response), "attachments")
    assert "红线图.pdf" in attachments and "营业执照.pdf" in attachments
    assert "上传了附件 红线图.pdf" in section(html(response), "timeline")


def test_add_a_note_and_a_file(portal, zone, private_media):
    case = case_at(zone, CS.RESOLVED)  # a resolved case still takes information while it awaits the verdict
    before = snapshot(case)
    response = portal.post(_url(case, "info"), {"note": "附上验收照片", "files": [pdf("验收.pdf")]})
    assert response.status_code == 302
    events = _new_events(case, before)
    assert [e.kind for e in events] == [CaseEvent.Kind.INFO_ADDED] * 2
    assert events[0].note == "附上验收照片" and events[1].data["file"] == "验收.pdf"


def test_adding_nothing_is_refused_on_the_note(portal, zone):
    case = case_at(zone, CS.SUBMITTED)
    before = snapshot(case)
    response = portal.post(_url(case, "info"), {"note": "   "})
    assert response.status_code == 400
    assert response.context["add_info_form"].errors["note"] == ["请填写补充说明或选择文件"]
    assert "请填写补充说明或选择文件" in html(response)
    assert snapshot(case) == before


def test_a_bad_file_refuses_the_note_too_and_asks_to_reselect(portal, zone, private_media):
    case = case_at(zone, CS.IN_PROGRESS)
    before = snapshot(case)
    fake = SimpleUploadedFile("合同.pdf", b"not a pdf at all", content_type="application/pdf")
    response = portal.post(_url(case, "info"), {"note": "合同见附件", "files": [fake]})
    assert response.status_code == 400
    assert any("合同.pdf" in error for error in response.context["add_info_form"].errors["files"])
    assert "请重新选择" in html(response) and "合同见附件" in html(response)
    assert snapshot(case) == before


def test_information_on_a_closed_case_is_refused_with_a_visible_error(portal, zone):
    # Given a case the enterprise has already confirmed
    case = case_at(zone, CS.CLOSED)
    before = snapshot(case)
    # Then its page offers no way to add information
    assert 'id="add-info-form"' not in html(portal.get(f"/portal/cases/{case.number}/"))
    # And a note sent anyway (from a page opened before) is refused, the reason shown, nothing recorded
    response = portal.post(_url(case, "info"), {"note": "再补充一点"})
    assert response.status_code == 400
    assert response.context["add_info_form"].non_field_errors() == ["诉求“已办结”时不能执行此操作"]
    assert "诉求“已办结”时不能执行此操作" in messages_of(response) and "不能执行此操作" in html(response)
    assert snapshot(case) == before


# ---- withdraw -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [CS.SUBMITTED, CS.ACCEPTED, CS.IN_PROGRESS])
def test_withdraw_before_the_answer(portal, zone, status):
    # Given an open case
    case = case_at(zone, status)
    assert 'id="withdraw-form"' in html(portal.get(f"/portal/cases/{case.number}/"))
    # When the enterprise withdraws it
    response = portal.post(_url(case, "withdraw"), {"reason": "问题已自行解决"}, follow=True)
    # Then it is withdrawn, its open tasks are cancelled, and the page says so
    case.refresh_from_db()
    assert case.status == CS.WITHDRAWN
    assert not case.tasks.exclude(status=Task.Status.CANCELLED).exists()
    assert "诉求已撤回" in messages_of(response)
    assert "您已撤回此诉求" in section(html(response), "next-step")
    assert "撤回了诉求" in section(html(response), "timeline")


def test_withdraw_needs_no_reason(portal, zone):
    case = case_at(zone, CS.SUBMITTED)
    assert portal.post(_url(case, "withdraw"), {}).status_code == 302
    assert Case.objects.get(pk=case.pk).status == CS.WITHDRAWN


def test_after_the_answer_a_case_cannot_be_withdrawn(portal, zone):
    # Given a resolved case
    case = case_at(zone, CS.RESOLVED)
    before = snapshot(case)
    # Then its page has no withdraw button
    assert 'id="withdraw-form"' not in html(portal.get(f"/portal/cases/{case.number}/"))
    # And a withdrawal posted anyway is refused with the reason shown, and nothing changes
    response = portal.post(_url(case, "withdraw"), {"reason": "不想等了"})
    assert response.status_code == 400
    assert response.context["withdraw_form"].non_field_errors()
    assert any("不能执行此操作" in m for m in messages_of(response))
    assert snapshot(case) == before


def test_a_colleague_sees_the_same_case_and_may_act_on_it(client, zone):
    # Given a second user of the same enterprise
    colleague = EnterpriseUserFactory(username="colleague", enterprise=zone.enterprise)
    case = case_at(zone, CS.IN_PROGRESS)
    client.force_login(colleague)
    # Then they may add information to the case their colleague submitted
    assert client.post(_url(case, "info"), {"note": "我是同事，补充说明"}).status_code == 302
    assert case.events.filter(kind=CaseEvent.Kind.INFO_ADDED, actor=colleague).exists()
