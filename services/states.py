"""The state machine of cases and tasks: one table each, and `apply_transition`, the only writer of `status`.

Every transition bumps the object's version, writes exactly one CaseEvent in the caller's transaction, and
refuses illegal moves with `IllegalTransition` listing the moves the current state allows.
"""

from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from services import notifications, webhooks
from services.errors import IllegalTransition, StaleVersion
from tracker import logs
from tracker.models import Case, CaseEvent, Feedback, Task, User

CS = Case.Status
TS = Task.Status
Kind = CaseEvent.Kind


@dataclass(frozen=True)
class Move:
    sources: frozenset[str]
    target: str
    event: str


def _move(sources: set[str], target: str, event: str) -> Move:
    return Move(frozenset(sources), target, event)


OPEN_CASE_STATES = frozenset({CS.SUBMITTED, CS.ACCEPTED, CS.IN_PROGRESS})
FINAL_CASE_STATES = frozenset({CS.CLOSED, CS.DECLINED, CS.WITHDRAWN})

CASE_MOVES: dict[str, Move] = {
    "accept": _move({CS.SUBMITTED}, CS.ACCEPTED, Kind.ACCEPTED),
    "decline": _move({CS.SUBMITTED}, CS.DECLINED, Kind.DECLINED),
    "withdraw": _move(set(OPEN_CASE_STATES), CS.WITHDRAWN, Kind.WITHDRAWN),
    # The first decomposition starts the work; later ones (after a reopen) add tasks to work in progress.
    "decompose": _move({CS.ACCEPTED}, CS.IN_PROGRESS, Kind.DECOMPOSED),
    # A concierge may answer a case directly, without tasks, once it is accepted.
    "resolve": _move({CS.ACCEPTED, CS.IN_PROGRESS}, CS.RESOLVED, Kind.RESOLVED),
    "confirm": _move({CS.RESOLVED}, CS.CLOSED, Kind.CONFIRMED),
    "reopen": _move({CS.RESOLVED}, CS.IN_PROGRESS, Kind.REOPENED),
    "callback_confirm": _move({CS.RESOLVED}, CS.CLOSED, Kind.CALLBACK_CONFIRMED),
    "callback_reopen": _move({CS.RESOLVED}, CS.IN_PROGRESS, Kind.CALLBACK_REOPENED),
}

# A verdict on a resolved case, by who records it and what it says, is one of four case moves.
VERDICT_ACTIONS: dict[tuple[str, str], str] = {
    (Feedback.Source.ENTERPRISE, Feedback.Verdict.CONFIRM): "confirm",
    (Feedback.Source.ENTERPRISE, Feedback.Verdict.REOPEN): "reopen",
    (Feedback.Source.CALLBACK, Feedback.Verdict.CONFIRM): "callback_confirm",
    (Feedback.Source.CALLBACK, Feedback.Verdict.REOPEN): "callback_reopen",
}

# Steps that keep the case in its state, and the states that allow them.
CASE_STEPS_IN_PLACE: dict[str, frozenset[str]] = {
    "decompose": frozenset({CS.IN_PROGRESS}),  # more tasks for work under way (after a reopen, say)
    "add_info": OPEN_CASE_STATES | {CS.RESOLVED},
    "request_info": OPEN_CASE_STATES,
    "resume_clock": OPEN_CASE_STATES,  # and only while the case is paused (services.clocks)
    "reassign": OPEN_CASE_STATES | {CS.RESOLVED},
}

OPEN_TASK_STATES = frozenset({TS.PENDING, TS.IN_PROGRESS, TS.RETURNED})
# With the unit (not handed back): the states in which a deadline may be extended.
WORKING_TASK_STATES = frozenset({TS.PENDING, TS.IN_PROGRESS})

TASK_MOVES: dict[str, Move] = {
    "start": _move({TS.PENDING}, TS.IN_PROGRESS, Kind.TASK_STARTED),
    "complete": _move({TS.IN_PROGRESS}, TS.DONE, Kind.TASK_COMPLETED),
    "return": _move({TS.PENDING, TS.IN_PROGRESS}, TS.RETURNED, Kind.TASK_RETURNED),
    "redispatch": _move({TS.RETURNED}, TS.PENDING, Kind.TASK_REDISPATCHED),
    "reopen": _move({TS.DONE}, TS.PENDING, Kind.TASK_REOPENED),
    "cancel": _move(set(OPEN_TASK_STATES), TS.CANCELLED, Kind.TASK_CANCELLED),
}

# Which event kinds may appear with which (from, to) — used by the invariant checker and the seed generator.
TRANSITION_EVENT_KINDS = {move.event for move in (*CASE_MOVES.values(), *TASK_MOVES.values())}


def case_actions_allowed(status: str) -> list[str]:
    """The case actions the state machine allows from `status` (before any permission check)."""
    moves = [action for action, move in CASE_MOVES.items() if status in move.sources]
    in_place = [action for action, states in CASE_STEPS_IN_PLACE.items() if status in states]
    return list(dict.fromkeys(moves + in_place))


def task_actions_allowed(status: str) -> list[str]:
    return [action for action, move in TASK_MOVES.items() if status in move.sources]


def require_case_step(case: Case, action: str) -> None:
    """Refuse with IllegalTransition unless the case's state allows `action`."""
    allowed = case_actions_allowed(case.status)
    if action not in allowed:
        raise IllegalTransition(
            _("诉求“%(status)s”时不能执行此操作") % {"status": case.get_status_display()},
            current=case.status,
            allowed=allowed,
        )


def check_version(obj: Case | Task, expected_version: int | None) -> None:
    """Refuse with StaleVersion if the caller read an older version than the locked row has."""
    if expected_version is not None and int(expected_version) != obj.version:
        raise StaleVersion(
            _("%(object)s 已被他人修改（当前版本 %(current)d，您提交的版本 %(given)d），请刷新后重试")
            % {"object": obj._meta.verbose_name, "current": obj.version, "given": int(expected_version)},
            current_version=obj.version,
        )


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


def legal_move(obj: Case | Task, action: str) -> Move:
    """The move `action` makes from the object's current state; IllegalTransition if there is none."""
    move = (CASE_MOVES if isinstance(obj, Case) else TASK_MOVES)[action]
    if obj.status not in move.sources:
        allowed = case_actions_allowed(obj.status) if isinstance(obj, Case) else task_actions_allowed(obj.status)
        raise IllegalTransition(
            _("当前状态“%(status)s”下不能执行此操作") % {"status": obj.get_status_display()},
            current=obj.status,
            allowed=allowed,
        )
    return move


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
