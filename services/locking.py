"""Loading a case or task for a write: visible to the actor (else NotFound), row-locked, always case first."""

from django.utils.translation import gettext as _

from services.errors import NotFound
from services.selectors import cases_visible_to, tasks_visible_to
from tracker.models import Case, Task, User


def lock_case(actor: User, case: Case | int) -> Case:
    """Re-read the case under a row lock, as `actor` may see it. Call inside `transaction.atomic`."""
    pk = case.pk if isinstance(case, Case) else case
    try:
        return cases_visible_to(actor).select_for_update(of=("self",)).get(pk=pk)
    except (Case.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("诉求不存在或无权查看")) from None


def lock_task(actor: User, task: Task | int) -> Task:
    """Re-read the task and lock its case, then the task (the same order everywhere, so no deadlock)."""
    pk = task.pk if isinstance(task, Task) else task
    try:
        case_id = tasks_visible_to(actor).values_list("case_id", flat=True).get(pk=pk)
    except (Task.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("事项不存在或无权查看")) from None
    case = (
        Case.objects.select_for_update(of=("self",)).select_related("enterprise", "project", "category").get(pk=case_id)
    )
    locked = (
        Task.objects.select_for_update(of=("self",)).select_related("task_force", "department", "assignee").get(pk=pk)
    )
    locked.case = case
    return locked
