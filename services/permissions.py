"""Who may do what (DESIGN.md §4), as predicates on loaded objects. Visibility itself is in `selectors`."""

from services.roles import Role, has_role, is_zone_wide
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


def can_submit_for(user: User, enterprise: Enterprise) -> bool:
    if user.enterprise_id:
        return user.enterprise_id == enterprise.pk
    return is_zone_wide(user) or has_role(user, Role.INTEGRATION) or is_linked_concierge(user, enterprise)


def can_work_task(user: User, task: Task) -> bool:
    """The unit's work on a task: start, complete, return, ask for an extension."""
    if has_role(user, Role.ADMINISTRATOR):
        return True
    if user.enterprise_id:
        return False
    if task.assignee_id == user.pk:
        return True
    unit_departments = {task.department_id}
    if task.task_force_id:
        unit_departments.add(task.task_force.lead_department_id)
        if task.task_force.lead_id == user.pk or task.task_force.members.filter(pk=user.pk).exists():
            return True
    return user.department_id is not None and user.department_id in unit_departments


def can_decide_extension(user: User) -> bool:
    return is_zone_wide(user)


def can_reassign(user: User) -> bool:
    return is_zone_wide(user)
