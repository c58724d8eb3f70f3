"""The outbox mechanism shared by webhook deliveries (`services.delivery.webhooks`) and pushes
(`services.delivery.pushes`): handing written rows to the worker after commit, claiming a row with a lease, the
sweep of rows due, recording an attempt's outcome with backoff, and an administrator's resend.

Both tables name their columns alike: `status` (pending, then sent/delivered or failed), `attempts`, and
`next_attempt_at`, which is when a pending row is due and, while a sender holds it, the end of that sender's lease.
A row is claimed by one conditional UPDATE on the row alone, so of two senders only one wins; a row marked sent is
never sent again; a sender that dies mid-send leaves its lease to run out and the row is sent again. What is
particular to each (quiet hours for pushes, signatures and the attempt log for webhooks) stays in its module.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.functional import Promise

from services.errors import NotPermitted
from services.roles import Role, has_role

logger = logging.getLogger(__name__)

PENDING, FAILED = "pending", "failed"


@dataclass(frozen=True)
class Outbox:
    """One outbox table and how its rows are sent."""

    model: type[models.Model]
    # Settings read at each use: {prefix}_TIMEOUT_SECONDS, _MAX_ATTEMPTS, _RETRY_BASE_SECONDS, _RETRY_MAX_SECONDS.
    settings_prefix: str
    sent_status: str  # the status of a row sent
    sent_at_field: str  # stamped when it is sent
    queue: Callable[[list[int]], None]  # hands rows to the worker (the module's `send_soon`)
    resend_refused: str | Promise  # the message when someone other than an administrator asks for a resend
    # True: the attempt counts when it is claimed, so a row whose senders all die still reaches the maximum.
    # False: when its outcome is recorded (webhooks number each attempt in their log then).
    count_attempt_at_claim: bool = False
    error_field: str | None = None  # the last error, cleared when sent
    sendable: Q | None = None  # a condition outside the row (a paused subscription): not claimed, not swept
    sweep_order: tuple[str, ...] = ("next_attempt_at", "id")
    select_related: tuple[str, ...] = ()  # loaded with a claimed row, for the sender
    retry_at: Callable[[models.Model, datetime], datetime] | None = None  # moves a retry time (quiet hours)
    resend_at: Callable[[models.Model, datetime], datetime | None] | None = None  # when a resent row is due
    resend_resets_attempts: bool = False

    def setting(self, name: str):
        return getattr(settings, f"{self.settings_prefix}_{name}")

    @property
    def lease_clears(self) -> bool:
        """A nullable `next_attempt_at` is cleared once a row is final; a required one keeps its last value."""
        return self.model._meta.get_field("next_attempt_at").null


@dataclass(frozen=True)
class SendResult:
    sent: bool  # an attempt was made
    delivered: bool
    retry_at: datetime | None = None
    attempts: int = 0  # counted so far, this one included


def queue_each(task, pks: Iterable[int], what: str) -> None:
    """`task.delay(pk)` for each row. If the broker cannot be reached the rows stay pending for their sweep."""
    for pk in pks:
        try:
            task.delay(pk)
        except Exception:  # the broker is down: the outbox row waits for the periodic sweep
            logger.warning("%s %s not queued; the sweep will send it", what, pk, exc_info=True)
            return  # the rest would fail the same way, each after its own connection timeout


def backoff(attempts: int, base_seconds: float, max_seconds: float) -> timedelta:
    """The wait after the `attempts`-th failure: doubling from `base_seconds`, capped at `max_seconds`."""
    return timedelta(seconds=min(base_seconds * 2 ** max(attempts - 1, 0), max_seconds))


def retry_delay(outbox: Outbox, attempts: int) -> timedelta:
    """The outbox's backoff after the `attempts`-th failure, from its settings."""
    return backoff(attempts, outbox.setting("RETRY_BASE_SECONDS"), outbox.setting("RETRY_MAX_SECONDS"))


def _due(outbox: Outbox, now: datetime) -> Q:
    due = Q(next_attempt_at__lte=now)
    return due | Q(next_attempt_at__isnull=True) if outbox.lease_clears else due


