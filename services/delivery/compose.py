"""The parts of a push made only when it is sent, never stored with it: a password reset's link (valid until the
password changes) and the ledger attached to a leader's weekly summary (the cases as they stand that morning)."""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from services.reports.ledger import weekly_ledger
from tracker.models import PushDelivery, User

__all__ = ["RESET_KEY_PREFIX", "is_password_reset", "reset_mail_body", "site_url", "weekly_ledger"]

RESET_KEY_PREFIX = "password-reset:"


def site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def is_password_reset(push: PushDelivery) -> bool:
    return push.dedupe_key.startswith(RESET_KEY_PREFIX)


def reset_mail_body(user: User) -> str:
    """The reset mail for `user`, with a link made now (it stays valid until the password changes or
    PASSWORD_RESET_TIMEOUT passes)."""
    uid, token = urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)
    path = reverse("portal:password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string(
            "portal/email/password_reset.txt",
            {"user": user, "site_name": settings.PORTAL_SITE_NAME, "link": site_url(path)},
        )
