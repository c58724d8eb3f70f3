"""Case endpoints: each action's happy path and its refusals, mapped to the one error shape."""

import pytest

from services.cases import tasks as task_services
from tests.factories import ProjectFactory, after_verdict_window, case_at
from tracker.models import Case, CaseEvent

pytestmark = pytest.mark.django_db


def _nothing_changed(case):
    fresh = Case.objects.get(pk=case.pk)
    return fresh.status == case.status and fresh.version == case.version


# Submit ---------------------------------------------------------------------------------------------------------


def test_staff_submit_on_behalf_of_an_enterprise_named_by_credit_code(zone, api):
    response = api(zone.integration).post(
        "/api/v1/cases/",
        {
            "enterprise_uscc": zone.enterprise.uscc.lower(),
            "category": "land",
            "title": "来电反映道路积水",
            "description": "厂区门口道路雨后积水严重。",
            "channel": "hotline",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["channel"] == "hotline"
    assert Case.objects.get(pk=response.json()["id"]).submitted_by == zone.integration


def test_submit_names_every_bad_field_and_writes_nothing(zone, api):
    response = api(zone.enterprise_user).post(
        "/api/v1/cases/", {"category": "nope", "title": "", "urgency": "whenever"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert {"category", "title", "description", "urgency"} <= set(body["fields"])
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        {"enterprise": 999999},
        {"enterprise_uscc": "91320583MA1XXXXXXX"},
    ],
    ids=["unknown id", "unknown credit code"],
)
def test_submit_for_an_unknown_enterprise_is_a_field_error(zone, api, payload):
    body = {"category": "land", "title": "t", "description": "d", **payload}
    response = api(zone.integration).post("/api/v1/cases/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["enterprise"]
    assert not Case.objects.exists()


def test_an_enterprise_cannot_submit_for_another_nor_tell_it_exists(zone, api):
    # Given the other enterprise exists, When an enterprise user names it
    body = {"category": "land", "title": "t", "description": "d"}
    other = api(zone.enterprise_user).post(
        "/api/v1/cases/", {**body, "enterprise": zone.other_enterprise.pk}, format="json"
    )
    missing = api(zone.enterprise_user).post("/api/v1/cases/", {**body, "enterprise": 999999}, format="json")
    # Then the answer is the same as for an enterprise that does not exist
    assert other.status_code == missing.status_code == 400
    assert other.json() == missing.json()
    assert not Case.objects.exists()


def test_a_project_of_another_enterprise_is_refused_like_a_missing_one(zone, api):
    theirs = ProjectFactory(enterprise=zone.other_enterprise)
    response = api(zone.enterprise_user).post(
        "/api/v1/cases/",
        {"category": "land", "title": "t", "description": "d", "project": theirs.pk},
        format="json",
    )
    assert response.status_code == 400 and list(response.json()["fields"]) == ["project"]
    assert str(theirs.pk) in response.json()["fields"]["project"][0]  # the same words as for an unknown id
    assert theirs.name not in response.content.decode()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"title": ', "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b'{"title": 5, "description": ["x"], "category": {"a": 1}}', "application/json"),
        (b"\xff\xfe garbage", "application/json"),
        (b"title=x", "text/plain"),
    ],
    ids=["truncated JSON", "a list", "wrong types", "not UTF-8", "unsupported media type"],
)
def test_malformed_bodies_get_a_clear_error_never_a_500(zone, api, body, content_type):
    response = api(zone.enterprise_user).generic("POST", "/api/v1/cases/", body, content_type=content_type)
    assert 400 <= response.status_code < 500
    assert {"code", "message", "fields"} <= set(response.json())
    assert not Case.objects.exists()


def test_an_oversized_body_is_refused_with_413_before_it_is_read(zone, api, settings):
    settings.API_MAX_BODY_BYTES = 1000
    response = api(zone.enterprise_user).post(
        "/api/v1/cases/", {"category": "land", "title": "t", "description": "x" * 2000}, format="json"
    )
    assert response.status_code == 413 and response.json()["code"] == "too_large"
    assert not Case.objects.exists()


# Transitions -----------------------------------------------------------------------------------------------------


def test_an_illegal_transition_is_409_with_the_allowed_steps(zone, api):
    case = case_at(zone, Case.Status.SUBMITTED)
    response = api(zone.concierge).post(f"/api/v1/cases/{case.pk}/resolve/", {"answer": "x"}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "illegal_transition" and body["current"] == "submitted"
    assert set(body["allowed"]) >= {"accept", "decline"}
    assert _nothing_changed(case)


def test_a_step_someone_may_not_take_is_403(zone, api):
    case = case_at(zone, Case.Status.SUBMITTED)
    response = api(zone.enterprise_user).post(f"/api/v1/cases/{case.pk}/accept/", {}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "not_permitted"
    assert _nothing_changed(case)


def test_a_missing_required_field_names_it(zone, api):
    case = case_at(zone, Case.Status.SUBMITTED)
    response = api(zone.concierge).post(f"/api/v1/cases/{case.pk}/decline/", {}, format="json")
    assert response.status_code == 400 and list(response.json()["fields"]) == ["reason"]
    assert _nothing_changed(case)


def test_decline_and_withdraw(zone, api):
    declined, withdrawn = case_at(zone, Case.Status.SUBMITTED), case_at(zone, Case.Status.SUBMITTED)
    response = api(zone.concierge).post(
        f"/api/v1/cases/{declined.pk}/decline/", {"reason": "不属于服务范围"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "declined"
    response = api(zone.enterprise_user).post(f"/api/v1/cases/{withdrawn.pk}/withdraw/", {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"


def test_reopen_requires_a_reason_and_sends_the_case_back(zone, api):
    case = case_at(zone, Case.Status.RESOLVED)
    refused = api(zone.enterprise_user).post(f"/api/v1/cases/{case.pk}/reopen/", {"reason": " "}, format="json")
    assert refused.status_code == 400 and "reason" in refused.json()["fields"]
    response = api(zone.enterprise_user).post(
        f"/api/v1/cases/{case.pk}/reopen/", {"reason": "规划许可仍未拿到"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "in_progress"
    assert response.json()["feedback"][-1]["verdict"] == "reopen"


def test_confirm_needs_a_rating_from_one_to_five(zone, api):
    case = case_at(zone, Case.Status.RESOLVED)
    for rating in (0, 6, "five", None):
        response = api(zone.enterprise_user).post(
            f"/api/v1/cases/{case.pk}/confirm/", {"rating": rating}, format="json"
        )
        assert response.status_code == 400 and list(response.json()["fields"]) == ["rating"], rating
    assert _nothing_changed(case)


def test_callback_records_the_verdict_given_by_phone(zone, api):
    # Given a case whose enterprise let its verdict window pass
    case = case_at(zone, Case.Status.RESOLVED)
    with after_verdict_window(case):
        response = api(zone.concierge).post(
            f"/api/v1/cases/{case.pk}/callback/", {"verdict": "confirm", "rating": 4}, format="json"
        )
        assert response.status_code == 200 and response.json()["status"] == "closed"
        assert response.json()["feedback"][-1]["source"] == "callback"
        assert response.json()["feedback"][-1]["early"] is False
        again = api(zone.concierge).post(
            f"/api/v1/cases/{case.pk}/callback/", {"verdict": "confirm", "rating": 4}, format="json"
        )
        assert again.status_code == 409


def test_an_early_callback_needs_the_contact_and_what_they_said(zone, api):
    # Given a case answered minutes ago: the enterprise's verdict window is open
    case = case_at(zone, Case.Status.RESOLVED)
    # When the concierge posts a phone verdict naming nobody
    refused = api(zone.concierge).post(
        f"/api/v1/cases/{case.pk}/callback/", {"verdict": "confirm", "rating": 4}, format="json"
    )
    # Then it is refused on the fields it lacks, and nothing changed
    assert refused.status_code == 400
    assert set(refused.json()["fields"]) == {"contact_name", "contact_phone", "comment"}
    assert _nothing_changed(case)
    # When it names the person spoken to and what they said
    response = api(zone.concierge).post(
        f"/api/v1/cases/{case.pk}/callback/",
        {
            "verdict": "confirm",
            "rating": 4,
            "comment": "王经理表示问题已解决",
            "contact_name": "王经理",
            "contact_phone": "13812345678",
        },
        format="json",
    )
    # Then the case closes, the verdict shown as an early callback with whom it was given
    assert response.status_code == 200 and response.json()["status"] == "closed"
    feedback = response.json()["feedback"][-1]
    assert (feedback["early"], feedback["contact_name"], feedback["contact_phone"]) == (True, "王经理", "13812345678")


def test_the_callback_schema_documents_the_contact_fields(zone, client):
    schema = client.get("/api/schema/?format=json").json()
    fields = schema["components"]["schemas"]["CallbackInputRequest"]["properties"]
    assert {"contact_name", "contact_phone"} <= set(fields)
    assert {"early", "contact_name", "contact_phone"} <= set(schema["components"]["schemas"]["Feedback"]["properties"])


def test_decompose_errors_land_on_the_task_they_belong_to(zone, api):
    case = case_at(zone, Case.Status.ACCEPTED)
    response = api(zone.concierge).post(
        f"/api/v1/cases/{case.pk}/decompose/",
        {"tasks": [{"title": "ok", "department": zone.department.pk}, {"title": "", "task_force": 999999}]},
        format="json",
    )
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert set(fields) == {"tasks[1].title", "tasks[1].task_force"}
    assert _nothing_changed(case)


def test_decompose_with_a_due_date_in_the_past_names_it(zone, api):
    case = case_at(zone, Case.Status.ACCEPTED)
    response = api(zone.concierge).post(
        f"/api/v1/cases/{case.pk}/decompose/",
        {"tasks": [{"title": "查勘", "department": zone.department.pk, "due_on": "2020-01-01"}]},
        format="json",
    )
    assert response.status_code == 400 and list(response.json()["fields"]) == ["tasks[0].due_on"]


# Versions --------------------------------------------------------------------------------------------------------


def test_a_stale_if_match_is_412_and_a_stale_version_field_409(zone, api):
    case = case_at(zone, Case.Status.SUBMITTED)
    client = api(zone.concierge)
    etag = client.get(f"/api/v1/cases/{case.pk}/")["ETag"]
    assert etag == f'"{case.version}"'
    stale = f'"{case.version - 1}"'
    response = client.post(f"/api/v1/cases/{case.pk}/accept/", {}, format="json", HTTP_IF_MATCH=stale)
    assert response.status_code == 412 and response.json()["code"] == "precondition_failed"
    assert response.json()["current_version"] == case.version
    response = client.post(f"/api/v1/cases/{case.pk}/accept/", {"version": case.version - 1}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "stale_version"
    assert _nothing_changed(case)
    response = client.post(f"/api/v1/cases/{case.pk}/accept/", {}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200 and response["ETag"] == f'"{response.json()["version"]}"'


def test_a_malformed_if_match_names_the_header(zone, api):
    case = case_at(zone, Case.Status.SUBMITTED)
    response = api(zone.concierge).post(
        f"/api/v1/cases/{case.pk}/accept/", {}, format="json", HTTP_IF_MATCH="yesterday"
    )
    assert response.status_code == 400 and list(response.json()["fields"]) == ["If-Match"]


# Reads -------------------------------------------------------------------------------------------------------------


def test_detail_lists_tasks_verdicts_and_the_callers_actions(zone, api):
    case = case_at(zone, Case.Status.RESOLVED)
    body = api(zone.enterprise_user).get(f"/api/v1/cases/{case.pk}/").json()
    assert [t["status"] for t in body["tasks"]] == ["done"]
    assert body["actions"] == ["confirm", "reopen", "add_info"]
    assert api(zone.concierge).get(f"/api/v1/cases/{case.pk}/").json()["actions"] == ["callback", "add_info"]


def test_timeline_events_are_in_order_and_readable(zone, api):
    case = case_at(zone, Case.Status.CLOSED)
    events = api(zone.enterprise_user).get(f"/api/v1/cases/{case.pk}/events/").json()["results"]
    assert len(events) == CaseEvent.objects.filter(case=case).count()
    assert events[0]["kind"] == "submitted" and events[-1]["kind"] == "confirmed"
    assert all(event["text"] for event in events)


def test_stats_are_the_dashboard_figures_of_what_the_caller_sees(zone, api):
    case_at(zone, Case.Status.SUBMITTED)
    body = api(zone.leader).get("/api/v1/stats/").json()
    submitted = next(row for row in body["cases_by_status"] if row["status"] == "submitted")
    assert submitted["count"] == 1


def test_the_enterprise_adds_information_to_an_opencase_at(zone, api):
    case = case_at(zone, Case.Status.IN_PROGRESS)
    client = api(zone.enterprise_user)
    refused = client.post(f"/api/v1/cases/{case.pk}/add_info/", {"note": " "}, format="json")
    assert refused.status_code == 400 and list(refused.json()["fields"]) == ["note"]
    response = client.post(f"/api/v1/cases/{case.pk}/add_info/", {"note": "补充：已提交规划方案"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "in_progress"
    last = client.get(f"/api/v1/cases/{case.pk}/events/").json()["results"][-1]
    assert last["kind"] == "info_added" and last["note"] == "补充：已提交规划方案"


def test_the_concierge_asks_the_enterprise_for_information_and_the_enterprise_is_told(zone, api):
    # Given a case in progress
    case = case_at(zone, Case.Status.IN_PROGRESS)
    # When the enterprise tries to ask itself, it is refused; an empty request is refused on the field
    assert api(zone.enterprise_user).post(f"/api/v1/cases/{case.pk}/request_info/", {"note": "x"}).status_code == 403
    empty = api(zone.concierge).post(f"/api/v1/cases/{case.pk}/request_info/", {"note": ""}, format="json")
    assert empty.status_code == 400 and list(empty.json()["fields"]) == ["note"]
    # When the concierge asks for the land certificate
    response = api(zone.concierge).post(
        f"/api/v1/cases/{case.pk}/request_info/", {"note": "请补充土地证复印件"}, format="json"
    )
    # Then the timeline says so and the enterprise's user has a notice carrying the request
    assert response.status_code == 200, response.json()
    *_, request, paused = api(zone.enterprise_user).get(f"/api/v1/cases/{case.pk}/events/").json()["results"]
    assert request["kind"] == "info_requested" and request["note"] == "请补充土地证复印件"
    # And the case's clocks stop until the enterprise answers (挂起)
    assert paused["kind"] == "clock_paused"
    assert api(zone.concierge).get(f"/api/v1/cases/{case.pk}/").json()["clock_paused_at"] is not None
    notice = zone.enterprise_user.notifications.get(kind="info_requested")
    assert (notice.case_id, notice.note) == (case.pk, "请补充土地证复印件")
    assert not zone.other_enterprise_user.notifications.exists()


def test_the_enterprise_reads_the_steps_taken_not_the_units_internal_exchanges(zone, api):
    # Given a case whose task the unit handed back with its reasons
    case = case_at(zone, Case.Status.IN_PROGRESS)
    task = case.tasks.get()
    task_services.return_task(actor=zone.member, task=task, reason="不属于本专班职责")
    # Then staff read the return in the timeline, and the enterprise does not
    staff_kinds = [e["kind"] for e in api(zone.concierge).get(f"/api/v1/cases/{case.pk}/events/").json()["results"]]
    enterprise_events = api(zone.enterprise_user).get(f"/api/v1/cases/{case.pk}/events/").json()["results"]
    assert "task_returned" in staff_kinds
    assert "task_returned" not in [e["kind"] for e in enterprise_events]
    assert "不属于本专班职责" not in str(enterprise_events)
    assert [e["kind"] for e in enterprise_events][:3] == ["submitted", "accepted", "decomposed"]


def test_a_units_result_on_a_task_is_a_note_for_staff_only(zone, api):
    # Given a task completed with the unit's own remark
    case = case_at(zone, Case.Status.IN_PROGRESS)
    task = case.tasks.get()
    task_services.start_task(actor=zone.member, task=task)
    task_services.complete_task(actor=zone.member, task=task, result="内部：已电话协调规划科长")

    def completed(user):
        events = api(user).get(f"/api/v1/cases/{case.pk}/events/").json()["results"]
        return next(e for e in events if e["kind"] == "task_completed")

    # Then staff read the remark, the enterprise reads that the task was done
    assert completed(zone.concierge)["note"] == "内部：已电话协调规划科长"
    assert completed(zone.enterprise_user)["note"] == ""
