"""Reference data: categories, departments, tiers, standing task forces, the role groups and the periodic tasks.

Loaded from `seeds/reference/*.yaml` by `manage.py seed`. Rows are keyed by a stable code or name and only
created when missing: loading twice changes nothing, and limits staff edited in the admin are never reverted.

A category's limits (受理、办理、验收时限) and its escalation thresholds (督办: working days past a deadline before
the yellow card, the red card, a late acceptance's escalation) are changed by administrators through
`change_category_limits`, which records each changed field as a `ReferenceChange` (设置变更记录, which leaders read)
and the save in the audit log (审计日志). An empty threshold means the zone's default (settings
REMINDER_*_AFTER_DAYS); `thresholds_from` is the one place that says so. A category's other fields and the tiers are
saved by `save_category` and `save_tier`, each recorded in the audit log too.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from services.audit import record, save_audited
from services.errors import NotFound, NotPermitted
from services.roles import Role, has_role
from services.time.schedules import ensure_periodic_tasks
from services.validation import FieldErrors
from tracker.models import AuditEntry, Category, Department, ReferenceChange, TaskForce, Tier, User

_REFERENCE_MODELS = ["category", "department", "taskforce", "tier", "holidayoverride", "holidayyear"]
_REGISTER_MODELS = ["enterprise", "project"]
_CASE_MODELS = ["case", "task", "extension", "caseevent", "attachment"]
_CONTEXT = [*_REFERENCE_MODELS, *_REGISTER_MODELS, *_CASE_MODELS]


def _view(*models: str) -> list[str]:
    return [f"view_{m}" for m in models]


# Django model permissions per role (docs/states-and-roles.md): which admin pages each role may open. What a person
# may do on a given case or task is decided by services.permissions, not by these.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    # Concierges work cases, record verdicts by phone and visits.
    Role.CONCIERGE: [*_view(*_CONTEXT, "feedback", "visit"), "add_visit"],
    # Task units see their tasks and the case context they need; not the zone's verdicts or visits.
    Role.TASK_FORCE_MEMBER: _view(*_CONTEXT),
    Role.DEPARTMENT_OFFICER: _view(*_CONTEXT),
    # Leaders see everything in scope, including who works here; they visit enterprises too.
    # Leaders also see who changed a zone-wide rule (设置变更记录), which bears on the cards they supervise.
    Role.LEADER: [*_view(*_CONTEXT, "feedback", "visit", "user", "referencechange"), "add_visit"],
    # Administrators keep the reference data, the register and the accounts. The change records and the audit log
    # (审计日志, theirs alone) are append-only: viewed, never added, changed or deleted by hand.
    Role.ADMINISTRATOR: [
        *_view(*_CONTEXT, "feedback", "visit", "user", "referencechange", "auditentry"),
        *(f"{op}_{m}" for m in [*_REFERENCE_MODELS, *_REGISTER_MODELS, "user"] for op in ("add", "change")),
        "delete_holidayoverride",
        "delete_holidayyear",  # reopens a year: its deadlines are provisional again until it is confirmed anew
        "auth.view_group",
        # The periodic work of Celery beat (services.time.schedules): switch it on or off, change how often.
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


# A category's limits and escalation thresholds -------------------------------------------------------------------

# The limits a category keeps, in working days: each a whole number in LIMIT_BOUNDS, never empty.
LIMIT_FIELDS = ("accept_days", "task_days", "verdict_days")
# Its escalation thresholds, in working days past a deadline, and the setting that stands for an empty one.
THRESHOLD_SETTINGS = {
    "yellow_after_days": "REMINDER_YELLOW_AFTER_DAYS",
    "red_after_days": "REMINDER_RED_AFTER_DAYS",
    "accept_escalate_after_days": "REMINDER_ACCEPT_ESCALATE_AFTER_DAYS",
}
CATEGORY_LIMIT_FIELDS = (*LIMIT_FIELDS, *THRESHOLD_SETTINGS)
# 60 working days is about three months: longer, and a deadline or a card stops meaning anything.
LIMIT_BOUNDS = (1, 60)
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED = _Unchanged()  # a limit not given to `change_category_limits` keeps its value


@dataclass(frozen=True)
class Thresholds:
    """Working days past a deadline before it escalates (docs/states-and-roles.md): a task's yellow card (to the
    department head) and red card (to the linked leader); a case not accepted, or not taken up after 重办, to the linked
    leader."""

    yellow: int
    red: int
    accept_escalate: int


def default_threshold(field: str) -> int:
    """The zone's default for the threshold `field` (a name in THRESHOLD_SETTINGS)."""
    return getattr(settings, THRESHOLD_SETTINGS[field])


