"""Every refusal answers a specific `code` an integration can branch on, and the `data` it can act on: resolve
while tasks are open (`tasks_open`, the open tasks' ids), resume a running clock (`not_paused`), a stale version
(`stale_version`), a plain wrong state (`illegal_transition`). The schema documents the codes."""

from datetime import timedelta

import pytest
from drf_spectacular.generators import SchemaGenerator

from services.cases import tasks as task_services
from services.cases.tasks import TaskSpec
from services.errors import Conflict, IllegalTransition, ServiceError
from services.register.zone import register_enterprise
from services.states import GUARD_CODES
from tests.factories import case_at, run_task_action
from tracker.api.errors import _CODES
from tracker.api.schema import ERROR_CODES
from tracker.models import Case, Extension

pytestmark = pytest.mark.django_db
CS = Case.Status


def _subclasses(cls) -> set[type]:
    return {sub for direct in cls.__subclasses__() for sub in (direct, *_subclasses(direct))}


def _unchanged(case) -> bool:
    fresh = Case.objects.get(pk=case.pk)
    return (fresh.status, fresh.version) == (case.status, case.version)


def test_resolve_while_tasks_are_open_is_409_tasks_open_with_their_ids(zone, api):
    # Given an in-progress case: its first task done, a second one open
    case = case_at(zone, CS.IN_PROGRESS)
    done = case.tasks.get()
    run_task_action(zone, "start", done)
    run_task_action(zone, "complete", done)
    (open_task,) = task_services.decompose_case(
        actor=zone.concierge, case=case, tasks=[TaskSpec(title="协调供电接入", task_force=zone.task_force)]
    )
    case = Case.objects.get(pk=case.pk)
    client = api(zone.concierge)
    # The case as the API shows it does not offer resolve
    assert "resolve" not in client.get(f"/api/v1/cases/{case.pk}/").json()["actions"]
    listed = {row["id"]: row for row in client.get("/api/v1/cases/").json()["results"]}
    assert "resolve" not in listed[case.pk]["actions"]

    # When the integration resolves anyway
    response = client.post(f"/api/v1/cases/{case.pk}/resolve/", {"answer": "已全部办结"}, format="json")

    # Then it is a 409 with the guard's code and the open task's id, the old fields kept, and nothing changed
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "tasks_open"
    assert body["data"] == {"open_tasks": [open_task.pk]}
    assert "协调供电接入" in body["message"] and body["fields"] == {}
    assert body["current"] == CS.IN_PROGRESS and "resolve" not in body["allowed"]
    assert _unchanged(case)

    # And once the task is done, resolve is offered and taken
    run_task_action(zone, "start", open_task)
    run_task_action(zone, "complete", open_task)
    assert "resolve" in client.get(f"/api/v1/cases/{case.pk}/").json()["actions"]
    listed = {row["id"]: row for row in client.get("/api/v1/cases/").json()["results"]}
    assert "resolve" in listed[case.pk]["actions"]
    response = client.post(f"/api/v1/cases/{case.pk}/resolve/", {"answer": "已全部办结"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == CS.RESOLVED


def test_resume_clock_on_a_case_not_paused_is_409_not_paused(zone, api):
    case = case_at(zone, CS.ACCEPTED)
    response = api(zone.concierge).post(f"/api/v1/cases/{case.pk}/resume_clock/", {}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["data"]) == ("not_paused", {})
    assert body["message"] == "诉求未挂起，无需恢复计时"
    assert "resume_clock" not in body["allowed"]


def test_a_stale_version_is_409_stale_version_with_the_current_version(zone, api):
    case = case_at(zone, CS.SUBMITTED)
    response = api(zone.concierge).post(
        f"/api/v1/cases/{case.pk}/accept/", {"version": case.version - 1}, format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "stale_version"
    assert body["data"] == {"current_version": case.version} and body["current_version"] == case.version
    assert _unchanged(case)


def test_a_plain_illegal_transition_keeps_its_code_with_empty_data(zone, api):
    case = case_at(zone, CS.SUBMITTED)
    response = api(zone.concierge).post(f"/api/v1/cases/{case.pk}/resolve/", {"answer": "x"}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "illegal_transition" and body["data"] == {}
    assert body["current"] == CS.SUBMITTED and {"accept", "decline"} <= set(body["allowed"])


def test_every_error_body_carries_data(zone, api):
    # Invalid input, not permitted and not found carry `data` too (empty), so a client reads it unconditionally
    case = case_at(zone, CS.SUBMITTED)
    invalid = api(zone.concierge).post(f"/api/v1/cases/{case.pk}/decline/", {"reason": ""}, format="json")
    forbidden = api(zone.enterprise_user).post(f"/api/v1/cases/{case.pk}/accept/", {}, format="json")
    missing = api(zone.concierge).get("/api/v1/cases/999999/")
    for response, code in [(invalid, "invalid"), (forbidden, "not_permitted"), (missing, "not_found")]:
        assert response.json()["code"] == code and response.json()["data"] == {}, response.json()


def test_the_schema_documents_every_code_and_the_steps_guards():
    # Every code a service error, a guard or the API's own mapping answers is in the documented enum
    codes = {cls.code for cls in _subclasses(ServiceError)} | set(GUARD_CODES) | set(_CODES.values())
    assert codes <= set(ERROR_CODES)
    schema = SchemaGenerator().get_schema(request=None, public=True)
    error = schema["components"]["schemas"]["Error"]
    assert set(error["properties"]["code"]["enum"]) == set(ERROR_CODES)
    assert "data" in error["required"] and "open_tasks" in error["properties"]["data"]["properties"]
    # And the steps with a guard name its code in their 409, with an example body
    resolve = schema["paths"]["/api/v1/cases/{id}/resolve/"]["post"]["responses"]["409"]
    assert "`tasks_open`" in resolve["description"]
    assert resolve["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    examples = resolve["content"]["application/json"]["examples"].values()
    assert [example["value"]["code"] for example in examples] == ["tasks_open"]
    resume = schema["paths"]["/api/v1/cases/{id}/resume_clock/"]["post"]["responses"]["409"]
    assert "`not_paused`" in resume["description"]


def test_a_second_extension_request_is_409_extension_pending_with_the_pending_one(zone, api):
    # Given a task in progress with an extension request waiting for a leader
    case = case_at(zone, CS.IN_PROGRESS)
    task = case.tasks.get()
    run_task_action(zone, "start", task)
    client = api(zone.member)
    later = (task.due_on + timedelta(days=14)).isoformat()
    first = client.post(
        f"/api/v1/tasks/{task.pk}/extend/", {"requested_due_on": later, "reason": "需补充勘测"}, format="json"
    )
    assert first.status_code == 200
    pending = Extension.objects.get(task=task)
    # When the unit asks again
    response = client.post(
        f"/api/v1/tasks/{task.pk}/extend/", {"requested_due_on": later, "reason": "再申请"}, format="json"
    )
    # Then it is told which request is waiting, and nothing more is written
    assert response.status_code == 409
    assert (response.json()["code"], response.json()["data"]) == ("extension_pending", {"extension": pending.pk})
    assert Extension.objects.filter(task=task).count() == 1


def test_a_task_step_on_a_case_no_longer_in_progress_is_case_not_in_progress(zone):
    case = case_at(zone, CS.RESOLVED)
    task = case.tasks.get()
    with pytest.raises(IllegalTransition) as refused:
        task_services.reopen_task(actor=zone.concierge, task=task, note="企业不满意，请重办")
    assert refused.value.code == "case_not_in_progress" and refused.value.as_dict()["code"] == "case_not_in_progress"


def test_a_credit_code_already_registered_is_uscc_taken_on_its_field(zone):
    enterprise = zone.enterprise
    with pytest.raises(Conflict) as refused:
        register_enterprise(actor=zone.admin, name="另一家公司", uscc=enterprise.uscc, industry=enterprise.industry)
    assert refused.value.code == "uscc_taken" and "uscc" in refused.value.fields


def test_the_schema_documents_the_refusals_beyond_the_guards():
    assert {"extension_pending", "case_not_in_progress", "uscc_taken"} <= set(ERROR_CODES)
    schema = SchemaGenerator().get_schema(request=None, public=True)
    extend = schema["paths"]["/api/v1/tasks/{id}/extend/"]["post"]["responses"]["409"]
    assert "`extension_pending`" in extend["description"]
