"""The whole loop over HTTP only: submit as the enterprise, accept and decompose as the concierge, complete as
the task force, resolve, confirm with a rating; the timeline shows every step."""

import pytest

pytestmark = pytest.mark.django_db


def test_a_case_walks_the_whole_loop_over_http(zone, api):
    enterprise, concierge, member = api(zone.enterprise_user), api(zone.concierge), api(zone.member)

    # Given an enterprise user with a token, when they submit an issue
    response = enterprise.post(
        "/api/v1/cases/",
        {"category": "land", "title": "扩产新增用地需求", "description": "需新增工业用地约30亩。", "urgency": "urgent"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    case = response.json()
    assert case["status"] == "submitted" and case["enterprise"]["id"] == zone.enterprise.pk
    assert case["channel"] == "api" and case["concierge"]["name"] == "张三"
    assert response["Location"].endswith(f"/api/v1/cases/{case['id']}/")
    assert response["ETag"] == f'"{case["version"]}"'
    url = f"/api/v1/cases/{case['id']}"

    # Then the concierge accepts it and gives one task to the task force
    assert concierge.post(f"{url}/accept/", {"note": "已联系企业"}, format="json").status_code == 200
    response = concierge.post(
        f"{url}/decompose/", {"tasks": [{"title": "落实用地指标", "task_force": zone.task_force.pk}]}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "in_progress"
    (task,) = response.json()["tasks"]

    # The task force member sees the task, starts and completes it
    listed = member.get("/api/v1/tasks/", {"status": "pending"}).json()["results"]
    assert [t["id"] for t in listed] == [task["id"]]
    assert member.get(f"/api/v1/tasks/{task['id']}/").json()["actions"] == ["start", "return", "extend"]
    assert member.post(f"/api/v1/tasks/{task['id']}/start/", {}, format="json").status_code == 200
    response = member.post(f"/api/v1/tasks/{task['id']}/complete/", {"result": "已纳入年度供地计划"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "done"

    # The concierge answers; the enterprise confirms with a rating
    response = concierge.post(f"{url}/resolve/", {"answer": "用地指标已落实。"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "resolved"
    assert "confirm" in enterprise.get(f"{url}/").json()["actions"]
    response = enterprise.post(f"{url}/confirm/", {"rating": 5, "comment": "感谢"}, format="json")
    assert response.status_code == 200, response.json()
    closed = response.json()
    assert closed["status"] == "closed" and closed["feedback"][0]["rating"] == 5

    # And the timeline shows every step, in order, in plain language
    events = enterprise.get(f"{url}/events/").json()["results"]
    assert [e["kind"] for e in events] == [
        "submitted",
        "accepted",
        "decomposed",
        "task_created",
        "task_started",
        "task_completed",
        "resolved",
        "confirmed",
    ]
    assert events[1]["text"] == "张三 受理了诉求"
    assert events[-1]["actor"]["id"] == zone.enterprise_user.pk
