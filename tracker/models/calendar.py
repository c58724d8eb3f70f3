"""Staff-editable corrections to the working-day calendar."""

from django.conf import settings
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


class HolidayYear(models.Model):
    """A year whose holiday schedule (the State Council's annual notice) an administrator has entered in full.

    Until then a year the calendar library does not know counts its statutory holidays and weekends as rest days,
    and every deadline in it is provisional (暂定): the bridging days and make-up Saturdays are not known yet.
    """

    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("确认人"), on_delete=models.PROTECT, related_name="+"
    )
    completed_at = models.DateTimeField(_("确认时间"))
    note = models.CharField(
        _("依据"), max_length=200, blank=True, help_text=_("如：国务院办公厅关于2027年部分节假日安排的通知")
    )

    class Meta:
        ordering = ["-year"]
        verbose_name = _("节假日安排（年度）")
        verbose_name_plural = _("节假日安排（年度）")

    def __str__(self) -> str:
        return str(self.year)
