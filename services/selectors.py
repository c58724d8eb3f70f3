"""Reads that depend on who is asking. Each returns a queryset with its joins done.

Visibility is decided here and only here: an object outside a user's queryset does not exist for them.
"""

from django.db.models import Exists, OuterRef, Q, QuerySet

from services.roles import Role, has_role, is_zone_wide
from tracker.models import (
    Attachment,
    Case,
    CaseEvent,
    Enterprise,
    Extension,
    Notification,
    Project,
    Task,
    TaskForce,
    User,
    Visit,
    WebhookSubscription,
)


def task_unit_q(user: User, prefix: str = "") -> Q:
    """Tasks given to the user, their department, or a task force they belong to, lead, or whose lead or
    assisting department is theirs. Task forces come as a subquery: joining members and assisting departments
    would repeat each task once per match."""
    forces = Q(members=user) | Q(lead=user)
    if user.department_id:
        forces |= Q(lead_department_id=user.department_id) | Q(assisting_departments=user.department_id)
    q = Q(**{f"{prefix}assignee": user}) | Q(
        **{f"{prefix}task_force__in": TaskForce.objects.filter(forces).values("pk")}
    )
    if user.department_id:
        q |= Q(**{f"{prefix}department_id": user.department_id})
    return q


def _linked_q(user: User, prefix: str) -> Q:
    return (
        Q(**{f"{prefix}concierge": user})
        | Q(**{f"{prefix}backup_concierge": user})
        | Q(**{f"{prefix}linked_leader": user})
    )


def _linked_cases_q(user: User) -> Q:
    """Cases the user handles, or of an enterprise or project they are concierge, backup or leader of."""
    return Q(concierge=user) | _linked_q(user, "enterprise__") | _linked_q(user, "project__")


def concierge_of_q(user: User, prefix: str = "") -> Q:
    """Rows whose concierge or backup concierge is `user` (services.permissions.is_linked_concierge)."""
    return Q(**{f"{prefix}concierge": user}) | Q(**{f"{prefix}backup_concierge": user})


def my_cases_q(user: User) -> Q:
    """The concierge's own cases: handled by them, or of an enterprise or project they are linked to or back up."""
    return Q(concierge=user) | concierge_of_q(user, "enterprise__") | concierge_of_q(user, "project__")


def my_tasks_q(user: User) -> Q:
    """Tasks given to the user or their unit (`task_unit_q`), as one subquery: the unit's task forces may match one
    task several times, which joins would repeat."""
    return Q(pk__in=Task.objects.filter(task_unit_q(user)).values("pk"))


def my_visits_q(user: User) -> Q:
    """Visits made by the user, or to an enterprise they are concierge or backup of."""
    return Q(concierge=user) | concierge_of_q(user, "enterprise__")


def active_staff(role: str | None = None) -> QuerySet[User]:
    """Staff who may be given work (an assignee, a concierge): active, not an enterprise's account."""
    users = User.objects.filter(is_active=True, is_staff=True, enterprise__isnull=True)
    if role:
        users = users.filter(groups__name=role)
    return users.order_by("full_name", "username")


def assignable_staff() -> QuerySet[User]:
    """Staff who may be named a task's assignee (承办人): active staff accounts, never an enterprise's user, an
    integration account or an administrator. Which of them belong to the task's unit is
    `services.cases.tasks.people_of_units`."""
    return active_staff().filter(is_superuser=False).exclude(groups__name=Role.ADMINISTRATOR)


def sees_whole_zone(user: User) -> bool:
    return is_zone_wide(user) or has_role(user, Role.INTEGRATION)


