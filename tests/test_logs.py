"""Structured logs (tracker/logs.py): a request id on every request, one line per request with its outcome, the
user and the case on each line of the request, JSON lines an operator can grep, and Celery tasks named on theirs.

The context (request id, user, case, task) is copied onto records by `ContextFilter`, which production attaches to
the console handler; the tests attach it to pytest's capture handler the same way.
"""

import io
import json
import logging
import re
from datetime import datetime, timedelta

import pytest
from celery import signals
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import path, reverse

from tests.factories import case_at, client_for
from tracker import logs
from tracker import tasks as celery_tasks
from tracker.models import Case

CS = Case.Status
HEX32 = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def request_lines(caplog):
    """The `tracker.request` records written during the test, with the context copied on as in production."""
    context = logs.ContextFilter()
    caplog.handler.addFilter(context)
    caplog.set_level(logging.INFO)
    yield lambda: [record for record in caplog.records if record.name == "tracker.request"]
    caplog.handler.removeFilter(context)


def only_line(request_lines) -> logging.LogRecord:
    (line,) = request_lines()
    return line


# A view that writes its own line and one that fails: mounted by the tests marked `urls("tests.test_logs")`.
def _working_view(request):
    logging.getLogger("tracker.test").info("正在处理")
    return HttpResponse("ok")


def _failing_view(request):
    raise RuntimeError("boom")


urlpatterns = [path("work/", _working_view), path("fail/", _failing_view)]


# The request id ------------------------------------------------------------------------------------------------


