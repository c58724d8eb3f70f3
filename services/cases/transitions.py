"""Applying the state machine: `apply_transition`, the only writer of `status`, and `record_event`, the only
writer of the timeline.

Every transition bumps the object's version, writes exactly one CaseEvent in the caller's transaction, and
the webhook deliveries and notices the event calls for.
"""

from django.utils import timezone

from services.delivery import notifications, webhooks
from services.states import legal_move
from tracker import logs
from tracker.models import Case, CaseEvent, Task, User


def record_event(
    *,
    case: Case,
    kind: str,
    actor: User | None,
    task: Task | None = None,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    data: dict | None = None,
    at=None,
) -> CaseEvent:
    """Append one event to the case's timeline, mark the case changed (version, updated_at) and write the
    webhook deliveries and the enterprise's notifications it calls for.

    The caller holds the case row lock and an open transaction.
    """
    at = at or timezone.now()
    logs.bind(case=case.number)
    event = CaseEvent.objects.create(
        case=case,
        task=task,
        actor=actor,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        note=note,
        data=data or {},
        created_at=at,
    )
    case.version += 1
    case.updated_at = at
    Case.objects.filter(pk=case.pk).update(version=case.version, updated_at=at)
    webhooks.on_case_event(event, case)
    notifications.on_case_event(event, case)
    return event


def apply_transition(
    obj: Case | Task,
    action: str,
    *,
    actor: User | None,
    note: str = "",
    data: dict | None = None,
    changes: dict | None = None,
    at=None,
) -> CaseEvent:
    """Move a locked case or task by `action`, save `changes` with it, and record the event.

    This is the only place that writes `status`.
    """
    move = legal_move(obj, action)
    at = at or timezone.now()
    from_status = obj.status
    fields = {"status": move.target, **(changes or {})}
    if isinstance(obj, Task):
        fields.update(version=obj.version + 1, updated_at=at)
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.save(update_fields=list(fields))
    case = obj if isinstance(obj, Case) else obj.case
    return record_event(
        case=case,
        kind=move.event,
        actor=actor,
        task=None if isinstance(obj, Case) else obj,
        from_status=from_status,
        to_status=move.target,
        note=note,
        data=data,
        at=at,
    )
