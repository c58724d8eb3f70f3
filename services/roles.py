"""Staff roles (docs/states-and-roles.md). A role is a Django group named by its code; the permissions the admin needs
are attached to those groups by `services.register.reference.ensure_role_groups`.

Most of what a person may do follows from links, not roles: a concierge acts on the cases of enterprises
linked to them, a department officer on tasks given to their department. Roles add the zone-wide powers.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from tracker.models import User


class Role(models.TextChoices):
    CONCIERGE = "concierge", _("服务专员")
    TASK_FORCE_MEMBER = "task_force_member", _("专班成员")
    DEPARTMENT_OFFICER = "department_officer", _("部门经办人")
    LEADER = "leader", _("领导")
    ADMINISTRATOR = "administrator", _("系统管理员")
    INTEGRATION = "integration", _("系统对接账号")


def roles_of(user: User) -> frozenset[str]:
    """The role codes of `user`, read once per user object."""
    if not user or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_role_codes", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        if user.is_superuser:
            cached |= {Role.ADMINISTRATOR}
        user._role_codes = cached
    return cached


def has_role(user: User, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def is_zone_wide(user: User) -> bool:
    """Leaders and administrators see and may act on everything in the zone."""
    return has_role(user, Role.LEADER, Role.ADMINISTRATOR)
