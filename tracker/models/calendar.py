"""Staff-editable corrections to the working-day calendar."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class HolidayOverride(models.Model):
    """One date whose working-day status differs from the calendar library (or that the library does not know).

    Next year's holidays are published each November; staff enter them here before the library catches up.
    """

    date = models.DateField(_("日期"), unique=True)
    is_working_day = models.BooleanField(_("是否工作日"), help_text=_("勾选表示调休上班；不勾选表示放假"))
    note = models.CharField(_("说明"), max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("节假日调整")
        verbose_name_plural = _("节假日调整")

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.note}".strip()
