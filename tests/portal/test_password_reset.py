"""Password reset by email (services/accounts.py): the request answers alike for any address and sends nothing
itself — the mail goes through the push outbox after commit, with a link made when it is sent and never stored;
resets are limited per address and per client, counted alike for unknown addresses."""

import re

import pytest
from django.core import mail

from services import accounts
from tests.portal.conftest import html
from tracker import tasks as celery_tasks
from tracker.models import PasswordResetRequest, PushDelivery

pytestmark = pytest.mark.django_db

RESET = "/portal/password/reset/"
SENT = "/portal/password/reset/sent/"
ADDRESS = "wang@jingmi.example.com"


@pytest.fixture(autouse=True)
def eager_worker(settings):
    """The worker's task runs in the test's thread when the request's on-commit hands it over."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_TASK_EAGER_PROPAGATES = True
    settings.SITE_URL = "https://qy.ksgx.example.cn"


@pytest.fixture
def registered(zone):
    zone.enterprise_user.email = ADDRESS
    zone.enterprise_user.save(update_fields=["email"])
    return zone.enterprise_user


def ask(client, email: str, address: str = "203.0.113.7"):
    return client.post(RESET, {"email": email}, REMOTE_ADDR=address)


def test_password_reset_by_email_end_to_end(client, registered, django_capture_on_commit_callbacks):
    # When the user asks for a reset, typing the address in another case
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(client, ADDRESS.upper())
    # Then they are told to check their mail, and exactly one email with a link to the site was sent to them
    assert response.status_code == 302 and response["Location"] == SENT
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [ADDRESS]
    message = mail.outbox[0]
    assert "重设密码" in message.subject
    link = re.search(r"https://qy\.ksgx\.example\.cn(/portal/password/reset/[^/\s]+/[^/\s]+/)", message.body)
    assert link, message.body
    assert "ent_user" in message.body  # the username, which people forget as often as the password
    # And the link opens a form that sets the new password
    form_page = client.get(link.group(1), follow=True)
    assert form_page.status_code == 200 and form_page.context["validlink"]
    done = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": "Kunshan-new-2026", "new_password2": "Kunshan-new-2026"}
    )
    assert done.status_code == 302 and done["Location"] == "/portal/password/reset/complete/"
    assert client.post("/portal/login/", {"username": "ent_user", "password": "Kunshan-new-2026"}).status_code == 302
    # And the link cannot be used twice
    client.post("/portal/logout/")
    again = client.get(link.group(1), follow=True)
    assert not again.context["validlink"] and 'data-role="invalid-link"' in html(again)


@pytest.mark.parametrize("email", [ADDRESS, "nobody@example.com"])
def test_the_request_does_the_same_work_for_any_address(client, registered, email, django_capture_on_commit_callbacks):
    # When a reset is asked for and the transaction commits, but the worker has not run yet
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = ask(client, email)
    # Then the same answer, nothing sent and nothing looked up: one request row, handed to the worker after commit
    assert response.status_code == 302 and response["Location"] == SENT and mail.outbox == []
    assert PasswordResetRequest.objects.get().email == email
    assert not PushDelivery.objects.exists() and len(callbacks) == 1


def test_the_worker_writes_the_mail_once_and_stores_no_link(client, registered, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        ask(client, ADDRESS)
    request = PasswordResetRequest.objects.get()
    # When the worker takes the request (twice: a redelivered message)
    with django_capture_on_commit_callbacks(execute=True):
        assert accounts.process_request(request.pk) == 1
        assert accounts.process_request(request.pk) == 0
    # Then one mail is sent, the request is gone, and the push row holds no link
    assert len(mail.outbox) == 1 and not PasswordResetRequest.objects.exists()
    push = PushDelivery.objects.get()
    assert push.status == "sent" and "/portal/password/reset/" not in push.body


def test_a_request_the_broker_never_got_is_swept_up(client, registered, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # the hand-over after commit never happens
        ask(client, ADDRESS)
    with django_capture_on_commit_callbacks(execute=True):
        celery_tasks.deliver_due_pushes()
    assert len(mail.outbox) == 1 and not PasswordResetRequest.objects.exists()


def test_an_unknown_address_looks_the_same_and_sends_nothing(client, zone, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(client, "nobody@example.com")
    assert response.status_code == 302 and response["Location"] == SENT
    assert mail.outbox == [] and not PushDelivery.objects.exists() and not PasswordResetRequest.objects.exists()


def test_an_inactive_account_or_one_without_a_password_gets_nothing(client, zone, django_capture_on_commit_callbacks):
    zone.enterprise_user.email, zone.enterprise_user.is_active = ADDRESS, False
    zone.enterprise_user.save()
    zone.other_enterprise_user.email = "li@hengyuan.example.com"
    zone.other_enterprise_user.set_unusable_password()
    zone.other_enterprise_user.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert ask(client, ADDRESS).status_code == 302
        assert ask(client, "li@hengyuan.example.com").status_code == 302
    assert mail.outbox == []


def test_resets_for_one_address_are_limited_and_an_unknown_address_is_limited_alike(
    client, registered, settings, django_capture_on_commit_callbacks
):
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS = 3
    # Given three resets for the address, from three clients
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            assert ask(client, ADDRESS, f"198.51.100.{n}").status_code == 302
        # When a fourth is asked for (from yet another client)
        refused = ask(client, ADDRESS, "198.51.100.9")
    # Then it is refused with a clear message, and no fourth mail goes out
    assert refused.status_code == 429 and "请求过于频繁" in html(refused) and "60 分钟" in html(refused)
    assert len(mail.outbox) == 3
    # And an address nobody has is counted and refused the same way: the limit tells nothing
    for n in range(3):
        assert ask(client, "nobody@example.com", f"198.51.100.{n}").status_code == 302
    assert ask(client, "nobody@example.com", "198.51.100.9").status_code == 429


def test_resets_from_one_client_are_limited(client, zone, settings):
    settings.PASSWORD_RESET_LIMIT_PER_CLIENT = 5
    for n in range(5):
        assert ask(client, f"someone{n}@example.com").status_code == 302
    assert ask(client, "someone9@example.com").status_code == 429
    assert ask(client, "someone9@example.com", "198.51.100.20").status_code == 302  # another client is not held


def test_a_failed_reset_mail_is_retried_at_once_even_at_night(client, registered, settings, monkeypatch):
    """A push waits for working hours; a reset mail does not: someone is waiting for it now."""
    from datetime import datetime

    from django.utils import timezone

    from services.delivery import pushes

    ask(client, ADDRESS)
    accounts.process_request(PasswordResetRequest.objects.get().pk)
    push = PushDelivery.objects.get()
    night = timezone.make_aware(datetime(2026, 12, 5, 23, 30))  # a Saturday night
    monkeypatch.setattr(pushes.timezone, "now", lambda: night)

    def smtp_down(push):
        raise OSError("SMTP down")

    monkeypatch.setitem(pushes.SENDERS, PushDelivery.Channel.EMAIL, smtp_down)
    PushDelivery.objects.filter(pk=push.pk).update(next_attempt_at=night)
    result = pushes.deliver(push.pk)
    assert result.sent and not result.delivered
    assert result.retry_at - night == pushes.retry_delay(1)
