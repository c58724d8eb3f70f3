"""Reminders and pushes: the reminder log (提醒记录) that makes each reminder happen once, and the outbox of messages
pushed by email or WeCom (企业微信群机器人)."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Reminder(models.Model):
    """One reminder about one item (a task or a case), of one kind, for one deadline — at most once.

    This table is the reminder log (提醒记录), unique on (item, kind, deadline): a second sweep, an overlapping beat
    or a redelivered message finds the row there and sends nothing. An extension moves the deadline, so the new
    one's reminders are due again.
    """

    class Kind(models.TextChoices):
        TASK_DUE_TOMORROW = "task_due_tomorrow", _("事项下一个工作日到期")
        TASK_DUE_TODAY = "task_due_today", _("事项今天到期")
        TASK_OVERDUE = "task_overdue", _("事项已逾期")
        TASK_YELLOW = "task_yellow", _("黄牌督办：事项逾期")
        TASK_RED = "task_red", _("红牌督办：事项严重逾期")
        ACCEPT_OVERDUE = "accept_overdue", _("诉求超期未受理")
        ACCEPT_ESCALATED = "accept_escalated", _("督办：诉求超期未受理")
        VERDICT_DUE = "verdict_due", _("请今天完成验收")
        CALLBACK_DUE = "callback_due", _("企业未验收，请电话回访")
        REDO_OVERDUE = "redo_overdue", _("退回重办的诉求超期未处理")
        REDO_ESCALATED = "redo_escalated", _("督办：退回重办的诉求超期未处理")

    kind = models.CharField(_("类型"), max_length=30, choices=Kind.choices)
    item_key = models.CharField(_("对象"), max_length=40, help_text=_("task:<id> 或 case:<id>"))
    deadline = models.DateField(_("期限"))
    case = models.ForeignKey("tracker.Case", verbose_name=_("诉求"), on_delete=models.CASCADE, related_name="reminders")
    task = models.ForeignKey(
        "tracker.Task",
        verbose_name=_("分解事项"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
    )
    # Which sweep wrote the row: after an insert that skips rows already there, the sweep reads back its own.
    sweep_id = models.UUIDField(_("批次"), default=uuid.uuid4, editable=False, db_index=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("提醒记录")
        verbose_name_plural = _("提醒记录")
        constraints = [
            models.UniqueConstraint(fields=["item_key", "kind", "deadline"], name="reminder_once_per_deadline"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.item_key} {self.deadline:%Y-%m-%d}"


class PushDelivery(models.Model):
    """One message pushed to one person over one channel: the outbox row, written in the transaction that
    decided to send it and sent by the worker — not before `next_attempt_at`, which holds pushes written at
    night, at weekends or on holidays until the next working morning."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("邮件")
        WECOM = "wecom", _("企业微信群机器人")

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    dedupe_key = models.CharField(_("去重键"), max_length=120, unique=True)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="push_deliveries",
    )
    notification = models.ForeignKey(
        "tracker.Notification",
        verbose_name=_("消息"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="pushes",
    )
    address = models.CharField(_("地址"), max_length=500, help_text=_("邮箱，或企业微信群机器人的 Webhook 地址"))
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"))
    attach_ledger = models.BooleanField(_("附台账"), default=False)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次发送时间"), default=timezone.now)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("推送记录")
        verbose_name_plural = _("推送记录")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="push_due_idx")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.address}: {self.subject}"


class PasswordResetRequest(models.Model):
    """A password reset asked for at the portal, waiting for the worker: every request writes one, whether the
    address is registered or not, so the request does the same work and takes the same time either way. The
    worker turns it into an email push for each account under the address and deletes it in the same
    transaction; the typed address is kept no longer than that."""

    email = models.CharField(_("邮箱"), max_length=254)
    created_at = models.DateTimeField(_("申请时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("重设密码申请")
        verbose_name_plural = _("重设密码申请")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.email} @ {self.created_at:%Y-%m-%d %H:%M}"
