"""What the two outboxes (webhook deliveries in `services.delivery.webhooks`, pushes in `services.delivery.pushes`)
share: handing written rows to the worker without failing the request when the broker is down, and the retry backoff."""

import logging
from collections.abc import Iterable
from datetime import timedelta

logger = logging.getLogger(__name__)


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