def cases_visible_to(user: User) -> QuerySet[Case]:
    """Cases `user` may see: their enterprise's (enterprise user), linked or tasked ones (staff), all (leaders)."""
    cases = Case.objects.select_related("enterprise", "project", "category", "concierge")
    if not user or not user.is_authenticated or not user.is_active:
        return cases.none()
    if user.enterprise_id:
        return cases.filter(enterprise_id=user.enterprise_id)
    if sees_whole_zone(user):
        return cases
    tasked = Task.objects.filter(task_unit_q(user), case=OuterRef("pk"))
    return cases.filter(_linked_cases_q(user) | Exists(tasked))


def tasks_visible_to(user: User) -> QuerySet[Task]:
    """Tasks `user` may see: those of visible cases, and those given to them or their unit."""
    tasks = Task.objects.select_related(
        "case", "case__enterprise", "case__category", "task_force", "department", "assignee"
    )
    if not user or not user.is_authenticated or not user.is_active:
        return tasks.none()
    if user.enterprise_id:
        return tasks.filter(case__enterprise_id=user.enterprise_id)
    if sees_whole_zone(user):
        return tasks
    # The same cases as cases_visible_to, as two semi-joins the planner handles well at scale.
    unit_cases = Task.objects.filter(task_unit_q(user)).values("case_id")
    linked_cases = Case.objects.filter(_linked_cases_q(user)).values("pk")
    return tasks.filter(Q(case_id__in=unit_cases) | Q(case_id__in=linked_cases))


def enterprises_visible_to(user: User) -> QuerySet[Enterprise]:
    enterprises = Enterprise.objects.select_related("concierge", "backup_concierge", "linked_leader")
    if not user or not user.is_authenticated or not user.is_active:
        return enterprises.none()
    if user.enterprise_id:
        return enterprises.filter(pk=user.enterprise_id)
    if sees_whole_zone(user):
        return enterprises
    tasked = Task.objects.filter(task_unit_q(user), case__enterprise=OuterRef("pk"))
    linked_project = Project.objects.filter(_linked_q(user, ""), enterprise=OuterRef("pk"))
    return enterprises.filter(_linked_q(user, "") | Exists(linked_project) | Exists(tasked))


def projects_visible_to(user: User) -> QuerySet[Project]:
    projects = Project.objects.select_related("enterprise", "concierge")
    if not user or not user.is_authenticated or not user.is_active:
        return projects.none()
    if user.enterprise_id:
        return projects.filter(enterprise_id=user.enterprise_id)
    if sees_whole_zone(user):
        return projects
    visible_enterprise = enterprises_visible_to(user).filter(pk=OuterRef("enterprise_id"))
    return projects.filter(_linked_q(user, "") | Exists(visible_enterprise))


def task_forces_visible_to(user: User) -> QuerySet[TaskForce]:
    """Standing task forces, and those formed for a case the user may see."""
    if not user or not user.is_authenticated or not user.is_active:
        return TaskForce.objects.none()
    return TaskForce.objects.filter(Q(case__isnull=True) | Q(case__in=cases_visible_to(user).values("pk")))


def visits_visible_to(user: User) -> QuerySet[Visit]:
    """Visits to the enterprises `user` may see."""
    return Visit.objects.filter(enterprise__in=enterprises_visible_to(user).values("pk")).select_related(
        "enterprise", "project", "concierge"
    )


def extensions_visible_to(user: User) -> QuerySet[Extension]:
    """Extension requests of the tasks `user` may see."""
    return Extension.objects.filter(task__in=tasks_visible_to(user).values("pk")).select_related("task__case")


def notifications_visible_to(user: User) -> QuerySet[Notification]:
    """The notices `user` may read: their own, newest first, with the case each is about. Another person's notice
    does not exist for them."""
    if not user or not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user).select_related("case").order_by("-created_at", "-id")


def enterprises_filed_for_by(user: User) -> QuerySet[Enterprise]:
    """Enterprises `user` may register a case for (services.permissions.can_submit_for): any for leaders,
    administrators and integrations; else those they are concierge or backup of, and the enterprises of the
    projects they are concierge or backup of."""
    enterprises = enterprises_visible_to(user)
    if user.enterprise_id or sees_whole_zone(user):
        return enterprises
    linked_projects = Project.objects.filter(concierge_of_q(user)).values("enterprise_id")
    return enterprises.filter(concierge_of_q(user) | Q(pk__in=linked_projects))