def thresholds_from(
    yellow_after_days: int | None, red_after_days: int | None, accept_escalate_after_days: int | None
) -> Thresholds:
    """A category's stored thresholds as they apply: each its own value, or the zone's default when empty."""
    values = {
        "yellow_after_days": yellow_after_days,
        "red_after_days": red_after_days,
        "accept_escalate_after_days": accept_escalate_after_days,
    }
    days = {field: default_threshold(field) if value is None else value for field, value in values.items()}
    return Thresholds(days["yellow_after_days"], days["red_after_days"], days["accept_escalate_after_days"])


def default_thresholds() -> Thresholds:
    """The thresholds of a category that sets none of its own."""
    return thresholds_from(None, None, None)


def thresholds_of(category: Category) -> Thresholds:
    return thresholds_from(category.yellow_after_days, category.red_after_days, category.accept_escalate_after_days)


def category_thresholds() -> dict[int, Thresholds]:
    """The thresholds that apply to every category (disabled ones too: their cases are still worked), by id. One
    query, whatever the number of categories."""
    rows = Category.objects.values_list("pk", *THRESHOLD_SETTINGS)
    return {pk: thresholds_from(*values) for pk, *values in rows}


def may_change_category_limits(user: User) -> bool:
    """Only administrators change a category's limits and thresholds (and so create categories)."""
    return has_role(user, Role.ADMINISTRATOR)


def _whole_days(errors: FieldErrors, field: str, value, *, required: bool) -> int | None:
    """`value` (a number, or text from a form or a file) as working days in LIMIT_BOUNDS; None when empty and not
    required. Records a field error otherwise."""
    if isinstance(value, str):
        value = value.strip() or None
    if value is None:
        if required:
            errors.add(field, _("此项不能为空"))
        return None
    if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value):
        number = int(value) if len(value) <= 7 else None  # Python refuses int() of thousands of digits
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        errors.add(field, _("请填写整数"))
        return None
    low, high = LIMIT_BOUNDS
    if number is None or not low <= number <= high:
        errors.add(field, _("请填写 %(low)d 至 %(high)d 之间的整数") % {"low": low, "high": high})
        return None
    return number


def check_category_limits(*, category: Category | None, limits: Mapping[str, object]) -> dict[str, int | None]:
    """The `limits` given for `category` (its current values stand for those not given; None: a new category),
    checked and normalised: whole numbers of working days in LIMIT_BOUNDS, the three limits never empty, an empty
    threshold meaning the default, and the red card strictly after the yellow one once both are resolved against the
    defaults. InvalidInput names each bad field. Shared by the forms (to show errors before saving) and the service."""
    unknown = set(limits) - set(CATEGORY_LIMIT_FIELDS)
    if unknown:
        raise TypeError(f"not a category limit: {', '.join(sorted(unknown))}")
    errors = FieldErrors()
    values = {
        field: _whole_days(errors, field, value, required=field in LIMIT_FIELDS) for field, value in limits.items()
    }
    cards = {"yellow_after_days", "red_after_days"}
    if cards & set(limits) and not cards & set(errors.errors):
        current = category or Category()
        stored = {field: values.get(field, getattr(current, field)) for field in THRESHOLD_SETTINGS}
        applied = thresholds_from(**stored)
        if applied.red <= applied.yellow:
            # Named on the threshold being changed (the red one when both are, or neither)
            changed = {field for field in cards & set(limits) if values[field] != getattr(current, field)}
            field = "yellow_after_days" if changed == {"yellow_after_days"} else "red_after_days"
            errors.add(
                field,
                _("红牌督办应晚于黄牌督办：现为逾期 %(yellow)d 个工作日黄牌、%(red)d 个工作日红牌（留空的按系统默认）")
                % {"yellow": applied.yellow, "red": applied.red},
            )
    errors.raise_if_any()
    return values


