"""API tokens: created for a user, shown once, stored as a SHA-256 digest, revocable and optionally expiring."""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from services.errors import NotPermitted
from services.roles import Role, has_role
from services.validation import FieldErrors
from tracker.models import ApiToken, User

KEY_PREFIX = "gx_"
# How often a token's `last_used_at` is written: often enough to audit, rarely enough not to write per request.
LAST_USED_RESOLUTION = timedelta(minutes=5)


def hash_key(key: str) -> str:
    """The stored form of a key. The keys are 256 random bits, so a plain digest cannot be brute-forced."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_token(
    *, actor: User | None, user: User, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Issue a token for `user`; returns it with the key, which is never readable again.

    Administrators issue tokens; `actor=None` is the operator at the command line.
    """
    if actor is not None and not has_role(actor, Role.ADMINISTRATOR):
        raise NotPermitted(_("只有系统管理员可以创建接口令牌"))
    errors = FieldErrors()
    name = errors.text("name", name, max_length=ApiToken._meta.get_field("name").max_length)
    if not user.is_active:
        errors.add("user", _("该用户已停用"))
    if expires_at is not None and expires_at <= timezone.now():
        errors.add("expires_at", _("过期时间应晚于现在"))
    errors.raise_if_any()
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=key[:10], key_hash=hash_key(key), created_by=actor, expires_at=expires_at
    )
    return token, key


def revoke_token(*, actor: User | None, token: ApiToken) -> ApiToken:
    """Stop a token from working, at once and for good. Revoking twice changes nothing."""
    if actor is not None and not has_role(actor, Role.ADMINISTRATOR) and token.user_id != actor.pk:
        raise NotPermitted(_("只有系统管理员或令牌所属用户可以吊销令牌"))
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
    return token


def token_state(token: ApiToken, now: datetime | None = None) -> str:
    """`active`, `revoked` or `expired`."""
    now = now or timezone.now()
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


def authenticate_key(key: str) -> ApiToken | None:
    """The active token with this key and an active user, or None. Records when it was last used."""
    if not key or len(key) > 100:
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_key(key)).first()
    if token is None or token_state(token) != "active" or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
