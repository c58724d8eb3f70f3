"""Pushes (services/delivery/pushes.py): by the channels each person chose, held outside working hours, sent once by
email (Django's test mailbox) or to a WeCom group robot (a real HTTP receiver on 127.0.0.1), retried with backoff,
given up after PUSH_MAX_ATTEMPTS, and sent again only by an administrator.

Celery runs eagerly, so what `transaction.on_commit` queues is sent in the test's thread. The clock is stopped at
each moment named (Wednesday 2026-11-04 is a plain working day).
"""

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail

from services.cases import steps as case_services
from services.cases import tasks as task_services
from services.cases.tasks import TaskSpec
from services.delivery import notifications, outbox, pushes
from services.delivery.pushes import push_window_opens
from services.errors import NotPermitted
from tests.factories import at, case_at, frozen
from tracker import tasks as celery_tasks
from tracker.models import Case, Notification, PushDelivery

CS = Case.Status
Status = PushDelivery.Status
Channel = PushDelivery.Channel
WORKING_HOURS = at("2026-11-04", 10)


@pytest.fixture(autouse=True)
def eager_celery(settings):
    """Tasks run in the caller's thread; a retry waits a minute, then two; the third failure is the last."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_TASK_EAGER_PROPAGATES = True
    settings.PUSH_RETRY_BASE_SECONDS = 60
    settings.PUSH_RETRY_MAX_SECONDS = 3600
    settings.PUSH_MAX_ATTEMPTS = 3
    settings.PUSH_TIMEOUT_SECONDS = 2.0
    settings.REMINDER_DAY_START_HOUR = 9
    settings.REMINDER_DAY_END_HOUR = 18
    settings.SITE_URL = "https://concierge.example.gov.cn"


# The group robot ---------------------------------------------------------------------------------------------


@dataclass
class Robot:
    """A real HTTP endpoint standing in for a WeCom group robot: records each POST and answers with the next
    scripted (status, JSON body), or 200 {"errcode": 0, "errmsg": "ok"}."""

    received: list[tuple[dict, dict]] = field(default_factory=list)  # (headers, payload)
    script: deque = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def start(self) -> "Robot":
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with robot.lock:
                    robot.received.append((dict(self.headers.items()), json.loads(body)))
                    status, answer = robot.script.popleft() if robot.script else (200, {"errcode": 0, "errmsg": "ok"})
                content = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/cgi-bin/webhook/send?key=planning"

    def answer(self, *answers: tuple[int, dict]) -> None:
        with self.lock:
            self.script.extend(answers)

    @property
    def payloads(self) -> list[dict]:
        with self.lock:
            return [payload for _headers, payload in self.received]


@pytest.fixture
def robot(settings):
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = True  # the robot listens on 127.0.0.1
    robot = Robot().start()
    yield robot
    robot.stop()


@pytest.fixture
def reachable(zone, robot):
    """The concierge takes email; the planning department's officer takes WeCom in its group (by mobile number);
    the enterprise user takes email."""
    zone.concierge.email = "zhangsan@ks.gov.cn"
    zone.concierge.save(update_fields=["email"])
    zone.department.wecom_webhook_url = robot.url
    zone.department.save(update_fields=["wecom_webhook_url"])
    zone.officer.phone = "13912345678"
    zone.officer.save(update_fields=["phone"])
    notifications.set_channels(actor=zone.officer, email=True, wecom=True)  # no address: WeCom only
    zone.enterprise_user.email = "wang@kunshan-precision.com"
    zone.enterprise_user.save(update_fields=["email"])
    return zone


def submit(zone) -> Case:
    return case_services.submit_case(
        actor=zone.enterprise_user,
        enterprise=zone.enterprise,
        category=zone.category,
        title="厂房扩建审批进度咨询",
        description="企业新厂房扩建，规划许可尚未批复，希望协调加快。",
    )


def give_to_department(zone, case: Case):
    (task,) = task_services.decompose_case(
        actor=zone.concierge, case=case, tasks=[TaskSpec(title="核实用地红线", department=zone.department)]
    )
    return task


# Quiet hours ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("written", "goes_out"),
    [
        (at("2026-11-04", 10), at("2026-11-04", 10)),  # a working morning: at once
        (at("2026-11-04", 17, 59), at("2026-11-04", 17, 59)),
        (at("2026-11-04", 7, 30), at("2026-11-04", 9)),  # early: at nine
        (at("2026-11-04", 18), at("2026-11-05", 9)),  # evening: the next morning
        (at("2026-11-04", 22), at("2026-11-05", 9)),
        (at("2026-11-06", 22), at("2026-11-09", 9)),  # Friday night: Monday
        (at("2026-11-07", 10), at("2026-11-09", 9)),  # Saturday: Monday
        (at("2026-10-01", 10), at("2026-10-08", 9)),  # National Day: the first day back
        (at("2026-09-30", 20), at("2026-10-08", 9)),  # the eve of Golden Week
        (at("2026-10-09", 19), at("2026-10-10", 9)),  # before a make-up Saturday: that Saturday
        (at("2027-01-08", 19), at("2027-01-11", 9)),  # a year the library does not know: weekdays
    ],
)
def test_a_push_may_go_out_in_working_hours_of_a_working_day(written, goes_out):
    assert push_window_opens(written) == goes_out


@pytest.mark.django_db
def test_a_day_that_ends_at_24_lasts_until_midnight(settings):
    # Given pushes allowed all day long on working days (REMINDER_DAY_START_HOUR=0, REMINDER_DAY_END_HOUR=24)
    settings.REMINDER_DAY_START_HOUR, settings.REMINDER_DAY_END_HOUR = 0, 24
    # Then a working day's late evening is in the window, and a rest day still is not
    assert push_window_opens(at("2026-11-04", 23, 59)) == at("2026-11-04", 23, 59)
    assert push_window_opens(at("2026-11-07", 12)) == at("2026-11-09", 0)


@pytest.mark.parametrize(
    ("written", "goes_out"),
    [
        (at("2026-11-04", 22), at("2026-11-05", 9)),
        (at("2026-11-07", 10), at("2026-11-09", 9)),
        (at("2026-10-03", 10), at("2026-10-08", 9)),
    ],
    ids=["at-night", "on-saturday", "on-a-holiday"],
)
def test_a_push_written_outside_working_hours_goes_out_the_next_working_morning(
    reachable, django_capture_on_commit_callbacks, written, goes_out
):
    # Given the enterprise submits a case at `written`
    with frozen(written), django_capture_on_commit_callbacks(execute=True):
        case = submit(reachable)

    # Then the concierge's notice is there at once, and the email waits: not sent, not even when asked to
    push = PushDelivery.objects.get(recipient=reachable.concierge)
    assert push.notification.case == case and push.next_attempt_at == goes_out
    with frozen(written):
        assert pushes.deliver(push.pk).sent is False
    with frozen(goes_out - timedelta(minutes=1)):
        assert pushes.due_pushes() == []
    assert mail.outbox == []

    # When the outbox sweep runs at the working morning
    with frozen(goes_out), django_capture_on_commit_callbacks(execute=True):
        assert celery_tasks.deliver_due_pushes.delay().get() == 1

    # Then the email goes out
    assert [m.to for m in mail.outbox] == [["zhangsan@ks.gov.cn"]]
    push.refresh_from_db()
    assert (push.status, push.sent_at) == (Status.SENT, goes_out)


# Channels -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "email_on", "wecom_on", "webhook", "expected"),
    [
        ("zhangsan@ks.gov.cn", True, True, False, {Channel.EMAIL}),
        ("", True, True, False, set()),  # no address
        ("zhangsan@ks.gov.cn", False, True, False, set()),  # email turned off
        ("zhangsan@ks.gov.cn", True, True, True, {Channel.EMAIL, Channel.WECOM}),
        ("zhangsan@ks.gov.cn", True, False, True, {Channel.EMAIL}),  # WeCom turned off
        ("", False, True, True, {Channel.WECOM}),
    ],
)
def test_a_staff_member_is_pushed_by_the_channels_they_chose_that_can_reach_them(
    zone, robot, email, email_on, wecom_on, webhook, expected
):
    # Given the concierge works in the planning department, with or without an address, a group robot, a choice
    zone.concierge.email, zone.concierge.department = email, zone.department
    zone.concierge.save(update_fields=["email", "department"])
    notifications.set_channels(actor=zone.concierge, email=email_on, wecom=wecom_on)
    if webhook:
        zone.department.wecom_webhook_url = robot.url
        zone.department.save(update_fields=["wecom_webhook_url"])

    # When the enterprise submits a case
    with frozen(WORKING_HOURS):
        submit(zone)

    # Then the concierge's new-case notice is pushed by exactly the channels that reach them, to their addresses
    written = {(p.channel, p.address) for p in PushDelivery.objects.filter(recipient=zone.concierge)}
    addresses = {Channel.EMAIL: "zhangsan@ks.gov.cn", Channel.WECOM: robot.url}
    assert written == {(channel, addresses[channel]) for channel in expected}
    assert Notification.objects.filter(recipient=zone.concierge).count() == 1  # the in-app notice, always


def test_an_enterprise_user_is_pushed_by_email_only(reachable):
    # Given an enterprise user who asked for email and WeCom alike
    notifications.set_channels(actor=reachable.enterprise_user, email=True, wecom=True)
    # When the concierge accepts their case
    with frozen(WORKING_HOURS):
        case = submit(reachable)
        case_services.accept_case(actor=reachable.concierge, case=case)
    # Then they are emailed at their address, with a link to the case in the portal, and nothing else
    (push,) = PushDelivery.objects.filter(recipient=reachable.enterprise_user)
    assert (push.channel, push.address) == (Channel.EMAIL, "wang@kunshan-precision.com")
    assert push.subject == f"【诉求已受理】诉求：{case.number} 厂房扩建审批进度咨询"
    assert f"https://concierge.example.gov.cn/portal/cases/{case.number}/" in push.body
    assert "企业：" not in push.body  # staff read which enterprise; the enterprise knows


def test_when_nobody_can_be_reached_nothing_is_pushed(zone):
    # Given nobody has an address or a group robot
    with frozen(WORKING_HOURS):
        case_at(zone, CS.CLOSED)
    # Then every step wrote its notices and no push
    assert Notification.objects.exists() and not PushDelivery.objects.exists()


# Email --------------------------------------------------------------------------------------------------------


def test_an_email_is_sent_once_even_when_delivered_twice(reachable, django_capture_on_commit_callbacks):
    # Given the enterprise submits a case during working hours (the push is handed to the worker after commit)
    with frozen(WORKING_HOURS), django_capture_on_commit_callbacks(execute=True):
        case = submit(reachable)
    push = PushDelivery.objects.get(recipient=reachable.concierge)

    # Then the concierge is emailed at once, with the case and a link to it in the workbench
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["zhangsan@ks.gov.cn"]
    assert message.subject == f"【新诉求待受理】诉求：{case.number} 厂房扩建审批进度咨询"
    assert "企业：昆山精密制造有限公司" in message.body
    assert f"https://concierge.example.gov.cn/admin/tracker/case/{case.pk}/change/" in message.body
    assert message.extra_headers["Message-ID"] == f"<push-{push.pk}@concierge.local>"
    push.refresh_from_db()
    assert (push.status, push.attempts, push.sent_at) == (Status.SENT, 1, WORKING_HOURS)

    # When the push is delivered again (a redelivered message, the outbox sweep), then later still
    with frozen(WORKING_HOURS):
        again = pushes.deliver(push.pk)
    with frozen(WORKING_HOURS + timedelta(hours=1)), django_capture_on_commit_callbacks(execute=True):
        celery_tasks.deliver_push.delay(push.pk)
        swept = celery_tasks.deliver_due_pushes.delay().get()

    # Then nothing more is sent
    assert (again.sent, swept, len(mail.outbox)) == (False, 0, 1)
    push.refresh_from_db()
    assert push.attempts == 1


def test_a_failing_mail_server_is_retried_then_given_up(reachable, monkeypatch):
    # Given a mail server that refuses every message
    def refuse(self, fail_silently=False):
        raise ConnectionRefusedError("smtp.ks.gov.cn:587 refused")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    with frozen(WORKING_HOURS):
        submit(reachable)
    push = PushDelivery.objects.get(recipient=reachable.concierge)

    # When it is delivered at once, then at each retry time
    outcomes = []
    moment = WORKING_HOURS
    for _ in range(3):
        with frozen(moment):
            outcomes.append(pushes.deliver(push.pk))
        moment = outcomes[-1].retry_at or moment

    # Then it waited a minute, then two, and the third failure was the last
    assert [o.retry_at for o in outcomes] == [
        WORKING_HOURS + timedelta(minutes=1),
        WORKING_HOURS + timedelta(minutes=3),
        None,
    ]
    push.refresh_from_db()
    assert (push.status, push.attempts) == (Status.FAILED, 3)
    assert push.last_error == "ConnectionRefusedError: smtp.ks.gov.cn:587 refused"


# WeCom group robot --------------------------------------------------------------------------------------------


def test_a_wecom_push_mentions_the_person_in_their_department_group(
    reachable, robot, django_capture_on_commit_callbacks
):
    # Given an accepted case
    with frozen(WORKING_HOURS):
        case = case_at(reachable, CS.ACCEPTED)

    # When the concierge gives a task to the planning department
    with frozen(WORKING_HOURS), django_capture_on_commit_callbacks(execute=True):
        task = give_to_department(reachable, case)

    # Then the department's group robot is sent one text message, @-mentioning the officer by mobile number
    push = PushDelivery.objects.get(recipient=reachable.officer)
    assert push.channel == Channel.WECOM and push.status == Status.SENT
    ((headers, payload),) = robot.received
    assert payload["msgtype"] == "text"
    assert payload["text"]["mentioned_mobile_list"] == ["13912345678"]
    content = payload["text"]["content"]
    assert content == f"{push.subject}\n{push.body}"
    assert content.startswith(f"【新交办事项】诉求：{case.number} 厂房扩建审批进度咨询")
    assert f"事项：核实用地红线（期限 {task.due_on.isoformat()}）" in content
    assert f"/admin/tracker/task/{task.pk}/change/" in content
    assert headers["X-Push-Id"] == str(push.pk)


@pytest.mark.parametrize(
    "failure",
    [(500, {"message": "internal error"}), (200, {"errcode": 93000, "errmsg": "invalid webhook url"})],
    ids=["http-500", "errcode-93000"],
)
def test_a_robot_that_fails_is_retried_with_backoff_then_given_up(
    reachable, robot, django_capture_on_commit_callbacks, failure
):
    # Given a group robot that fails every time
    robot.answer(failure, failure, failure, failure)
    # When a case is accepted and a task given to the department: the push is tried at once, and fails
    with frozen(WORKING_HOURS), django_capture_on_commit_callbacks(execute=True):
        give_to_department(reachable, case_at(reachable, CS.ACCEPTED))
    push = PushDelivery.objects.get(recipient=reachable.officer)
    push.refresh_from_db()
    assert (push.status, push.attempts) == (Status.PENDING, 1)
    assert push.next_attempt_at == WORKING_HOURS + timedelta(minutes=1)
    expected_error = "HTTPError: 500" if failure[0] == 500 else "RuntimeError: errcode 93000: invalid webhook url"
    assert push.last_error.startswith(expected_error)

    # When the outbox sweep runs before the retry is due: nothing is tried
    with frozen(WORKING_HOURS + timedelta(seconds=59)), django_capture_on_commit_callbacks(execute=True):
        assert celery_tasks.deliver_due_pushes.delay().get() == 0
    assert len(robot.received) == 1

    # When it runs at each retry time (one minute, then two more)
    for moment in (WORKING_HOURS + timedelta(minutes=1), WORKING_HOURS + timedelta(minutes=3)):
        with frozen(moment), django_capture_on_commit_callbacks(execute=True):
            assert celery_tasks.deliver_due_pushes.delay().get() == 1

    # Then the third failure gives it up, and no later sweep tries again
    push.refresh_from_db()
    assert (push.status, push.attempts) == (Status.FAILED, 3)
    with frozen(WORKING_HOURS + timedelta(hours=2)), django_capture_on_commit_callbacks(execute=True):
        assert celery_tasks.deliver_due_pushes.delay().get() == 0
    assert len(robot.received) == 3


def test_a_robot_that_recovers_gets_the_message_once(reachable, robot, django_capture_on_commit_callbacks):
    # Given a group robot that fails once
    robot.answer((502, {}))
    with frozen(WORKING_HOURS), django_capture_on_commit_callbacks(execute=True):
        give_to_department(reachable, case_at(reachable, CS.ACCEPTED))

    # When the retry comes due and the sweep runs, twice
    for _ in range(2):
        with frozen(WORKING_HOURS + timedelta(minutes=1)), django_capture_on_commit_callbacks(execute=True):
            celery_tasks.deliver_due_pushes.delay()

    # Then the second attempt delivered it, and there was no third
    push = PushDelivery.objects.get(recipient=reachable.officer)
    assert (push.status, push.attempts, push.last_error) == (Status.SENT, 2, "")
    assert len(robot.payloads) == 2 and robot.payloads[0] == robot.payloads[1]


def test_a_retry_that_would_fall_after_working_hours_waits_for_the_morning(
    reachable, robot, django_capture_on_commit_callbacks
):
    # Given a group robot that fails, and a task given a minute before the end of the working day
    robot.answer((500, {}))
    with frozen(at("2026-11-04", 17, 59)), django_capture_on_commit_callbacks(execute=True):
        give_to_department(reachable, case_at(reachable, CS.ACCEPTED))

    # Then its retry is not at 18:00 but at nine the next working morning
    push = PushDelivery.objects.get(recipient=reachable.officer)
    assert push.attempts == 1
    assert push.next_attempt_at == at("2026-11-05", 9)
    with frozen(at("2026-11-04", 18, 1)):
        assert pushes.due_pushes() == []


# Sending again --------------------------------------------------------------------------------------------------


@pytest.fixture
def failed_push(reachable, robot, django_capture_on_commit_callbacks) -> PushDelivery:
    """The officer's WeCom push, given up after three failures."""
    robot.answer(*[(500, {})] * 3)
    with frozen(WORKING_HOURS), django_capture_on_commit_callbacks(execute=True):
        give_to_department(reachable, case_at(reachable, CS.ACCEPTED))
    push = PushDelivery.objects.get(recipient=reachable.officer)
    for minutes in (1, 3):
        with frozen(WORKING_HOURS + timedelta(minutes=minutes)):
            pushes.deliver(push.pk)
    push.refresh_from_db()
    assert push.status == Status.FAILED
    return push


