"""Who works here and in which unit: users (their roles, their department or enterprise, their password),
departments and task forces. Administrators only; every save is recorded in the audit log (`services.audit`).

Each function takes the row (or its id; None to create one) and the values to set by field name, as a form gives
them: only those given are changed. A password is set only by `set_password` (or given when a user is created),
and the log says only that it changed.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from services.audit import password_changed, save_audited
from services.errors import InvalidInput, NotPermitted
from services.roles import Role, has_role
from services.validation import FieldErrors
from tracker.models import Department, TaskForce, User


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Any = _Unchanged()  # a many-to-many list not given keeps its rows


def require_administrator(actor: User) -> None:
    """Users, departments, task forces and the holiday calendar are the administrators' to change."""
    if not has_role(actor, Role.ADMINISTRATOR):
        raise NotPermitted(_("只有系统管理员可以修改人员、部门、专班和节假日设置"))


def _given(**lists) -> dict[str, Iterable]:
    return {name: rows for name, rows in lists.items() if rows is not UNCHANGED}


def _check_staff(errors: FieldErrors, field: str, user: User | None) -> None:
    if user is not None and (user.enterprise_id or not user.is_active):
        errors.add(field, _("须为在职的工作人员"))


# Users ----------------------------------------------------------------------------------------------------------


def _check_user(user: User, errors: FieldErrors) -> None:
    if user.department_id and user.enterprise_id:
        errors.add("enterprise", _("工作人员（所在部门）与企业用户（所属企业）只能选其一"))


def save_user(
    *,
    actor: User,
    user: User | int | None,
    values: Mapping[str, Any],
    groups: Iterable[Group] = UNCHANGED,
    user_permissions: Iterable[Permission] = UNCHANGED,
    password: str | None = UNCHANGED,
) -> User:
    """An administrator adds a person (`user` None; `password` the first password, None for no password sign-in)
    or changes one: their name, department or enterprise, whether they may sign in, their roles (`groups`)."""
    require_administrator(actor)
    if "password" in values:
        raise TypeError("a password is set by set_password, never as a value")
    if user is not None and password is not UNCHANGED:
        raise TypeError("a person's password is changed by set_password")

    def first_password(row: User) -> list[list]:
        if password is UNCHANGED:
            return []
        if password is None:
            row.set_unusable_password()
            return [["password", password_changed(set_usable=False)]]
        _check_password(row, password)
        row.set_password(password)
        return [["password", password_changed()]]

    prepare = first_password if user is None else None
    return save_audited(
        actor=actor,
        model=User,
        obj=user,
        values=values,
        related=_given(groups=groups, user_permissions=user_permissions),
        check=_check_user,
        prepare=prepare,
    )


def _check_password(user: User, password: str) -> None:
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise InvalidInput(_("密码不符合要求"), fields={"password": list(error.messages)}) from None


def set_password(*, actor: User, user: User | int, password: str | None) -> User:
    """An administrator sets a person's password (None: switches off signing in by password). The log records that
    it changed, never the password."""
    require_administrator(actor)

    def new_password(row: User) -> list[list]:
        if password is None:
            row.set_unusable_password()
            return [["password", password_changed(set_usable=False)]]
        _check_password(row, password)
        row.set_password(password)
        return [["password", password_changed()]]

    return save_audited(actor=actor, model=User, obj=user, values={}, prepare=new_password)


# Departments and task forces ---------------------------------------------------------------------------------------


def _check_department(department: Department, errors: FieldErrors) -> None:
    _check_staff(errors, "head", department.head)


def save_department(*, actor: User, department: Department | int | None, values: Mapping[str, Any]) -> Department:
    """An administrator adds or changes a department (its name, head, robot address, whether it is given tasks)."""
    require_administrator(actor)
    return save_audited(actor=actor, model=Department, obj=department, values=values, check=_check_department)


def save_task_force(
    *,
    actor: User,
    task_force: TaskForce | int | None,
    values: Mapping[str, Any],
    assisting_departments: Iterable[Department] = UNCHANGED,
    members: Iterable[User] = UNCHANGED,
) -> TaskForce:
    """An administrator adds or changes a task force: its lead unit and lead, its assisting units and members
    (who then see and work its tasks)."""
    require_administrator(actor)
    given_members = None if members is UNCHANGED else list(members)

    def check(task_force: TaskForce, errors: FieldErrors) -> None:
        _check_staff(errors, "lead", task_force.lead)
        for member in given_members or []:
            if member.enterprise_id or not member.is_active:
                errors.add("members", _("%(name)s 不是在职的工作人员") % {"name": member.display_name})

    related = _given(
        assisting_departments=assisting_departments, members=UNCHANGED if given_members is None else given_members
    )
    return save_audited(actor=actor, model=TaskForce, obj=task_force, values=values, related=related, check=check)
