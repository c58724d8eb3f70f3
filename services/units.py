"""A unit (承办单位): the task force or department a task is given to."""

from tracker.models import Department, TaskForce


def unit_name(task_force: TaskForce | None, department: Department | None) -> str:
    return task_force.name if task_force else department.name if department else ""
