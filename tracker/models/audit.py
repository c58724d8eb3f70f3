"""Who changed a zone-wide rule (a category's limits, an escalation threshold), when, and from what to what."""

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