def projects_filed_for_by(user: User, enterprise: Enterprise | int) -> QuerySet[Project]:
    """The projects of `enterprise` a case registered by `user` may concern: all of them when the user may file
    for the whole enterprise, else those they are concierge or backup of."""
    pk = enterprise.pk if isinstance(enterprise, Enterprise) else enterprise
    projects = projects_visible_to(user).filter(enterprise_id=pk).order_by("name", "pk")
    if (
        user.enterprise_id
        or sees_whole_zone(user)
        or enterprises_visible_to(user).filter(concierge_of_q(user), pk=pk).exists()
    ):
        return projects
    return projects.filter(concierge_of_q(user))


def attachments_visible_to(user: User, case: Case) -> QuerySet[Attachment]:
    """The files of a case `user` may see (the case itself is visible to them): all of them for staff; for an
    enterprise or an integration, not those kept to staff (a unit's internal replies)."""
    files = case.attachments.select_related("uploaded_by", "task").order_by("created_at", "id")
    if user.enterprise_id or has_role(user, Role.INTEGRATION):
        files = files.filter(staff_only=False)
    return files


def case_timeline(case: Case) -> QuerySet[CaseEvent]:
    """The case's events in the order they happened, with their actors."""
    return case.events.select_related("actor", "task").order_by("created_at", "id")


_K = CaseEvent.Kind
# What an enterprise sees of its case's timeline: the steps taken for it, not the units' internal exchanges
# (a task handed back with the unit's reasons, extensions asked for or refused, tasks re-dispatched or dropped).
ENTERPRISE_EVENT_KINDS = frozenset(
    {
        _K.SUBMITTED,
        _K.ACCEPTED,
        _K.DECLINED,
        _K.WITHDRAWN,
        _K.INFO_ADDED,
        _K.INFO_REQUESTED,
        _K.DECOMPOSED,
        _K.TASK_CREATED,
        _K.TASK_STARTED,
        _K.TASK_COMPLETED,
        _K.EXTENSION_APPROVED,
        _K.RESOLVED,
        _K.CONFIRMED,
        _K.REOPENED,
        _K.CALLBACK_CONFIRMED,
        _K.CALLBACK_REOPENED,
        _K.CONCIERGE_CHANGED,
        _K.CLOCK_PAUSED,  # the enterprise is told its answer is awaited and the time limits stand still
        _K.CLOCK_RESUMED,
        _K.DEADLINE_RESCHEDULED,
    }
)


def event_note_for(user: User, event: CaseEvent) -> str:
    """An event's note as `user` may read it: a unit's own words on a task (its result, its reasons) stay with
    staff; the enterprise reads the concierge's answer instead."""
    if user.enterprise_id and event.task_id is not None:
        return ""
    return event.note


def timeline_for(user: User, case: Case) -> QuerySet[CaseEvent]:
    """The case's timeline as `user` may read it: all of it for staff, the steps taken for it for the enterprise."""
    events = case_timeline(case)
    if user.enterprise_id:
        events = events.filter(kind__in=ENTERPRISE_EVENT_KINDS)
    return events


def subscriptions_visible_to(user: User) -> QuerySet[WebhookSubscription]:
    """Webhook subscriptions `user` may see and manage: all of them for an administrator, its own for an
    integration account, none for anyone else."""
    subscriptions = WebhookSubscription.objects.select_related("owner")
    if not user or not user.is_authenticated or not user.is_active:
        return subscriptions.none()
    if has_role(user, Role.ADMINISTRATOR):
        return subscriptions
    if has_role(user, Role.INTEGRATION):
        return subscriptions.filter(owner=user)
    return subscriptions.none()
