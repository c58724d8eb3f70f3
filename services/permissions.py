"""Who may do what (docs/states-and-roles.md), as predicates on loaded objects. Visibility itself is in `selectors`."""

from services.roles import Role, has_role, is_zone_wide
from services.states import (
    WORKING_TASK_STATES,
    Refusal,
    case_actions_allowed,
    case_refusal,
    case_step_blocked,
    task_actions_allowed,
)
from tracker.models import Case, Enterprise, Project, Task, User


def is_linked_concierge(user: User, obj: Enterprise | Project | None) -> bool:
    return bool(obj) and user.pk in (obj.concierge_id, obj.backup_concierge_id)


def can_handle_case(user: User, case: Case) -> bool:
    """Concierge work on a case: accept, decline, decompose, re-dispatch, resolve, record a callback."""
    if is_zone_wide(user):
        return True
    if user.enterprise_id:
        return False
    return (
        case.concierge_id == user.pk
        or is_linked_concierge(user, case.enterprise)
        or is_linked_concierge(user, case.project)
    )


def can_act_for_enterprise(user: User, case: Case) -> bool:
    """The enterprise's own actions: withdraw, confirm or reopen, add information."""
    return bool(user.enterprise_id) and user.enterprise_id == case.enterprise_id


def can_submit_for(user: User, enterprise: Enterprise, project: Project | None = None) -> bool:
    """An enterprise user for its own enterprise; staff for a linked enterprise or project; leaders and
    integrations for any."""
    if user.enterprise_id:
        return user.enterprise_id == enterprise.pk
    return (
        is_zone_wide(user)
        or has_role(user, Role.INTEGRATION)
        or is_linked_concierge(user, enterprise)
        or (project is not None and project.enterprise_id == enterprise.pk and is_linked_concierge(user, project))
    )


def can_register_cases(user: User) -> bool:
    """Who registers cases received by phone, from the hotline or at a walk-in (登记诉求) in the workbench:
    concierges, leaders and administrators — not task units, enterprise users or integrations. For which
    enterprise each may register is `can_submit_for`."""
    if not user or not user.is_authenticated or not user.is_active or user.enterprise_id:
        return False
    return is_zone_wide(user) or has_role(user, Role.CONCIERGE)


def can_work_task(user: User, task: Task) -> bool:
    """The unit's work on a task: start, complete, return, ask for an extension."""
    if has_role(user, Role.ADMINISTRATOR):
        return True
    if user.enterprise_id:
        return False
    if task.assignee_id == user.pk:
        return True
    task_force = task.task_force
    if user.department_id is not None:
        if user.department_id in (task.department_id, task_force and task_force.lead_department_id):
            return True
        if task_force and task_force.assisting_departments.filter(pk=user.department_id).exists():
            return True
    return bool(task_force) and (task_force.lead_id == user.pk or task_force.members.filter(pk=user.pk).exists())


def can_decide_extension(user: User) -> bool:
    return is_zone_wide(user)


def can_reassign(user: User) -> bool:
    return is_zone_wide(user)


# Case actions by who may take them; the services check the same predicates when the action is taken.
_CASE_ACTION_PERMISSIONS = {
    "accept": can_handle_case,
    "decline": can_handle_case,
    "decompose": can_handle_case,
    "resolve": can_handle_case,
    "callback": can_handle_case,
    "request_info": can_handle_case,
    "resume_clock": can_handle_case,  # while the case is paused: the not_paused guard (services.states)
    "withdraw": can_act_for_enterprise,
    "confirm": can_act_for_enterprise,
    "reopen": can_act_for_enterprise,
    "add_info": lambda user, case: can_act_for_enterprise(user, case) or can_handle_case(user, case),
    "reassign": lambda user, case: can_reassign(user),
}


def _case_actions_by_state_and_role(user: User, case: Case) -> list[str]:
    allowed = set(case_actions_allowed(case.status))
    if {"callback_confirm", "callback_reopen"} & allowed:
        allowed.add("callback")
    return [action for action, may in _CASE_ACTION_PERMISSIONS.items() if action in allowed and may(user, case)]


def case_actions_for(user: User, case: Case) -> list[str]:
    """The case actions `user` may take now: allowed by the case's state, by who they are, and by the state
    machine's guards (no `resolve` while a task is open). The guards read what the case has loaded: on a list,
    annotate it (`services.states.annotate_open_task_count`) or prefetch its tasks, so no row costs a query.

    Staff record the enterprise's verdict by phone as one `callback` action (confirm or reopen)."""
    return [action for action in _case_actions_by_state_and_role(user, case) if not case_step_blocked(case, action)]


def case_actions_held_back(user: User, case: Case) -> dict[str, Refusal]:
    """The case actions `user` could take by state and role but a guard refuses now, each with why: for a page that
    says why a button is missing (only the guards worth explaining; reads what it must: use on one case)."""
    held_back = {}
    for action in _case_actions_by_state_and_role(user, case):
        refusal = case_refusal(case, action, explained_only=True)
        if refusal is not None:
            held_back[action] = refusal
    return held_back


def task_actions_for(user: User, task: Task) -> list[str]:
    """The task actions `user` may take now. The unit starts, completes, returns and asks for more time
    (`extend`); the case's concierge re-dispatches, reopens or cancels while the case is in progress."""
    allowed = set(task_actions_allowed(task.status))
    if task.status in WORKING_TASK_STATES:
        allowed.add("extend")
    actions = []
    if can_work_task(user, task):
        actions += [a for a in ("start", "complete", "return", "extend") if a in allowed]
    if task.case.status == Case.Status.IN_PROGRESS and can_handle_case(user, task.case):
        actions += [a for a in ("redispatch", "reopen", "cancel") if a in allowed]
    return actions


def extension_actions_for(user: User, extension) -> list[str]:
    """A leader decides a pending extension; one whose task is no longer open can only be rejected."""
    if extension.status != extension.Status.PENDING or not can_decide_extension(user):
        return []
    if extension.task.status in WORKING_TASK_STATES:
        return ["approve", "reject"]
    return ["reject"]
