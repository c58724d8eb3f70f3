"""Who changed what, when, and from what to what: a category's limits field by field (设置变更记录, which leaders
read too), and every administrator's save or delete of the rows that decide who sees what, who does what and when
things are due (审计日志). Both append-only."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ReferenceChange(models.Model):
    """One field of one reference row changed by a person: never edited, never deleted."""

    model = models.CharField(_("对象类型"), max_length=40)
    object_id = models.PositiveIntegerField(_("对象编号"))
    object_repr = models.CharField(_("对象"), max_length=200)
    field = models.CharField(_("字段"), max_length=60)
    field_label = models.CharField(_("字段名称"), max_length=100)
    old_value = models.CharField(_("原值"), max_length=200, blank=True)
    new_value = models.CharField(_("新值"), max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("修改人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("时间"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("设置变更记录")
        verbose_name_plural = _("设置变更记录")
        indexes = [models.Index(fields=["model", "object_id", "-created_at"], name="refchange_object_idx")]

    def __str__(self) -> str:
        return f"{self.object_repr} {self.field_label}: {self.old_value} → {self.new_value}"


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("audit entries are append-only")

    def delete(self):
        raise TypeError("audit entries are append-only")


class AuditEntry(models.Model):
    """One save or delete of a row that decides who sees what, who does what or when things are due (a user, a
    department, a task force, a category, a holiday...), by a person, through a service: never edited, never deleted.

    `changes` holds {field: [old, new]} in readable words (a related row's name, a choice's label); a password is
    never recorded, only that it was changed."""

    class Action(models.TextChoices):
        CREATED = "created", _("新增")
        CHANGED = "changed", _("修改")
        DELETED = "deleted", _("删除")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("时间"))
    model = models.CharField(_("对象类型"), max_length=60)
    object_id = models.CharField(_("对象编号"), max_length=40)
    object_repr = models.CharField(_("对象"), max_length=200)
    action = models.CharField(_("操作"), max_length=10, choices=Action.choices)
    changes = models.JSONField(_("变更内容"), default=dict, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        base_manager_name = "objects"  # so no internal path (related managers included) can update or delete
        ordering = ["-at", "-id"]
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        indexes = [
            models.Index(fields=["model", "object_id"], name="audit_object_idx"),
            models.Index(fields=["actor", "-at"], name="audit_actor_idx"),
            models.Index(fields=["-at"], name="audit_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.object_repr} · {self.get_action_display()}"

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise TypeError("audit entries are append-only")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("audit entries are append-only")
