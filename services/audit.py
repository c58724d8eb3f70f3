"""The audit log (审计日志): every save or delete of a row that decides who sees what, who does what or when things
are due, recorded with its actor in the same transaction as the write.

`save_audited` and `delete_audited` are the writers the register's services build on (users, departments, task
forces, categories, tiers, holiday entries): they lock the row, validate it as the model does, write it and add one
`AuditEntry` naming each changed field with its old and new value in words. Nothing here checks permission: the
calling service does, before. No function updates or deletes an entry.
"""

import datetime
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from services.errors import InvalidInput, NotFound
from services.roles import Role
from services.validation import FieldErrors
from tracker.models import AuditEntry, User

M = TypeVar("M", bound=models.Model)

# Fields whose value is never written to the log, only that it changed.
SECRET_FIELDS = frozenset({"password"})
# Bookkeeping that changes by itself (a sign-in) and says nothing about who may do what.
UNRECORDED_FIELDS = frozenset({"last_login"})


def readable(obj: models.Model, name: str) -> Any:
    """The value of `obj`'s field `name` as a person reads it: a related row's name, a choice's label, 是/否, a date;
    a many-to-many field as the sorted names of its rows. JSON-serialisable."""
    field = obj._meta.get_field(name)
    if name in SECRET_FIELDS:
        return ""
    if field.many_to_many:
        if obj.pk is None:
            return []
        return sorted(_words(row) for row in getattr(obj, name).all())
    if field.is_relation:
        related = getattr(obj, name)
        return "" if related is None else _words(related)
    value = getattr(obj, field.attname)
    if field.choices and value not in (None, ""):
        return str(dict(field.flatchoices).get(value, value))
    return _plain(value)


def _words(row: models.Model) -> str:
    # A role is a group named by its code: its label says what it is.
    if row._meta.label_lower == "auth.group":
        return str(dict(Role.choices).get(row.name, row.name))
    return str(row)


def _plain(value) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if timezone.is_aware(value) else str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, int | float | str | list | dict):
        return value
    return str(value)


def snapshot(obj: models.Model, names: Iterable[str]) -> dict[str, Any]:
    """`obj`'s fields `names` in readable words, in the zone's language (the log outlives the reader's)."""
    with translation.override(settings.LANGUAGE_CODE):
        return {name: readable(obj, name) for name in names if name not in UNRECORDED_FIELDS}


def password_changed(*, set_usable: bool = True) -> list[str]:
    """What the log says of a password: only that it was set, or that signing in by password was switched off."""
    with translation.override(settings.LANGUAGE_CODE):
        return ["", _("已修改密码") if set_usable else _("已停用密码登录")]


def record(
    *, actor: User, obj: models.Model, action: str, changes: Mapping[str, list], name: str | None = None
) -> AuditEntry:
    """Add one entry: `actor` did `action` (AuditEntry.Action) to `obj`, changing `changes` ({field: [old, new]})."""
    return AuditEntry.objects.create(
        actor=actor,
        at=timezone.now(),
        model=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=(name if name is not None else str(obj))[:200],
        action=action,
        changes=dict(changes),
    )


def validation_error(error: ValidationError) -> InvalidInput:
    """A model's ValidationError as the services' InvalidInput: each field's messages on it; the row's own
    (a unique pair, a constraint) in the message."""
    fields = dict(error.message_dict) if hasattr(error, "error_dict") else {}
    general = fields.pop(NON_FIELD_ERRORS, []) if fields else list(error.messages)
    message = " ".join(str(m) for m in general) or _("提交的内容有误，请检查标出的字段")
    return InvalidInput(message, fields=fields)


def save_audited(
    *,
    actor: User,
    model: type[M],
    obj: M | int | None,
    values: Mapping[str, Any],
    related: Mapping[str, Iterable[models.Model]] | None = None,
    check: Callable[[M, FieldErrors], None] | None = None,
    prepare: Callable[[M], list[list]] | None = None,
) -> M:
    """Create (`obj` None) or change the row `obj` (a row or its id, locked for the write) of `model`, setting
    `values` (field name → value, a related row for a foreign key) and `related` (many-to-many name → rows);
    validated as the model validates plus `check` (which adds field errors), then written with one AuditEntry of
    the fields that changed. `prepare` may set what is not a plain value (a password) on the row before it is
    saved and returns the log's lines for it. Nothing changed: nothing written. InvalidInput names each bad field."""
    related = dict(related or {})
    with transaction.atomic():
        if obj is None:
            row, before = model(), {}
        else:
            pk = obj.pk if isinstance(obj, models.Model) else obj
            row = model._default_manager.select_for_update().filter(pk=pk).first() if pk is not None else None
            if row is None:
                raise NotFound()
            before = snapshot(row, [*values, *related])
        for name, value in values.items():
            setattr(row, name, value)
        secret = prepare(row) if prepare is not None else []
        errors = FieldErrors()
        try:
            given = {*values, *related}
            excluded = [f.name for f in model._meta.fields if obj is not None and f.name not in given]
            row.full_clean(exclude=excluded)
        except ValidationError as error:
            refused = validation_error(error)
            if not refused.fields:
                raise refused from None
            for name, messages in refused.fields.items():
                for message in messages:
                    errors.add(name, message)
        if check is not None:
            check(row, errors)
        errors.raise_if_any()
        row.save()
        for name, rows in related.items():
            getattr(row, name).set(list(rows))
        # A new row is recorded whole; a changed one by the fields given.
        names = [*values, *related]
        if obj is None:
            names += [f.name for f in model._meta.concrete_fields if f.editable and not f.primary_key]
        after = snapshot(row, dict.fromkeys(names))
        if obj is None:
            changes = {name: ["", value] for name, value in after.items() if value not in ("", [], None)}
        else:
            changes = {name: [before[name], value] for name, value in after.items() if before[name] != value}
        for name, lines in secret:
            changes[name] = lines
        if obj is None or changes:
            action = AuditEntry.Action.CREATED if obj is None else AuditEntry.Action.CHANGED
            record(actor=actor, obj=row, action=action, changes=changes)
    return row


def delete_audited(*, actor: User, model: type[M], obj: M | int, fields: Iterable[str] = ()) -> None:
    """Delete the row `obj` of `model` (locked first) with one AuditEntry keeping its name and `fields`' last
    values."""
    with transaction.atomic():
        pk = obj.pk if isinstance(obj, models.Model) else obj
        row = model._default_manager.select_for_update().filter(pk=pk).first()
        if row is None:
            raise NotFound()
        last = {name: [value, ""] for name, value in snapshot(row, fields).items()}
        record(actor=actor, obj=row, action=AuditEntry.Action.DELETED, changes=last)
        row.delete()


def entries_of(obj: models.Model | type[models.Model], pk=None) -> QuerySet[AuditEntry]:
    """The log of one row (`obj`, or its model and `pk`), newest first."""
    model = obj if isinstance(obj, type) else type(obj)
    key = pk if pk is not None else obj.pk
    return AuditEntry.objects.filter(model=model._meta.label_lower, object_id=str(key)).select_related("actor")
