"""Help with signing in: a password reset by email.

Asking for a reset does the same work, in the same time, whether the address is registered or not: the request
writes a `PasswordResetRequest` (an outbox row) and hands it to the worker after commit. The worker looks the
address up and writes an email push (services.delivery.pushes) for each account under it, deleting the request in the
same transaction; a request the broker never got is picked up by the push sweep. The reset link is made when the mail
is sent and is never stored (the push row holds a placeholder).

Resets are limited per address and per client (PASSWORD_RESET_LIMIT_*), counted alike for unknown addresses, so
the limit tells nothing either; the counts live in the cache (Redis in production, shared by every process).
"""

import hashlib
import math
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from services.delivery import outbox, pushes
from services.delivery.compose import RESET_KEY_PREFIX
from services.errors import TooManyRequests
from tracker.models import PasswordResetRequest, PushDelivery, User


def _count(kind: str, value: str, limit: int) -> bool:
    """Count one request against `value`; whether it is still within `limit` for the window."""
    key = "password-reset:{}:{}".format(kind, hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest())
    window = settings.PASSWORD_RESET_LIMIT_WINDOW_MINUTES * 60
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key) <= limit
    except ValueError:  # expired between add and incr: this request starts a new window
        cache.add(key, 1, timeout=window)
        return True


def users_for(email: str) -> list[User]:
    """The active accounts with a usable password registered under `email` (case-insensitive)."""
    if not email:
        return []
    candidates = User.objects.filter(email__iexact=email, is_active=True)
    return [user for user in candidates if user.has_usable_password()]


def request_password_reset(*, email: str, client: str) -> None:
    """Ask for a reset link for the accounts registered under `email`: a request row, handed to the worker after
    commit. Raises TooManyRequests past the limit for the address or the client; otherwise answers alike."""
    address = (email or "").strip()
    within_address = _count("address", address.casefold(), settings.PASSWORD_RESET_LIMIT_PER_ADDRESS)
    within_client = _count("client", client or "?", settings.PASSWORD_RESET_LIMIT_PER_CLIENT)
    if not (within_address and within_client):
        minutes = math.ceil(settings.PASSWORD_RESET_LIMIT_WINDOW_MINUTES)
        message = _("重设密码的请求过于频繁，请 %(minutes)d 分钟后再试") % {"minutes": minutes}
        raise TooManyRequests(message, retry_minutes=minutes)
    with transaction.atomic():
        pk = PasswordResetRequest.objects.create(email=address[:254]).pk
        transaction.on_commit(lambda: send_soon([pk]))


def send_soon(pks: list[int]) -> None:
    """Hand reset requests to the worker. If the broker cannot be reached they wait for the push sweep."""
    from tracker.tasks import process_password_reset  # the task module imports this one

    outbox.queue_each(process_password_reset, pks, "password reset request")


def pending_requests(limit: int = 1000) -> list[int]:
    return list(PasswordResetRequest.objects.order_by("created_at", "id").values_list("pk", flat=True)[:limit])


def process_request(pk: int) -> int:
    """Write a reset mail push for each account under the request's address and delete the request, in one
    transaction (a second worker on the same request finds it gone). Returns the pushes written."""
    now = timezone.now()
    with transaction.atomic():
        request = PasswordResetRequest.objects.select_for_update().filter(pk=pk).first()
        if request is None:
            return 0
        users = users_for(request.email)
        request.delete()
        if not users:
            return 0
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("%(site)s：重设密码") % {"site": settings.PORTAL_SITE_NAME}
            placeholder = _("（重设链接在发送时生成，不在此保存）")
        rows = [
            PushDelivery(
                dedupe_key=f"{RESET_KEY_PREFIX}{user.pk}:{uuid.uuid4().hex}",
                channel=PushDelivery.Channel.EMAIL,
                recipient=user,
                address=user.email,
                subject=subject,
                body=placeholder,
                next_attempt_at=now,
                created_at=now,
            )
            for user in users
        ]
        return len(pushes.write_pushes(rows, now=now))
