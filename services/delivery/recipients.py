"""Who hears of a case or a task: the one place that decides it, for notices (`services.delivery.notifications`),
reminders (`services.time.reminders`), digests (`services.delivery.digests`) and the concierge a new case is given
(`services.cases.steps.submit_case`).

- the case's concierge: the one the case was given (at submission, or by a leader's reassignment), else the
  project's, else the enterprise's — the order a case is given its concierge at submission, so a case that
  carries none (registered before anyone was linked) reaches whoever is linked now;
- the backup concierge: the project's, else the enterprise's (the same order as the linked leader);
- a task's workers: its assignee; else its task force's lead and members; else its department's officers;
- the unit head: the head of the task's department, else of its task force's lead department;
- the linked leader: the project's, else the enterprise's;
- the enterprise's users: its active accounts.

Each rule is written twice, side by side: for one case or task already loaded (the `*_RELATED` joins make it cost
no query), and as a `Q` on cases or tasks for one person (what a digest lists for them), so the two cannot drift.
"""

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from services.roles import Role, has_role
from tracker.models import Case, Enterprise, Project, Task, TaskForce, User

# What the functions below read of a case or a task: load them with these and they cost no query.
CASE_RELATED = (
    "concierge",
    "enterprise__concierge",
    "enterprise__backup_concierge",
    "enterprise__linked_leader",
    "project__concierge",
    "project__backup_concierge",
    "project__linked_leader",
)
TASK_RELATED = ("assignee", "task_force__lead", "task_force__lead_department__head", "department__head")
TASK_PREFETCH = ("task_force__members",)


# The case's people ---------------------------------------------------------------------------------------------


def linked_concierge_id(enterprise: Enterprise, project: Project | None) -> int | None:
    """The concierge a new case of `enterprise` (about `project`, if any) is given: the project's, else the
    enterprise's."""
    return (project.concierge_id if project else None) or enterprise.concierge_id


def concierge(case: Case) -> User | None:
    """The case's concierge: its own, else the project's, else the enterprise's."""
    if case.concierge_id:
        return case.concierge
    if case.project_id and case.project.concierge_id:
        return case.project.concierge
    return case.enterprise.concierge


def concierge_q(user: User, prefix: str = "") -> Q:
    """Cases whose concierge (`concierge`) is `user`."""
    own, project, enterprise = (f"{prefix}concierge", f"{prefix}project__concierge", f"{prefix}enterprise__concierge")
    return (
        Q(**{own: user})
        | Q(**{f"{own}__isnull": True, project: user})
        # A case without a project joins none: its project's concierge reads as null, as intended.
        | Q(**{f"{own}__isnull": True, f"{project}__isnull": True, enterprise: user})
    )


def backup_concierge(case: Case) -> User | None:
    """Who stands in for the case's concierge: the project's backup, else the enterprise's."""
    if case.project_id and case.project.backup_concierge_id:
        return case.project.backup_concierge
    return case.enterprise.backup_concierge


def backup_concierge_q(user: User, prefix: str = "") -> Q:
    """Cases whose backup concierge (`backup_concierge`) is `user`."""
    project, enterprise = f"{prefix}project__backup_concierge", f"{prefix}enterprise__backup_concierge"
    return Q(**{project: user}) | Q(**{f"{project}__isnull": True, enterprise: user})


def linked_leader(case: Case) -> User | None:
    """The leader linked to the case's project, else to its enterprise: who hears of escalations."""
    return (case.project.linked_leader if case.project_id else None) or case.enterprise.linked_leader


def enterprise_users(enterprise_ids: Iterable[int]) -> QuerySet[User]:
    """The active accounts of the enterprises: who hears of their cases in the portal."""
    return User.objects.filter(enterprise_id__in=list(enterprise_ids), is_active=True)


# A task's people -----------------------------------------------------------------------------------------------


def department_officers(department_ids: Iterable[int]) -> dict[int, list[User]]:
    """The active officers of each department, in one query."""
    officers: dict[int, list[User]] = {}
    users = User.objects.filter(
        department_id__in=list(department_ids), is_active=True, groups__name=Role.DEPARTMENT_OFFICER
    ).distinct()
    for user in users:
        officers.setdefault(user.department_id, []).append(user)
    return officers


def task_workers(task: Task, officers: list[User] | None = None) -> list[User]:
    """Who works a task: its assignee; else its task force's lead and members; else its department's officers
    (`officers`, when the caller loaded them for many tasks at once with `department_officers`)."""
    if task.assignee_id:
        return [task.assignee]
    if task.task_force_id:
        force = task.task_force
        return [user for user in [force.lead, *force.members.all()] if user is not None]
    if officers is None:
        officers = department_officers([task.department_id]).get(task.department_id, [])
    return officers


def task_workers_q(user: User, prefix: str = "") -> Q:
    """Tasks `user` works (`task_workers`). Task forces come as a subquery: joining members would repeat a task."""
    unassigned = {f"{prefix}assignee__isnull": True}
    forces = TaskForce.objects.filter(Q(lead=user) | Q(members=user)).values("pk")
    q = Q(**{f"{prefix}assignee": user}) | Q(**unassigned, **{f"{prefix}task_force__in": forces})
    if user.department_id and user.is_active and has_role(user, Role.DEPARTMENT_OFFICER):
        q |= Q(**unassigned, **{f"{prefix}task_force__isnull": True, f"{prefix}department_id": user.department_id})
    return q


def unit_head(task: Task) -> User | None:
    """The head of the unit given the task: its department's, else its task force's lead department's."""
    department = task.department or (task.task_force.lead_department if task.task_force_id else None)
    return department.head if department else None


# Everyone of a kind --------------------------------------------------------------------------------------------


def staff() -> QuerySet[User]:
    """Staff accounts (never an enterprise's): who gets a daily digest of their work."""
    return User.objects.filter(is_staff=True, enterprise__isnull=True)


def leaders() -> QuerySet[User]:
    """The leaders: who gets the weekly summary."""
    return User.objects.filter(groups__name=Role.LEADER).distinct()
