"""The concierge's side of the workbench: queue, case page, buttons, refusals, decomposition, callbacks."""

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from services.time import calendar
from tests.factories import case_at
from tracker.models import Case, CaseEvent, Task

pytestmark = pytest.mark.django_db
CS = Case.Status


def _action_url(case, action):
    return reverse("admin:tracker_case_action", args=[case.pk, action])


def _page(client, case) -> str:
    response = client.get(reverse("admin:tracker_case_change", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _buttons(page: str) -> set[str]:
    return set(re.findall(r'data-action="([a-z_]+)"', page))


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_each_role_opens_the_admin_to_its_own_work(client, zone):
    # Given staff of every role, when each opens /admin/, then each lands on their queue
    expectations = {
        zone.concierge: reverse("admin:tracker_case_changelist") + "?queue=mine&state=open",
        zone.officer: reverse("admin:tracker_task_changelist") + "?queue=mine&state=open",
        zone.member: reverse("admin:tracker_task_changelist") + "?queue=mine&state=open",
        zone.leader: reverse("admin:dashboard"),
    }
    for user, target in expectations.items():
        client.force_login(user)
        response = client.get(reverse("admin:index"))
        assert response.status_code == 302 and response["Location"] == target, user.username
    # And `?all=1` still shows the plain index of everything they may open
    client.force_login(zone.concierge)
    assert client.get(reverse("admin:index") + "?all=1").status_code == 200


def test_an_enterprise_user_cannot_use_the_workbench(client, zone):
    client.force_login(zone.enterprise_user)
    response = client.get(reverse("admin:tracker_case_changelist"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_my_cases_lists_linked_cases_urgent_first_and_marks_overdue(client, zone):
    # Given two cases of the concierge's enterprise, the older one critical, and one of another concierge
    older = case_at(zone, CS.SUBMITTED, title="老厂房消防验收")
    Case.objects.filter(pk=older.pk).update(urgency=Case.Urgency.CRITICAL, accept_due_on="2020-01-02")
    newer = case_at(zone, CS.SUBMITTED, title="新员工子女入学")
    theirs = case_at(zone, CS.SUBMITTED, title="别人的诉求")
    Case.objects.filter(pk=theirs.pk).update(enterprise=zone.other_enterprise, concierge=zone.other_concierge)
    client.force_login(zone.concierge)
    # When the concierge opens "my cases"
    page = client.get(reverse("admin:tracker_case_changelist") + "?queue=mine").content.decode()
    # Then both of theirs are listed, the critical one first and marked overdue; the other one is not
    assert older.number in page and newer.number in page and theirs.number not in page
    assert page.index(older.number) < page.index(newer.number)
    assert "badge-overdue" in page[page.index(older.number) - 200 : page.index(older.number) + 300]
    # And the overdue filter finds only the late one
    overdue = client.get(reverse("admin:tracker_case_changelist") + "?deadline=overdue").content.decode()
    assert older.number in overdue and newer.number not in overdue


def test_search_and_enterprise_filter(client, zone):
    case = case_at(zone, CS.SUBMITTED, title="用电增容申请")
    client.force_login(zone.leader)
    url = reverse("admin:tracker_case_changelist")
    assert case.number in client.get(url, {"q": zone.enterprise.uscc}).content.decode()
    assert case.number in client.get(url, {"q": "用电增容"}).content.decode()
    assert case.number in client.get(url, {"enterprise": "精密制造"}).content.decode()
    assert case.number not in client.get(url, {"enterprise": zone.other_enterprise.pk}).content.decode()


def test_buttons_follow_state_and_role(client, zone):
    submitted = case_at(zone, CS.SUBMITTED)
    client.force_login(zone.concierge)
    assert _buttons(_page(client, submitted)) == {"accept", "decline", "add_info", "request_info"}
    # A leader also may reassign the concierge
    client.force_login(zone.leader)
    assert _buttons(_page(client, submitted)) == {"accept", "decline", "add_info", "request_info", "reassign"}
    # A task unit sees the case it works on, but no concierge buttons
    in_progress = case_at(zone, CS.IN_PROGRESS)
    client.force_login(zone.member)
    assert _buttons(_page(client, in_progress)) == set()
    # A resolved case offers the concierge the phone callback, and no resolve
    resolved = case_at(zone, CS.RESOLVED)
    client.force_login(zone.concierge)
    assert _buttons(_page(client, resolved)) == {"callback", "add_info"}


def test_a_concierge_cannot_open_or_act_on_another_concierges_case(client, zone):
    case = case_at(zone, CS.SUBMITTED)
    client.force_login(zone.other_concierge)
    response = client.get(reverse("admin:tracker_case_change", args=[case.pk]))
    assert response.status_code == 302  # the admin's "does not exist" redirect
    assert client.post(_action_url(case, "accept"), {"version": case.version}).status_code == 404
    assert Case.objects.get(pk=case.pk).status == CS.SUBMITTED


def test_accept_from_the_case_page(client, zone):
    case = case_at(zone, CS.SUBMITTED)
    client.force_login(zone.concierge)
    response = client.post(_action_url(case, "accept"), {"version": case.version}, follow=True)
    assert Case.objects.get(pk=case.pk).status == CS.ACCEPTED
    assert "已受理" in _messages(response)
    assert "张三 受理了诉求" in response.content.decode()


def test_a_stale_page_is_refused_with_a_message_and_changes_nothing(client, zone):
    # Given a concierge looking at a submitted case, which a leader then accepts
    case = case_at(zone, CS.SUBMITTED)
    seen_version = case.version
    client.force_login(zone.leader)
    client.post(_action_url(case, "add_info"), {"version": seen_version, "note": "补充说明"})
    events = CaseEvent.objects.count()
    # When the concierge presses "accept" on the page they loaded before
    client.force_login(zone.concierge)
    response = client.post(_action_url(case, "accept"), {"version": seen_version}, follow=True)
    # Then the refusal is shown and nothing changed
    assert any("修改" in m or "刷新" in m for m in _messages(response)), _messages(response)
    assert Case.objects.get(pk=case.pk).status == CS.SUBMITTED
    assert CaseEvent.objects.count() == events


def test_decline_needs_a_reason(client, zone):
    case = case_at(zone, CS.SUBMITTED)
    client.force_login(zone.concierge)
    form_page = client.get(_action_url(case, "decline"))
    assert form_page.status_code == 200 and 'name="reason"' in form_page.content.decode()
    response = client.post(_action_url(case, "decline"), {"version": case.version, "reason": "  "})
    assert response.status_code == 200
    assert "此项不能为空" in response.content.decode()
    assert Case.objects.get(pk=case.pk).status == CS.SUBMITTED
    client.post(_action_url(case, "decline"), {"version": case.version, "reason": "不属于本区服务范围"})
    assert Case.objects.get(pk=case.pk).status == CS.DECLINED


def _decompose_data(case, rows):
    data = {
        "version": case.version,
        "tasks-TOTAL_FORMS": str(len(rows)),
        "tasks-INITIAL_FORMS": "0",
        "tasks-MIN_NUM_FORMS": "0",
        "tasks-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"tasks-{i}-{key}"] = value
    return data


def test_decompose_several_tasks_with_due_dates_prefilled(client, zone):
    case = case_at(zone, CS.ACCEPTED)
    client.force_login(zone.concierge)
    # The form offers rows with the category's working-day limit already filled in
    due = calendar.add_working_days(timezone.localdate(), 10).date
    form_page = client.get(_action_url(case, "decompose")).content.decode()
    assert form_page.count(f'value="{due.isoformat()}"') >= 3
    # When two rows are filled in and the third left as offered
    rows = [
        {"title": "核实用地红线", "task_force": zone.task_force.pk, "due_on": due.isoformat()},
        {"title": "办理规划许可", "department": zone.department.pk, "assignee": zone.officer.pk, "due_on": ""},
        {"due_on": due.isoformat()},
    ]
    response = client.post(_action_url(case, "decompose"), _decompose_data(case, rows))
    assert response.status_code == 302
    # Then two tasks exist and the case is in progress
    tasks = list(Task.objects.filter(case=case).order_by("id"))
    assert [t.title for t in tasks] == ["核实用地红线", "办理规划许可"]
    assert tasks[1].assignee == zone.officer and tasks[1].due_on == due
    assert Case.objects.get(pk=case.pk).status == CS.IN_PROGRESS


def test_decompose_errors_land_on_the_row_and_nothing_is_written(client, zone):
    case = case_at(zone, CS.ACCEPTED)
    client.force_login(zone.concierge)
    rows = [
        {"title": "核实用地红线", "task_force": zone.task_force.pk},
        {"title": "没有承办单位的事项"},
    ]
    response = client.post(_action_url(case, "decompose"), _decompose_data(case, rows))
    assert response.status_code == 200
    assert "请选择承办专班或部门" in response.content.decode()
    assert not Task.objects.filter(case=case).exists()
    assert Case.objects.get(pk=case.pk).status == CS.ACCEPTED


def test_resolve_is_refused_while_a_task_is_open(client, zone):
    case = case_at(zone, CS.IN_PROGRESS)
    client.force_login(zone.concierge)
    response = client.post(_action_url(case, "resolve"), {"version": case.version, "answer": "已协调解决"})
    assert response.status_code == 200
    assert "未办结" in " ".join(_messages(response))
    assert Case.objects.get(pk=case.pk).status == CS.IN_PROGRESS


def test_callback_records_the_verdict_by_phone(client, zone):
    case = case_at(zone, CS.RESOLVED)
    client.force_login(zone.concierge)
    # Confirming without a rating is refused on the field
    response = client.post(_action_url(case, "callback"), {"version": case.version, "verdict": "confirm"})
    assert response.status_code == 200 and "请选择满意度" in response.content.decode()
    # The enterprise's own window is still open: the form says what an early callback needs, and refuses without it
    form = client.get(_action_url(case, "callback")).content.decode()
    assert "回访对象" in form and "提前回访须填写" in form
    response = client.post(
        _action_url(case, "callback"), {"version": case.version, "verdict": "confirm", "rating": "4", "comment": "满意"}
    )
    assert response.status_code == 200 and "提前回访须记录回访对象" in response.content.decode()
    response = client.post(
        _action_url(case, "callback"),
        {
            "version": case.version,
            "verdict": "confirm",
            "rating": "4",
            "comment": "王经理表示满意",
            "contact_name": "王经理",
            "contact_phone": "0512-57001234",
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    feedback = case.feedback.get()
    assert case.status == CS.CLOSED and (feedback.rating, feedback.early, feedback.contact_name) == (4, True, "王经理")


def test_a_leader_reassigns_the_concierge(client, zone):
    case = case_at(zone, CS.ACCEPTED)
    client.force_login(zone.leader)
    response = client.post(
        _action_url(case, "reassign"), {"version": case.version, "concierge": zone.other_concierge.pk, "note": "调整"}
    )
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).concierge == zone.other_concierge
    # A concierge cannot: the service refuses and the page says so
    client.force_login(zone.concierge)
    response = client.post(
        _action_url(case, "reassign"), {"version": case.version, "concierge": zone.concierge.pk, "note": ""}
    )
    assert Case.objects.get(pk=case.pk).concierge == zone.other_concierge


def test_case_page_shows_enterprise_tasks_timeline_and_feedback(client, zone):
    case = case_at(zone, CS.CLOSED)
    client.force_login(zone.concierge)
    page = _page(client, case)
    assert zone.enterprise.name in page and zone.enterprise.uscc in page
    assert "协调规划许可" in page  # the task inline
    assert "张三 受理了诉求" in page and "确认办结" in page  # the timeline
    assert "感谢" in page  # the enterprise's comment
    assert 'name="_save"' not in page