@pytest.mark.parametrize("who", ["concierge", "leader", "officer"])
def test_only_an_administrator_may_send_a_failed_push_again(zone, failed_push, robot, who):
    # When anyone but an administrator asks
    with frozen(WORKING_HOURS + timedelta(hours=1)), pytest.raises(NotPermitted):
        pushes.resend(actor=getattr(zone, who), push=failed_push)
    # Then it stays given up
    failed_push.refresh_from_db()
    assert (failed_push.status, failed_push.attempts) == (Status.FAILED, 3)
    assert len(robot.received) == 3


def test_an_administrator_sends_a_failed_push_again(zone, failed_push, robot, django_capture_on_commit_callbacks):
    # Given the robot works again
    moment = WORKING_HOURS + timedelta(hours=1)

    # When an administrator sends the failed push again
    with frozen(moment), django_capture_on_commit_callbacks(execute=True):
        pushes.resend(actor=zone.admin, push=failed_push)

    # Then it is sent at once, as a fresh push
    failed_push.refresh_from_db()
    assert (failed_push.status, failed_push.attempts, failed_push.sent_at) == (Status.SENT, 1, moment)
    assert len(robot.received) == 4

    # And asking again does not send a push already sent
    with frozen(moment), django_capture_on_commit_callbacks(execute=True):
        pushes.resend(actor=zone.admin, push=failed_push)
    assert len(robot.received) == 4