def test_each_request_gets_its_own_id_in_the_response(client, db, request_lines):
    # Given a browser that sends no request id
    # When it makes two requests
    first = client.get("/portal/login/")
    second = client.get("/portal/login/")
    # Then each answer carries a fresh id, and the request's log line carries the same one
    assert HEX32.match(first["X-Request-ID"]) and HEX32.match(second["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]
    assert [line.request_id for line in request_lines()] == [first["X-Request-ID"], second["X-Request-ID"]]


@pytest.mark.parametrize("offered", ["a1b2c3d4", "req-2026.11:abc_DEF", "x" * 64])
def test_a_sane_request_id_from_the_proxy_is_kept(client, db, request_lines, offered):
    # Given the proxy sends its own request id
    # When the request is served
    response = client.get("/portal/login/", HTTP_X_REQUEST_ID=offered)
    # Then the same id is answered and logged, so the proxy's line and ours can be joined
    assert response["X-Request-ID"] == offered
    assert only_line(request_lines).request_id == offered


@pytest.mark.parametrize(
    "offered",
    ["abc\nfoo-bar-baz", "abc\nfoo", "short", "x" * 65, "x" * 200, 'id" injected="1', "有中文的请求编号abcdef"],
    ids=["newline", "newline-short", "too-short", "65-chars", "200-chars", "quote", "non-ascii"],
)
def test_an_insane_request_id_is_replaced_by_a_new_one(client, db, request_lines, offered):
    # Given a client that offers an id that could forge a log field or line
    # When the request is served
    response = client.get("/portal/login/", HTTP_X_REQUEST_ID=offered)
    # Then it gets a fresh id instead, in the answer and in the log
    assert HEX32.match(response["X-Request-ID"])
    assert only_line(request_lines).request_id == response["X-Request-ID"]


def test_a_request_id_ending_in_a_newline_is_replaced_not_a_500(db, request_lines):
    # Given an id that is sane but for a trailing newline
    client = Client(raise_request_exception=False)
    # When the request is served
    response = client.get("/portal/login/", HTTP_X_REQUEST_ID="abcdefgh\n")
    # Then the page is served under a fresh id
    assert response.status_code == 200
    assert HEX32.match(response["X-Request-ID"])


# The line per request --------------------------------------------------------------------------------------------


def test_one_line_per_request_says_what_was_asked_and_how_it_ended(client, db, request_lines):
    # When an anonymous visitor opens the sign-in page and a page that does not exist
    client.get("/portal/login/?next=/portal/")
    client.get("/portal/no-such-page/")
    # Then there is one line for each, with method, path, status, duration and address
    ok, missing = request_lines()
    assert (ok.method, ok.path, ok.status, ok.levelname) == ("GET", "/portal/login/", 200, "INFO")
    assert ok.getMessage() == "GET /portal/login/ 200"
    assert isinstance(ok.duration_ms, float) and 0 <= ok.duration_ms < 60_000
    assert ok.remote_addr == "127.0.0.1"
    assert (missing.path, missing.status) == ("/portal/no-such-page/", 404)
    # And an anonymous visitor is not named
    assert not hasattr(ok, "user")


@pytest.mark.urls("tests.test_logs")
def test_every_line_written_while_serving_a_request_carries_its_id(client, request_lines, caplog):
    # When a view writes a line of its own
    response = client.get("/work/")
    # Then that line has the request's id, like the request line
    (own,) = [record for record in caplog.records if record.name == "tracker.test"]
    assert own.request_id == response["X-Request-ID"]
    assert only_line(request_lines).request_id == response["X-Request-ID"]


@pytest.mark.urls("tests.test_logs")
def test_a_failed_request_is_logged_as_an_error_with_its_id(request_lines):
    # Given a view that fails
    client = Client(raise_request_exception=False)
    # When it is called
    response = client.get("/fail/")
    # Then the answer is a 500 that still carries the request id, and its line is an error
    assert response.status_code == 500
    line = only_line(request_lines)
    assert (line.status, line.levelname) == (500, "ERROR")
    assert line.request_id == response["X-Request-ID"]


def test_the_context_ends_with_the_request(client, db, request_lines):
    # When a request has been served
    client.get("/portal/login/")
    # Then nothing of it remains for lines written afterwards
    assert logs.current() == {}


# Who and which case ----------------------------------------------------------------------------------------------


def test_a_signed_in_portal_user_is_named(client, zone, request_lines):
    # Given the enterprise's user signed in
    client.force_login(zone.enterprise_user)
    # When they open the portal
    response = client.get("/portal/")
    # Then the line names them
    assert response.status_code == 200
    assert only_line(request_lines).user == "ent_user"


def test_an_api_token_user_is_named(zone, request_lines):
    # Given an integration calling with a token (no session)
    api = client_for(zone.integration)
    # When it lists cases
    response = api.get("/api/v1/cases/")
    # Then the line names the token's user
    assert response.status_code == 200
    assert only_line(request_lines).user == "hotline12345"


def test_a_refused_token_names_nobody(zone, request_lines):
    api = client_for(zone.integration)
    api.credentials(HTTP_AUTHORIZATION="Token gx_not-a-real-key")
    response = api.get("/api/v1/cases/")
    assert response.status_code == 401
    assert not hasattr(only_line(request_lines), "user")


def test_the_case_page_in_the_portal_names_the_case(client, zone, request_lines):
    # Given a case of the enterprise
    case = case_at(zone, CS.IN_PROGRESS)
    client.force_login(zone.enterprise_user)
    # When its user opens the case, then the list of their cases
    assert client.get(f"/portal/cases/{case.number}/").status_code == 200
    assert client.get("/portal/").status_code == 200
    # Then the case page's line names the case, and the next request's line does not
    on_case, after = request_lines()
    assert (on_case.case, on_case.user) == (case.number, "ent_user")
    assert not hasattr(after, "case")


def test_a_transition_through_the_api_names_the_case(zone, request_lines):
    # Given a submitted case
    case = case_at(zone, CS.SUBMITTED)
    # When the concierge accepts it through the API
    response = client_for(zone.concierge).post(f"/api/v1/cases/{case.pk}/accept/", {}, format="json")
    # Then the line names the case and the concierge
    assert response.status_code == 200, response.json()
    line = only_line(request_lines)
    assert (line.case, line.user, line.status) == (case.number, "concierge", 200)


def test_the_case_detail_in_the_api_names_the_case(zone, request_lines):
    case = case_at(zone, CS.SUBMITTED)
    response = client_for(zone.concierge).get(f"/api/v1/cases/{case.pk}/")
    assert response.status_code == 200
    assert only_line(request_lines).case == case.number


def test_the_case_page_in_the_admin_names_the_case(client, zone, request_lines):
    case = case_at(zone, CS.SUBMITTED)
    client.force_login(zone.concierge)
    response = client.get(reverse("admin:tracker_case_change", args=[case.pk]))
    assert response.status_code == 200
    line = only_line(request_lines)
    assert (line.case, line.user) == (case.number, "concierge")


# The filter and the formatter -----------------------------------------------------------------------------------


def _record(message="诉求已受理", **extra) -> logging.LogRecord:
    record = logging.LogRecord("tracker.services", logging.INFO, __file__, 1, message, None, None)
    record.__dict__.update(extra)
    return record


def test_the_filter_copies_the_context_without_overwriting_a_lines_own_fields():
    # Given a request's context with a case bound along the way (empty values are not bound)
    token = logs.start(request_id="req-12345678", user="concierge")
    try:
        logs.bind(case="GX-2026-0001", task_id=None, task="")
        record = _record(user="someone-else")
        # When a line passes the filter
        kept = logs.ContextFilter().filter(record)
    finally:
        logs.finish(token)
    # Then it carries the context, but a field the line set itself wins
    assert kept is True
    assert (record.request_id, record.case, record.user) == ("req-12345678", "GX-2026-0001", "someone-else")
    assert not hasattr(record, "task_id") and not hasattr(record, "task")


def test_outside_a_request_or_task_there_is_no_context_and_bind_does_nothing():
    logs.bind(case="GX-2026-0001")
    record = _record()
    assert logs.ContextFilter().filter(record) is True
    assert logs.current() == {}
    assert not hasattr(record, "case")


def test_json_lines_parse_keep_chinese_and_carry_the_context():
    # Given a line with an extra field, written during a request about a case
    token = logs.start(request_id="req-12345678", user="张三")
    try:
        logs.bind(case="GX-2026-0001")
        record = _record("企业提交了诉求", status=201)
        logs.ContextFilter().filter(record)
    finally:
        logs.finish(token)
    # When formatted
    line = logs.JsonFormatter().format(record)
    # Then it is one JSON object on one line, with Chinese as written (not \u escapes)
    assert "\n" not in line
    assert "企业提交了诉求" in line and "张三" in line and "\\u" not in line
    data = json.loads(line)
    assert data["level"] == "INFO" and data["logger"] == "tracker.services" and data["message"] == "企业提交了诉求"
    assert (data["request_id"], data["user"], data["case"], data["status"]) == (
        "req-12345678",
        "张三",
        "GX-2026-0001",
        201,
    )
    # And the time is UTC, in ISO 8601, the moment the line was written
    written = datetime.fromisoformat(data["time"])
    assert written.utcoffset() == timedelta(0)
    assert abs(written.timestamp() - record.created) < 0.001


def test_a_line_carrying_djangos_request_object_is_formatted_without_it():
    # Given a line like Django's own error lines, which carry the HttpRequest
    request = RequestFactory().get("/portal/", HTTP_AUTHORIZATION="Token gx_secret")
    record = _record("Internal Server Error: /portal/", request=request, status_code=500)
    # When formatted
    line = logs.JsonFormatter().format(record)
    # Then it does not fail, and the request (with its headers) is not written out
    data = json.loads(line)
    assert "request" not in data and "gx_secret" not in line
    assert data["status_code"] == 500


def test_the_configured_console_handler_writes_one_json_line_per_request_with_its_context(client, zone):
    # Given the console handler configured by settings.LOGGING, writing JSON to a buffer
    (console,) = [
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, logs.ContextFilter) for f in handler.filters)
    ]
    buffer = io.StringIO()
    previous_stream, previous_formatter = console.setStream(buffer), console.formatter
    console.setFormatter(logs.JsonFormatter())
    case = case_at(zone, CS.SUBMITTED)
    client.force_login(zone.enterprise_user)
    try:
        # When the enterprise's user opens their case
        response = client.get(f"/portal/cases/{case.number}/")
    finally:
        console.setStream(previous_stream)
        console.setFormatter(previous_formatter)
    # Then the request's line is JSON with the request id, the user and the case
    lines = [json.loads(text) for text in buffer.getvalue().splitlines()]
    (line,) = [data for data in lines if data["logger"] == "tracker.request"]
    assert line["request_id"] == response["X-Request-ID"]
    assert (line["user"], line["case"], line["status"], line["path"]) == (
        "ent_user",
        case.number,
        200,
        f"/portal/cases/{case.number}/",
    )