def claim(outbox: Outbox, pk: int, now: datetime) -> models.Model | None:
    """Take a pending row that is due (never tried, due a retry, or its last sender's lease ran out) for one
    sender: moves `next_attempt_at` to the end of a lease (3 × timeout + 60 s, room for a slow receiver).
    Returns the row, or None when it is not pending, not due, held by another sender, or not sendable."""
    if outbox.sendable is not None and not outbox.model.objects.filter(outbox.sendable, pk=pk).exists():
        return None  # paused: it waits, and is sent if switched on again
    lease = now + timedelta(seconds=3 * outbox.setting("TIMEOUT_SECONDS") + 60)
    changes = {"next_attempt_at": lease}
    if outbox.count_attempt_at_claim:
        changes["attempts"] = F("attempts") + 1
    # Conditions on the row alone (no join), so a second claimer blocked on the row lock re-checks them and loses.
    if not outbox.model.objects.filter(_due(outbox, now), pk=pk, status=PENDING).update(**changes):
        return None
    return outbox.model.objects.select_related(*outbox.select_related).get(pk=pk)


def exhausted(outbox: Outbox, row: models.Model) -> bool:
    """The claim counted an attempt past the maximum: earlier senders died mid-send again and again. The caller
    records a failure without sending (`finish` then gives the row up)."""
    return outbox.count_attempt_at_claim and row.attempts > outbox.setting("MAX_ATTEMPTS")


def due(outbox: Outbox, now: datetime | None = None, limit: int = 1000) -> list[int]:
    """Ids of pending rows whose time has come: never queued (broker down), held, due a retry, or whose sender
    died and whose lease has run out."""
    now = now or timezone.now()
    rows = outbox.model.objects.filter(_due(outbox, now), status=PENDING)
    if outbox.sendable is not None:
        rows = rows.filter(outbox.sendable)
    return list(rows.order_by(*outbox.sweep_order).values_list("pk", flat=True)[:limit])


def finish(
    outbox: Outbox,
    pk: int,
    *,
    error: str,
    now: datetime,
    record: Callable[[models.Model], None] | None = None,
) -> SendResult:
    """Record the outcome of a claimed row's attempt in one transaction: sent (no `error`), due again after the
    backoff, or failed at `{prefix}_MAX_ATTEMPTS`. `record(row)` writes what the module logs of each attempt in
    the same transaction. A row another sender finished meanwhile (this one's lease ran out) keeps that outcome."""
    fields = ["status", "attempts", "next_attempt_at", outbox.sent_at_field]
    if outbox.error_field:
        fields.append(outbox.error_field)
    with transaction.atomic():
        row = outbox.model.objects.select_for_update().get(pk=pk)
        if not outbox.count_attempt_at_claim:
            row.attempts += 1
        if record is not None:
            record(row)
        if row.status != PENDING:
            if not outbox.count_attempt_at_claim:
                row.save(update_fields=["attempts"])
            return SendResult(sent=True, delivered=not error, attempts=row.attempts)
        retry_at = None
        if not error:
            row.status = outbox.sent_status
            setattr(row, outbox.sent_at_field, now)
        elif row.attempts >= outbox.setting("MAX_ATTEMPTS"):
            row.status = FAILED
        else:
            retry_at = now + retry_delay(outbox, row.attempts)
            if outbox.retry_at is not None:
                retry_at = outbox.retry_at(row, retry_at)
            row.next_attempt_at = retry_at
        if row.status != PENDING and outbox.lease_clears:
            row.next_attempt_at = None
        if outbox.error_field:
            setattr(row, outbox.error_field, error)
        row.save(update_fields=fields)
    return SendResult(sent=True, delivered=not error, retry_at=retry_at, attempts=row.attempts)


def resend(outbox: Outbox, rows: Iterable[models.Model], *, actor) -> list[models.Model]:
    """An administrator's resend: each failed row goes back to pending (due at `resend_at`, attempts reset if the
    outbox says so) and is queued after commit; a row sent is never sent again. Returns the rows as now stored.
    Raises NotPermitted for anyone else, the model's DoesNotExist for a row that is gone."""
    if not has_role(actor, Role.ADMINISTRATOR):
        raise NotPermitted(str(outbox.resend_refused))
    pks = [row.pk for row in rows]
    now = timezone.now()
    with transaction.atomic():
        locked = {row.pk: row for row in outbox.model.objects.select_for_update().filter(pk__in=pks).order_by("pk")}
        if len(locked) < len(set(pks)):
            raise outbox.model.DoesNotExist
        put_back = []
        for row in locked.values():
            if row.status != FAILED:
                continue
            row.status = PENDING
            row.next_attempt_at = outbox.resend_at(row, now) if outbox.resend_at else None
            if outbox.resend_resets_attempts:
                row.attempts = 0
            row.save(update_fields=["status", "attempts", "next_attempt_at"])
            put_back.append(row.pk)
        if put_back:
            transaction.on_commit(lambda: outbox.queue(put_back))
    return [locked[pk] for pk in pks]
