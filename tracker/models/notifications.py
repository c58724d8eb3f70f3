"""In-app notifications: one inbox per user, shown in the portal (and, with reminders, in the admin)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tracker.models.reminders import Reminder


class Notification(models.Model):
    """One message to one person about a case (or one of its tasks). Read or not; never edited otherwise."""

    class Kind(models.TextChoices):
        CASE_ACCEPTED = "case_accepted", _("诉求已受理")
        CASE_DECLINED = "case_declined", _("诉求不予受理")
        CASE_DISPATCHED = "case_dispatched", _("诉求已交办")
        INFO_REQUESTED = "info_requested", _("请补充材料")
        CASE_ANSWERED = "case_answered", _("收到答复，请验收")
        CASE_CLOSED = "case_closed", _("诉求已办结")
        CONCIERGE_CHANGED = "concierge_changed", _("服务专员变更")
        CASE_FILED = "case_filed", _("工作人员为您登记了诉求")
        # To staff, about the work the loop gives them
        CASE_SUBMITTED = "case_submitted", _("新诉求待受理")
        TASK_ASSIGNED = "task_assigned", _("新交办事项")
        TASK_FINISHED = "task_finished", _("事项已办结")
        TASK_RETURNED = "task_returned", _("事项被退回")
        INFO_ADDED = "info_added", _("企业补充了材料")
        CASE_REOPENED = "case_reopened", _("企业不满意，退回重办")
        CASE_CONFIRMED = "case_confirmed", _("企业确认办结")
        CASE_WITHDRAWN = "case_withdrawn", _("企业撤回了诉求")
        TASK_CANCELLED = "task_cancelled", _("事项已撤销")
        CASE_ASSIGNED = "case_assigned", _("诉求改由您服务")
        EXTENSION_REQUESTED = "extension_requested", _("延期申请待审批")
        CLOCK_PAUSED = "clock_paused", _("诉求挂起，办理时限暂停")
        CLOCK_RESUMED = "clock_resumed", _("恢复计时，期限顺延")
        DEADLINE_MOVED = "deadline_moved", _("期限按节假日安排调整")
        # Reminders and escalations (services.time.reminders): a reminder's notice has its kind's code and label
        TASK_DUE_TOMORROW = Reminder.Kind.TASK_DUE_TOMORROW.value, Reminder.Kind.TASK_DUE_TOMORROW.label
        TASK_DUE_TODAY = Reminder.Kind.TASK_DUE_TODAY.value, Reminder.Kind.TASK_DUE_TODAY.label
        TASK_OVERDUE = Reminder.Kind.TASK_OVERDUE.value, Reminder.Kind.TASK_OVERDUE.label
        TASK_YELLOW = Reminder.Kind.TASK_YELLOW.value, Reminder.Kind.TASK_YELLOW.label
        TASK_RED = Reminder.Kind.TASK_RED.value, Reminder.Kind.TASK_RED.label
        ACCEPT_OVERDUE = Reminder.Kind.ACCEPT_OVERDUE.value, Reminder.Kind.ACCEPT_OVERDUE.label
        ACCEPT_ESCALATED = Reminder.Kind.ACCEPT_ESCALATED.value, Reminder.Kind.ACCEPT_ESCALATED.label
        VERDICT_DUE = Reminder.Kind.VERDICT_DUE.value, Reminder.Kind.VERDICT_DUE.label
        CALLBACK_DUE = Reminder.Kind.CALLBACK_DUE.value, Reminder.Kind.CALLBACK_DUE.label
        REDO_OVERDUE = Reminder.Kind.REDO_OVERDUE.value, Reminder.Kind.REDO_OVERDUE.label
        REDO_ESCALATED = Reminder.Kind.REDO_ESCALATED.value, Reminder.Kind.REDO_ESCALATED.label

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("类型"), max_length=40, choices=Kind.choices)
    case = models.ForeignKey(
        "tracker.Case",
        verbose_name=_("诉求"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    task = models.ForeignKey(
        "tracker.Task",
        verbose_name=_("分解事项"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    reminder = models.ForeignKey(
        "tracker.Reminder",
        verbose_name=_("提醒"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    # What the notice says is its kind, rendered in the reader's language; `note` is the sender's own words
    # (a decline reason, what information is asked for), shown as written.
    note = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("消息")
        verbose_name_plural = _("消息")
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_inbox_idx"),
            models.Index(fields=["recipient", "read_at"], name="notification_unread_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.case_id or ''}"