def test_a_failed_push_sent_again_at_night_waits_for_the_morning(zone, failed_push, robot):
    with frozen(at("2026-11-04", 21)):
        pushes.resend(actor=zone.admin, push=failed_push)
    failed_push.refresh_from_db()
    assert (failed_push.status, failed_push.next_attempt_at) == (Status.PENDING, at("2026-11-05", 9))
    assert len(robot.received) == 3


def test_a_push_whose_sender_dies_every_time_is_given_up_after_the_last_attempt(reachable, settings):
    # Given a push whose senders were all killed mid-send: each claimed it (counting an attempt) and never came back
    settings.PUSH_MAX_ATTEMPTS = 3
    with frozen(WORKING_HOURS):
        submit(reachable)
    push = PushDelivery.objects.get(recipient=reachable.concierge, channel=PushDelivery.Channel.EMAIL)
    for minute in range(3):
        with frozen(WORKING_HOURS + timedelta(minutes=10 * minute)):
            assert outbox.claim(pushes.OUTBOX, push.pk, WORKING_HOURS + timedelta(minutes=10 * minute))
    PushDelivery.objects.filter(pk=push.pk).update(next_attempt_at=WORKING_HOURS)  # the last lease has run out
    # When the next sender picks it up
    with frozen(WORKING_HOURS + timedelta(hours=1)):
        result = pushes.deliver(push.pk)
    # Then it does not send it a fourth time: the push is failed, for an administrator to look at
    push.refresh_from_db()
    assert (result.delivered, push.status, push.attempts, len(mail.outbox)) == (False, Status.FAILED, 4, 0)
    assert push.last_error
