"""The state machine of cases and tasks: one table each, the status sets every module shares, and the checks
that refuse an illegal step (`IllegalTransition`, listing the moves the current state allows).

A leaf: it imports nothing of the delivery side. `services.cases.transitions` applies the moves.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from services.errors import IllegalTransition, StaleVersion
from tracker.models import Case, CaseEvent, Feedback, Task

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
    "resume_clock": OPEN_CASE_STATES,  # and only while the case is paused (services.cases.clocks)
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