# Celery tasks ----------------------------------------------------------------------------------------------------


def test_a_tasks_lines_carry_its_id_and_name_and_the_context_is_cleared_after():
    task = celery_tasks.sweep_reminders
    # When a worker starts a task
    signals.task_prerun.send(sender=task, task_id="3f2c-task-id", task=task, args=(), kwargs={})
    during = logs.current()
    # And finishes it
    signals.task_postrun.send(
        sender=task, task_id="3f2c-task-id", task=task, args=(), kwargs={}, retval=None, state="SUCCESS"
    )
    # Then its lines carried the task, and nothing remains afterwards
    assert during == {"task_id": "3f2c-task-id", "task": "tracker.tasks.sweep_reminders"}
    assert logs.current() == {}


def test_a_task_run_in_process_names_itself_on_its_lines(db, monkeypatch):
    # Given the service a task calls notes the context it runs in
    seen = {}

    def purge_expired():
        seen.update(logs.current())
        return 0

    monkeypatch.setattr(celery_tasks.idempotency, "purge_expired", purge_expired)
    # When the task runs in this process
    result = celery_tasks.purge_idempotency_records.apply()
    # Then its context named it, and is gone once it returned
    assert result.successful()
    assert seen == {"task_id": result.id, "task": "tracker.tasks.purge_idempotency_records"}
    assert logs.current() == {}


def test_a_task_run_inside_a_request_gives_the_request_its_context_back():
    token = logs.start(request_id="req-12345678")
    try:
        task = celery_tasks.sweep_reminders
        signals.task_prerun.send(sender=task, task_id="inner-task", task=task, args=(), kwargs={})
        assert logs.current()["task_id"] == "inner-task" and "request_id" not in logs.current()
        signals.task_postrun.send(sender=task, task_id="inner-task", task=task, args=(), kwargs={})
        assert logs.current() == {"request_id": "req-12345678"}
    finally:
        logs.finish(token)
