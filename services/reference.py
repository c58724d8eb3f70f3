"""Reference data: categories, departments, tiers, standing task forces, the role groups and the periodic tasks.

Loaded from `seeds/reference/*.yaml` by `manage.py seed`. Rows are keyed by a stable code or name and only
created when missing: loading twice changes nothing, and limits staff edited in the admin are never reverted.
"""

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from services.roles import Role
from services.schedules import ensure_periodic_tasks
from tracker.models import Category, Department, TaskForce, Tier

_REFERENCE_MODELS = ["category", "department", "taskforce", "tier", "holidayoverride", "holidayyear"]
_REGISTER_MODELS = ["enterprise", "project"]
_CASE_MODELS = ["case", "task", "extension", "caseevent", "attachment"]
_CONTEXT = [*_REFERENCE_MODELS, *_REGISTER_MODELS, *_CASE_MODELS]


def _view(*models: str) -> list[str]:
    return [f"view_{m}" for m in models]


# Django model permissions per role (DESIGN.md §4): which admin pages each role may open. What a person may do
# on a given case or task is decided by services.permissions, not by these.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    # Concierges work cases, record verdicts by phone and visits.
    Role.CONCIERGE: [*_view(*_CONTEXT, "feedback", "visit"), "add_visit"],
    # Task units see their tasks and the case context they need; not the zone's verdicts or visits.
    Role.TASK_FORCE_MEMBER: _view(*_CONTEXT),
    Role.DEPARTMENT_OFFICER: _view(*_CONTEXT),
    # Leaders see everything in scope, including who works here; they visit enterprises too.
    Role.LEADER: [*_view(*_CONTEXT, "feedback", "visit", "user"), "add_visit"],
    # Administrators keep the reference data, the register and the accounts.
    Role.ADMINISTRATOR: [
        *_view(*_CONTEXT, "feedback", "visit", "user"),
        *(f"{op}_{m}" for m in [*_REFERENCE_MODELS, *_REGISTER_MODELS, "user"] for op in ("add", "change")),
        "delete_holidayoverride",
        "delete_holidayyear",  # reopens a year: its deadlines are provisional again until it is confirmed anew
        "auth.view_group",
        # The periodic work of Celery beat (services.schedules): switch it on or off, change how often.
        "django_celery_beat.view_periodictask",
        "django_celery_beat.change_periodictask",
        "django_celery_beat.view_intervalschedule",
        "django_celery_beat.add_intervalschedule",
        "django_celery_beat.view_crontabschedule",
        "django_celery_beat.add_crontabschedule",
        # Sign-in locks (django-axes): see who is locked out, and unlock by deleting the attempt record.
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
        "axes.view_accesslog",
    ],
    # Integrations use the API only.
    Role.INTEGRATION: [],
}


def ensure_role_groups() -> dict[str, Group]:
    """Create one group per role with exactly its permissions."""
    groups = {}
    permissions = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.filter(
            content_type__app_label__in=["tracker", "auth", "django_celery_beat", "axes"]
        ).select_related("content_type")
    }
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([permissions[c if "." in c else f"tracker.{c}"] for c in codenames])
        groups[role] = group
    return groups


def _create_missing(model, key: str, rows: list[dict]) -> dict[str, object]:
    objects = {}
    for row in rows:
        values = dict(row)
        obj, _ = model.objects.get_or_create(**{key: values.pop(key)}, defaults=values)
        objects[getattr(obj, key)] = obj
    return objects


@transaction.atomic
def load_reference(data: dict) -> dict[str, int]:
    """Create the missing reference data given as {'categories': [...], 'departments': [...], 'tiers': [...],
    'task_forces': [...]}; returns how many of each there are."""
    ensure_role_groups()
    ensure_periodic_tasks()
    _create_missing(Category, "code", data.get("categories", []))
    departments = _create_missing(Department, "code", data.get("departments", []))
    _create_missing(Tier, "code", data.get("tiers", []))
    for row in data.get("task_forces", []):
        values = dict(row)
        assisting = [departments[code] for code in values.pop("assisting_departments", [])]
        values["lead_department"] = departments[values.pop("lead_department")]
        task_force, _ = TaskForce.objects.update_or_create(name=values.pop("name"), is_standing=True, defaults=values)
        task_force.assisting_departments.set(assisting)
    return {
        "categories": Category.objects.count(),
        "departments": Department.objects.count(),
        "tiers": Tier.objects.count(),
        "task_forces": TaskForce.objects.filter(is_standing=True).count(),
    }
