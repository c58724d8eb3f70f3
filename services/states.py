"""The state machine of cases and tasks: one table each, the status sets every module shares, the guards on
steps a state allows only under a condition (no open task, a running pause), and the checks that refuse an illegal
step (`IllegalTransition`, listing the moves the current state allows; a guard's refusal carries its own code).

A leaf: it imports nothing of the delivery side. `services.cases.transitions` applies the moves.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
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


# Guards ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """Why a guard refuses a step now: a stable `code`, the message a person reads, the `data` a program acts on."""

    code: str
    message: str
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Guard:
    """A named condition on a step its state allows. `blocks(case)` answers from what the case has loaded where it
    can (lists annotate what it needs, so that listing actions costs no query per row); `refusal(case)` says why,
    reading what it must — called on one case, when refusing or explaining. A page explains a step held back by
    a guard that is `explained` (resolve while tasks are open); others just leave the step out (resume a running
    clock)."""

    code: str
    blocks: Callable[[Case], bool]
    refusal: Callable[[Case], Refusal]
    explained: bool = True


def open_tasks_of(case: Case) -> list[tuple[int, str]]:
    """(id, title) of the case's open tasks, oldest first: from its prefetched `tasks` when loaded, else one query.
    A case not yet stored (the seed generator walks cases in memory) has none stored."""
    if case.pk is None:
        return []
    prefetched = getattr(case, "_prefetched_objects_cache", {}).get("tasks")
    if prefetched is not None:
        tasks = sorted(prefetched, key=lambda task: task.pk)
        return [(task.pk, task.title) for task in tasks if task.status in OPEN_TASK_STATES]
    return list(case.tasks.filter(status__in=OPEN_TASK_STATES).order_by("id").values_list("id", "title"))


def annotate_open_task_count(cases: QuerySet) -> QuerySet:
    """Each case with `open_task_count`, in the list's one query: what the `tasks_open` guard reads on lists."""
    open_tasks = (
        Task.objects.filter(case=OuterRef("pk"), status__in=OPEN_TASK_STATES)
        .order_by()
        .values("case")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return cases.annotate(open_task_count=Coalesce(Subquery(open_tasks, output_field=IntegerField()), Value(0)))


def _has_open_tasks(case: Case) -> bool:
    count = getattr(case, "open_task_count", None)  # annotated on lists
    return bool(count) if count is not None else bool(open_tasks_of(case))


def _tasks_open(case: Case) -> Refusal:
    tasks = open_tasks_of(case)
    return Refusal(
        "tasks_open",
        _("还有%(count)d个事项未办结（%(titles)s），不能办结答复")
        % {"count": len(tasks), "titles": "、".join(title for _pk, title in tasks[:5])},
        {"open_tasks": [pk for pk, _title in tasks]},
    )


def _not_paused(case: Case) -> Refusal:
    return Refusal("not_paused", _("诉求未挂起，无需恢复计时"), {})


# docs/states-and-roles.md: a case cannot be resolved while any of its tasks is open; a pause is ended only while
# there is one.
TASKS_OPEN = Guard("tasks_open", _has_open_tasks, _tasks_open)
NOT_PAUSED = Guard("not_paused", lambda case: case.clock_paused_at is None, _not_paused, explained=False)

CASE_GUARDS: dict[str, tuple[Guard, ...]] = {
    "resolve": (TASKS_OPEN,),
    "resume_clock": (NOT_PAUSED,),
}
# No task move has a guard of its own: what a task may do beyond its state depends on its case's state, which
# `services.permissions.task_actions_for` and `services.cases.tasks` check.
TASK_GUARDS: dict[str, tuple[Guard, ...]] = {}

# Every code a guard refuses with (the API documents them with the error classes' codes).
GUARD_CODES = tuple(dict.fromkeys(guard.code for guards in CASE_GUARDS.values() for guard in guards))


def case_step_blocked(case: Case, action: str) -> bool:
    """Whether a guard refuses `action` on `case` now, answered from what the case has loaded where it can."""
    return any(guard.blocks(case) for guard in CASE_GUARDS.get(action, ()))


def case_refusal(case: Case, action: str, *, explained_only: bool = False) -> Refusal | None:
    """Why `action` is refused on `case` now (the first guard that refuses it), or None. Reads what it must.
    With `explained_only`, only the guards a page explains (None when another guard refuses)."""
    for guard in CASE_GUARDS.get(action, ()):
        if guard.blocks(case):
            return guard.refusal(case) if guard.explained or not explained_only else None
    return None


def case_actions_allowed(status: str, case: Case | None = None) -> list[str]:
    """The case actions the state machine allows from `status` (before any permission check); given the `case`,
    less those a guard refuses now (see `case_step_blocked` for what that reads)."""
    moves = [action for action, move in CASE_MOVES.items() if status in move.sources]
    in_place = [action for action, states in CASE_STEPS_IN_PLACE.items() if status in states]
    allowed = list(dict.fromkeys(moves + in_place))
    if case is not None:
        allowed = [action for action in allowed if not case_step_blocked(case, action)]
    return allowed


def task_actions_allowed(status: str) -> list[str]:
    return [action for action, move in TASK_MOVES.items() if status in move.sources]


def _refuse_if_guarded(case: Case, action: str, allowed: list[str]) -> None:
    refusal = case_refusal(case, action)
    if refusal is not None:
        raise IllegalTransition(
            refusal.message,
            current=case.status,
            allowed=[a for a in allowed if a != action],
            code=refusal.code,
            data=refusal.data,
        )


def require_case_step(case: Case, action: str) -> None:
    """Refuse with IllegalTransition unless the case's state allows `action` (code `illegal_transition`) and its
    guards let it through now (the guard's code and data, e.g. `not_paused`)."""
    allowed = case_actions_allowed(case.status)
    if action not in allowed:
        raise IllegalTransition(
            _("诉求“%(status)s”时不能执行此操作") % {"status": case.get_status_display()},
            current=case.status,
            allowed=allowed,
        )
    _refuse_if_guarded(case, action, allowed)


def check_version(obj: Case | Task, expected_version: int | None) -> None:
    """Refuse with StaleVersion if the caller read an older version than the locked row has."""
    if expected_version is not None and int(expected_version) != obj.version:
        raise StaleVersion(
            _("%(object)s 已被他人修改（当前版本 %(current)d，您提交的版本 %(given)d），请刷新后重试")
            % {"object": obj._meta.verbose_name, "current": obj.version, "given": int(expected_version)},
            current_version=obj.version,
        )


def legal_move(obj: Case | Task, action: str) -> Move:
    """The move `action` makes from the object's current state; IllegalTransition if there is none (code
    `illegal_transition`) or if a guard refuses it now (the guard's code and data, e.g. `tasks_open`)."""
    is_case = isinstance(obj, Case)
    move = (CASE_MOVES if is_case else TASK_MOVES)[action]
    allowed = case_actions_allowed(obj.status) if is_case else task_actions_allowed(obj.status)
    if obj.status not in move.sources:
        raise IllegalTransition(
            _("当前状态“%(status)s”下不能执行此操作") % {"status": obj.get_status_display()},
            current=obj.status,
            allowed=allowed,
        )
    if is_case:
        _refuse_if_guarded(obj, action, allowed)
    return move
