"""The enterprise's verdict on an answer: confirm with a 1-5 rating (the case closes), or reopen with a reason
(the case goes back to work). Each only once, on a resolved case."""

import pytest

from tests.factories import case_at, snapshot
from tests.portal.conftest import html, messages_of, section
from tracker.models import Case, Feedback

pytestmark = pytest.mark.django_db
CS = Case.Status


def _confirm(client, case, **data):
    return client.post(f"/portal/cases/{case.number}/confirm/", data)


def _reopen(client, case, **data):
    return client.post(f"/portal/cases/{case.number}/reopen/", data)


@pytest.mark.parametrize(
    ("rating", "label"), [(1, "非常不满意"), (2, "不满意"), (3, "基本满意"), (4, "满意"), (5, "非常满意")]
)
def test_confirm_with_each_rating(portal, zone, rating, label):
    # Given a resolved case
    case = case_at(zone, CS.RESOLVED)
    # When the enterprise confirms it with a rating and a comment
    response = _confirm(portal, case, rating=str(rating), comment="响应及时")
    # Then the case is closed, the verdict is the enterprise's own, and the page thanks them and shows it
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CS.CLOSED and case.closed_at is not None
    feedback = case.feedback.get()
    assert (feedback.verdict, feedback.rating, feedback.source) == ("confirm", rating, "enterprise")
    assert feedback.comment == "响应及时" and feedback.recorded_by == zone.enterprise_user
    page = portal.get(response["Location"])
    assert "感谢您的评价，诉求已办结" in messages_of(page)
    assert label in section(html(page), "feedback")
    assert f"确认办结，评价：{label}" in section(html(page), "timeline")


def test_confirm_without_a_rating_asks_for_one(portal, zone):
    case = case_at(zone, CS.RESOLVED)
    before = snapshot(case)
    response = _confirm(portal, case, comment="还行")
    assert response.status_code == 400
    assert response.context["confirm_form"].errors["rating"]
    assert 'data-field="rating"' in html(response) and "请选择满意度" in html(response)
    assert snapshot(case) == before
    # And the comment typed is kept
    assert "还行" in html(response)


def test_a_rating_out_of_range_is_refused(portal, zone):
    case = case_at(zone, CS.RESOLVED)
    before = snapshot(case)
    response = _confirm(portal, case, rating="6")
    assert response.status_code == 400 and response.context["confirm_form"].errors["rating"]
    assert snapshot(case) == before


def test_a_closed_case_cannot_be_rated_again(portal, zone):
    # Given a case the enterprise already confirmed (rated 5)
    case = case_at(zone, CS.CLOSED)
    before = snapshot(case)
    assert section(html(portal.get(f"/portal/cases/{case.number}/")), "verdict") is None
    # When a second rating is posted
    response = _confirm(portal, case, rating="1", comment="改主意了")
    # Then it is refused with the reason shown, and the first rating stands
    assert response.status_code == 400
    assert any("不能执行此操作" in m for m in messages_of(response))
    assert snapshot(case) == before
    assert case.feedback.get().rating == 5


def test_reopen_needs_a_reason(portal, zone):
    case = case_at(zone, CS.RESOLVED)
    before = snapshot(case)
    response = _reopen(portal, case, reason="  ")
    assert response.status_code == 400
    assert response.context["reopen_form"].errors["reason"]
    assert response.context["open_panel"] == "reopen_form"  # the reopen tab is the one shown
    assert snapshot(case) == before


def test_reopen_sends_the_case_back_to_work(portal, zone):
    # Given a resolved case
    case = case_at(zone, CS.RESOLVED)
    # When the enterprise says the answer did not solve the problem
    response = _reopen(portal, case, reason="证书仍未发放")
    # Then the case is back in progress, awaiting the concierge, with the reason on the timeline
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CS.IN_PROGRESS and case.verdict_due_on is None
    feedback = case.feedback.get()
    assert (feedback.verdict, feedback.comment) == (Feedback.Verdict.REOPEN, "证书仍未发放")
    page = portal.get(response["Location"])
    assert "已退回重办，服务专员将继续办理" in messages_of(page)
    assert "对答复不满意，退回重办：证书仍未发放" in section(html(page), "timeline")
    assert section(html(page), "verdict") is None


def test_a_case_not_yet_answered_cannot_be_confirmed(portal, zone):
    case = case_at(zone, CS.IN_PROGRESS)
    before = snapshot(case)
    response = _confirm(portal, case, rating="5")
    assert response.status_code == 400 and any("不能执行此操作" in m for m in messages_of(response))
    assert snapshot(case) == before
