"""Visits (走访): a concierge records a visit, and the problems found there become cases."""

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from services.cases.steps import check_case_fields, submit_case
from services.errors import NotFound, NotPermitted
from services.permissions import is_linked_concierge
from services.roles import is_zone_wide
from services.selectors import concierge_of_q, enterprises_visible_to, projects_visible_to
from services.validation import FieldErrors
from tracker.models import Case, Category, Enterprise, Project, User, Visit


@dataclass
class ProblemSpec:
    """A problem found on a visit, to be submitted as a case on the enterprise's behalf."""

    category: Category
    title: str
    description: str
    urgency: str | None = None
    project: Project | None = None


def visit_choices(actor: User) -> tuple[QuerySet[Enterprise], QuerySet[Project]]:
    """The enterprises and projects `actor` may record a visit to (as `record_visit` allows): all for leaders,
    else those they are concierge or backup of, and the enterprises of such projects."""
    enterprises = enterprises_visible_to(actor).order_by("name")
    projects = projects_visible_to(actor).select_related("enterprise").order_by("name")
    if is_zone_wide(actor):
        return enterprises, projects
    linked_projects = projects.filter(concierge_of_q(actor))
    enterprises = enterprises.filter(concierge_of_q(actor) | Q(pk__in=linked_projects.values("enterprise_id")))
    return enterprises, projects.filter(Q(enterprise__in=enterprises.values("pk")) | concierge_of_q(actor))


def record_visit(
    *,
    actor: User,
    enterprise: Enterprise,
    visited_on: date,
    people_met: str = "",
    notes: str = "",
    project: Project | None = None,
    problems: list[ProblemSpec] | None = None,
) -> tuple[Visit, list[Case]]:
    """Record a visit to a linked enterprise (or a linked project of it) and submit each problem found as a
    case with channel `visit`. Every field of every problem is checked before anything is written."""
    if enterprise is None or not enterprises_visible_to(actor).filter(pk=enterprise.pk).exists():
        raise NotFound(_("企业不存在或无权查看"))
    if not (is_zone_wide(actor) or is_linked_concierge(actor, enterprise) or is_linked_concierge(actor, project)):
        raise NotPermitted(_("只能登记对挂钩企业或挂钩项目的走访"))
    errors = FieldErrors()
    if not isinstance(visited_on, date):
        errors.add("visited_on", _("应为日期"))
    elif visited_on > timezone.localdate():
        errors.add("visited_on", _("走访日期不能晚于今天"))
    people_met = errors.text("people_met", people_met, required=False, max_length=200)
    notes = errors.text("notes", notes, required=False, max_length=10000)
    if project is not None and project.enterprise_id != enterprise.pk:
        errors.add("project", _("该项目不属于此企业"))
    for i, problem in enumerate(problems or []):
        check_case_fields(
            errors,
            enterprise=enterprise,
            category=problem.category,
            title=problem.title,
            description=problem.description,
            urgency=problem.urgency,
            project=problem.project or project,
            prefix=f"problems[{i}].",
        )
    errors.raise_if_any()
    with transaction.atomic():
        visit = Visit.objects.create(
            concierge=actor,
            enterprise=enterprise,
            project=project,
            visited_on=visited_on,
            people_met=people_met,
            notes=notes,
        )
        cases = [
            submit_case(
                actor=actor,
                enterprise=enterprise,
                category=problem.category,
                title=problem.title,
                description=problem.description,
                urgency=problem.urgency,
                project=problem.project or project,
                channel=Case.Channel.VISIT,
                visit=visit,
            )
            for problem in problems or []
        ]
    return visit, cases