def describe_limit(field: str, value: int | None) -> str:
    """A limit's value in words: "3 个工作日", or for an empty threshold the default it stands for."""
    if value is None:
        return _("系统默认（%(days)d 个工作日）") % {"days": default_threshold(field)}
    return _("%(days)d 个工作日") % {"days": value}


def change_category_limits(
    *,
    actor: User,
    category: Category | int,
    accept_days=UNCHANGED,
    task_days=UNCHANGED,
    verdict_days=UNCHANGED,
    yellow_after_days=UNCHANGED,
    red_after_days=UNCHANGED,
    accept_escalate_after_days=UNCHANGED,
) -> Category:
    """An administrator changes a category's limits and escalation thresholds (those given; an empty threshold
    means the zone's default). Checked by `check_category_limits` against the locked row; writes one
    ReferenceChange per field whose value changed and one audit entry, in the same transaction. New deadlines count
    with the new limits; the next reminder sweep and the leader's cards escalate with the new thresholds."""
    if not may_change_category_limits(actor):
        raise NotPermitted(_("只有系统管理员可以修改类别的时限和督办规则"))
    given = {
        "accept_days": accept_days,
        "task_days": task_days,
        "verdict_days": verdict_days,
        "yellow_after_days": yellow_after_days,
        "red_after_days": red_after_days,
        "accept_escalate_after_days": accept_escalate_after_days,
    }
    limits = {field: value for field, value in given.items() if value is not UNCHANGED}
    pk = category.pk if isinstance(category, Category) else category
    with transaction.atomic():
        current = Category.objects.select_for_update().filter(pk=pk).first() if isinstance(pk, int) else None
        if current is None:
            raise NotFound()
        values = check_category_limits(category=current, limits=limits)
        changed = {field: value for field, value in values.items() if getattr(current, field) != value}
        if not changed:
            return current
        now = timezone.now()
        # Recorded in the zone's language (the record outlives whichever language the administrator reads in).
        with translation.override(settings.LANGUAGE_CODE):
            records = [
                ReferenceChange(
                    model=Category._meta.label_lower,
                    object_id=current.pk,
                    object_repr=str(current)[:200],
                    field=field,
                    field_label=str(Category._meta.get_field(field).verbose_name),
                    old_value=describe_limit(field, getattr(current, field)),
                    new_value=describe_limit(field, value),
                    actor=actor,
                    created_at=now,
                )
                for field, value in changed.items()
            ]
        for field, value in changed.items():
            setattr(current, field, value)
        current.save(update_fields=list(changed))
        ReferenceChange.objects.bulk_create(records)
        lines = {change.field: [change.old_value, change.new_value] for change in records}
        record(actor=actor, obj=current, action=AuditEntry.Action.CHANGED, changes=lines)
    return current


def save_category(*, actor: User, category: Category | int | None, values: Mapping[str, object]) -> Category:
    """An administrator adds a category (`category` None; it starts with the model's limits, which
    `change_category_limits` then sets) or changes its code, name, description, order or whether cases may be filed
    under it. Recorded in the audit log; InvalidInput names each bad field."""
    if not may_change_category_limits(actor):
        raise NotPermitted(_("只有系统管理员可以修改类别"))
    limits = set(values) & set(CATEGORY_LIMIT_FIELDS)
    if limits:
        raise TypeError(f"limits are changed by change_category_limits: {', '.join(sorted(limits))}")
    return save_audited(actor=actor, model=Category, obj=category, values=values)


def save_tier(*, actor: User, tier: Tier | int | None, values: Mapping[str, object]) -> Tier:
    """An administrator adds or renames an enterprise tier (企业梯队). Recorded in the audit log."""
    if not has_role(actor, Role.ADMINISTRATOR):
        raise NotPermitted(_("只有系统管理员可以修改企业梯队"))
    return save_audited(actor=actor, model=Tier, obj=tier, values=values)


def category_changes(category: Category | int) -> QuerySet[ReferenceChange]:
    """What was changed on `category` and by whom, newest first."""
    pk = category.pk if isinstance(category, Category) else category
    return ReferenceChange.objects.filter(model=Category._meta.label_lower, object_id=pk).select_related("actor")
