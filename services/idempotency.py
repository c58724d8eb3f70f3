"""Idempotency keys: a POST repeated with the same key and body gets the first answer and changes nothing more.

The record is written in the same transaction as the change it answers for, so a change and its record commit
together or not at all. A request that fails leaves no record and may be retried with the same key. A second
request with a key still being worked on waits for the first to finish (the unique index holds it), then
replays its answer.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from services.errors import IdempotencyKeyReused, InvalidInput
from tracker.models import IdempotencyRecord, User

MAX_KEY_LENGTH = IdempotencyRecord._meta.get_field("key").max_length


@dataclass(frozen=True)
class Outcome:
    status_code: int
    body: object
    replayed: bool


def _check_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput.field("Idempotency-Key", _("幂等键应为 1–%(max)d 个可打印字符") % {"max": MAX_KEY_LENGTH})
    return key


def _replay(record: IdempotencyRecord, *, method: str, path: str, fingerprint: str) -> Outcome:
    if (record.method, record.path, record.fingerprint) != (method, path, fingerprint):
        raise IdempotencyKeyReused(
            _("幂等键“%(key)s”已用于另一个请求；请为新的请求使用新的幂等键") % {"key": record.key},
            fields={"Idempotency-Key": _("该幂等键已用于内容不同的请求")},
        )
    return Outcome(record.status_code, record.response, replayed=True)


def run_once(
    *, user: User, key: str, method: str, path: str, fingerprint: str, run: Callable[[], tuple[int, object]]
) -> Outcome:
    """Answer with the stored outcome of (user, key), or call `run` and store its outcome with its changes.

    `fingerprint` identifies the request's content; the same key with another fingerprint is refused.
    Only successful outcomes (status below 400) are stored; `run` raising rolls everything back.
    """
    key = _check_key(key)
    expired_before = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    with transaction.atomic():
        IdempotencyRecord.objects.filter(user=user, key=key, created_at__lt=expired_before).delete()
        try:
            with transaction.atomic():
                # Claims the key; a concurrent claim of the same key blocks here until this transaction ends.
                record = IdempotencyRecord.objects.create(
                    user=user, key=key, method=method, path=path[:500], fingerprint=fingerprint, status_code=0
                )
        except IntegrityError:
            existing = IdempotencyRecord.objects.get(user=user, key=key)
            return _replay(existing, method=method, path=path[:500], fingerprint=fingerprint)
        status_code, body = run()
        if status_code >= 400:
            transaction.set_rollback(True)
            return Outcome(status_code, body, replayed=False)
        record.status_code = status_code
        record.response = body
        record.save(update_fields=["status_code", "response"])
    return Outcome(status_code, body, replayed=False)


def purge_expired(now=None) -> int:
    """Forget answers older than IDEMPOTENCY_KEY_TTL_HOURS (run periodically); returns how many."""
    now = now or timezone.now()
    expired_before = now - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=expired_before).delete()
    return deleted
