"""Cases (诉求), their tasks (分解事项), timeline events, verdicts, files and the visits that find them."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tracker.storage import private_storage


class Category(models.Model):
    """One of the seven issue categories (七大类), with its default working-day limits."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=50, unique=True)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    accept_days = models.PositiveSmallIntegerField(_("受理时限（工作日）"), default=1)
    task_days = models.PositiveSmallIntegerField(_("办理时限（工作日）"), default=10)
    verdict_days = models.PositiveSmallIntegerField(_("验收时限（工作日）"), default=5)
    # Escalation thresholds (督办), in working days past the deadline; empty means the zone's default (settings
    # REMINDER_*_AFTER_DAYS). Changed through services.register.reference, which records each change.
    yellow_after_days = models.PositiveSmallIntegerField(
        _("黄牌督办（逾期工作日）"), null=True, blank=True, help_text=_("留空则用系统默认值")
    )
    red_after_days = models.PositiveSmallIntegerField(
        _("红牌督办（逾期工作日）"), null=True, blank=True, help_text=_("留空则用系统默认值")
    )
    accept_escalate_after_days = models.PositiveSmallIntegerField(
        _("超期未受理督办（逾期工作日）"), null=True, blank=True, help_text=_("留空则用系统默认值")
    )
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["sort_order", "id"]
        verbose_name = _("诉求类别")
        verbose_name_plural = _("诉求类别")
        constraints = [
            models.CheckConstraint(condition=models.Q(accept_days__gte=1), name="category_accept_days_gte_1"),
            models.CheckConstraint(condition=models.Q(task_days__gte=1), name="category_task_days_gte_1"),
            models.CheckConstraint(condition=models.Q(verdict_days__gte=1), name="category_verdict_days_gte_1"),
        ]

    def __str__(self) -> str:
        return self.name


class CaseNumberSequence(models.Model):
    """A year of case numbers. On SQLite `last` is the last one handed out, the row locked while the next is taken;
    on PostgreSQL the numbers come from the year's sequence, set up (after `last` and any number in use) when this
    row is written (`services.cases.steps.reserve_case_numbers`)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("诉求编号序列")
        verbose_name_plural = _("诉求编号序列")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Case(models.Model):
    """One issue raised by (or for) an enterprise."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("待受理")
        ACCEPTED = "accepted", _("已受理")
        IN_PROGRESS = "in_progress", _("办理中")
        RESOLVED = "resolved", _("待验收")
        CLOSED = "closed", _("已办结")
        DECLINED = "declined", _("不予受理")
        WITHDRAWN = "withdrawn", _("已撤回")

    class Urgency(models.TextChoices):
        NORMAL = "normal", _("一般")
        URGENT = "urgent", _("紧急")
        CRITICAL = "critical", _("特急")

    class Channel(models.TextChoices):
        PORTAL = "portal", _("企业门户")
        API = "api", _("系统接口")
        VISIT = "visit", _("走访发现")
        HOTLINE = "hotline", _("12345热线")
        PHONE = "phone", _("来电")
        WALK_IN = "walk_in", _("来访")

    number = models.CharField(_("诉求编号"), max_length=30, unique=True)
    enterprise = models.ForeignKey(
        "tracker.Enterprise", verbose_name=_("企业"), on_delete=models.PROTECT, related_name="cases"
    )
    project = models.ForeignKey(
        "tracker.Project",
        verbose_name=_("投资项目"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
    )
    category = models.ForeignKey(Category, verbose_name=_("类别"), on_delete=models.PROTECT, related_name="cases")
    title = models.CharField(_("标题"), max_length=200)
    description = models.TextField(_("问题描述"))
    urgency = models.CharField(
        _("紧急程度"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL, db_index=True
    )
    channel = models.CharField(_("来源渠道"), max_length=10, choices=Channel.choices, db_index=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.SUBMITTED, editable=False
    )
    concierge = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("服务专员"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="concierge_cases",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        on_delete=models.PROTECT,
        related_name="submitted_cases",
    )
    # Who called or came in, for a case that staff registered (电话、热线、来访); empty for the enterprise's own.
    caller_name = models.CharField(_("来电来访人"), max_length=50, blank=True)
    caller_phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    visit = models.ForeignKey(
        "tracker.Visit",
        verbose_name=_("来源走访"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
    )
    accept_due_on = models.DateField(_("受理期限"))
    verdict_due_on = models.DateField(_("验收期限"), null=True, blank=True)
    # Set when the enterprise sends a resolved case back (重办): by then the concierge must reopen or add tasks
    # (or answer again); cleared when they do.
    redo_due_on = models.DateField(_("重办期限"), null=True, blank=True)
    # What the live one of those three deadlines counts: `deadline_working_days` working days after
    # `deadline_counted_from` (a pause adds its working days). When next year's holidays are confirmed, the
    # deadline is counted again from here (services.time.reschedule). Empty for deadlines set before this was kept.
    deadline_counted_from = models.DateField(_("期限起算日"), null=True, blank=True)
    deadline_working_days = models.PositiveSmallIntegerField(_("期限工作日数"), null=True, blank=True)
    # Set while the case waits for information asked of the enterprise (挂起): its deadlines and its tasks' stand
    # still (services.cases.clocks); the pause itself is a ClockPause row.
    clock_paused_at = models.DateTimeField(_("挂起时间"), null=True, blank=True)
    answer = models.TextField(_("办结答复"), blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("诉求")
        verbose_name_plural = _("诉求")
        indexes = [
            models.Index(fields=["status", "-submitted_at"], name="case_status_idx"),
            models.Index(fields=["concierge", "status"], name="case_concierge_status_idx"),
            models.Index(fields=["enterprise", "status"], name="case_enterprise_status_idx"),
            models.Index(fields=["category", "status"], name="case_category_status_idx"),
            models.Index(fields=["project", "status"], name="case_project_status_idx"),
            models.Index(fields=["-submitted_at", "-id"], name="case_submitted_idx"),
            models.Index(fields=["status", "accept_due_on"], name="case_accept_due_idx"),
            models.Index(fields=["status", "verdict_due_on"], name="case_verdict_due_idx"),
            models.Index(fields=["status", "redo_due_on"], name="case_redo_due_idx"),
            models.Index(
                fields=["clock_paused_at"], condition=models.Q(clock_paused_at__isnull=False), name="case_paused_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class Task(models.Model):
    """One piece of a case, given to a task force or a department, with its own deadline."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待签收")
        IN_PROGRESS = "in_progress", _("办理中")
        DONE = "done", _("已办结")
        RETURNED = "returned", _("已退回")
        CANCELLED = "cancelled", _("已撤销")

    case = models.ForeignKey(Case, verbose_name=_("诉求"), on_delete=models.PROTECT, related_name="tasks")
    task_force = models.ForeignKey(
        "tracker.TaskForce",
        verbose_name=_("专班"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tasks",
    )
    department = models.ForeignKey(
        "tracker.Department",
        verbose_name=_("承办部门"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tasks",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("承办人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_tasks",
    )
    title = models.CharField(_("事项"), max_length=200)
    description = models.TextField(_("办理要求"), blank=True)
    due_on = models.DateField(_("办理期限"), db_index=True)
    due_is_provisional = models.BooleanField(
        _("期限待核"), default=False, help_text=_("期限跨入节假日数据未发布的年份，按周一至周五估算")
    )
    # What `due_on` counts: `due_working_days` working days after `due_counted_from` (the day it was given,
    # re-dispatched, reopened or extended; a pause adds its working days). Empty for older tasks.
    due_counted_from = models.DateField(_("期限起算日"), null=True, blank=True)
    due_working_days = models.PositiveSmallIntegerField(_("期限工作日数"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.PENDING, editable=False)
    result = models.TextField(_("办理结果"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("交办人"),
        on_delete=models.PROTECT,
        related_name="created_tasks",
    )
    created_at = models.DateTimeField(_("交办时间"), default=timezone.now)
    started_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("分解事项")
        verbose_name_plural = _("分解事项")
        indexes = [
            models.Index(fields=["case", "status"], name="task_case_status_idx"),
            models.Index(fields=["department", "status"], name="task_department_status_idx"),
            models.Index(fields=["task_force", "status"], name="task_taskforce_status_idx"),
            models.Index(fields=["assignee", "status"], name="task_assignee_status_idx"),
            models.Index(fields=["status", "due_on"], name="task_status_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(task_force__isnull=False) | models.Q(department__isnull=False),
                name="task_has_unit",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ClockPause(models.Model):
    """A stretch of time in which a case's clocks stood still (挂起) while the zone waited for information asked of
    the enterprise: who paused it and why, and when and how it ended. Its working days move every deadline of the
    case and its open tasks when it ends, and are left out of the scorecards' working times."""

    class EndedBy(models.TextChoices):
        ANSWERED = "answered", _("企业已补充材料")
        RESUMED = "resumed", _("工作人员恢复计时")
        CLOSED = "closed", _("诉求已结束")

    case = models.ForeignKey(Case, verbose_name=_("诉求"), on_delete=models.PROTECT, related_name="pauses")
    reason = models.TextField(_("挂起原因"))
    paused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("挂起人"), on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(_("开始时间"))
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("恢复人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    end_reason = models.CharField(_("结束方式"), max_length=12, choices=EndedBy.choices, blank=True)
    working_days = models.PositiveSmallIntegerField(_("暂停工作日数"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("挂起记录")
        verbose_name_plural = _("挂起记录")
        indexes = [models.Index(fields=["case", "started_at"], name="pause_case_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(ended_at__isnull=True), name="pause_one_open_per_case"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.started_at:%Y-%m-%d}"


class Extension(models.Model):
    """A unit's request to move a task's deadline (延期), decided by a leader."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已驳回")

    task = models.ForeignKey(Task, verbose_name=_("分解事项"), on_delete=models.PROTECT, related_name="extensions")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    previous_due_on = models.DateField(_("原期限"))
    requested_due_on = models.DateField(_("申请延至"))
    reason = models.TextField(_("延期理由"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING, editable=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), blank=True)
    created_at = models.DateTimeField(_("申请时间"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        indexes = [models.Index(fields=["status", "created_at"], name="extension_status_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["task"], condition=models.Q(status="pending"), name="extension_one_pending_per_task"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task} → {self.requested_due_on}"


class CaseEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("case events are append-only")

    def delete(self):
        raise TypeError("case events are append-only")


class CaseEvent(models.Model):
    """One entry of a case's timeline: who did what, when, from which state to which. Append-only."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("提交诉求")
        ACCEPTED = "accepted", _("受理")
        DECLINED = "declined", _("不予受理")
        WITHDRAWN = "withdrawn", _("撤回")
        INFO_ADDED = "info_added", _("补充材料")
        INFO_REQUESTED = "info_requested", _("请企业补充材料")
        DECOMPOSED = "decomposed", _("分解交办")
        TASK_CREATED = "task_created", _("交办事项")
        TASK_STARTED = "task_started", _("签收事项")
        TASK_COMPLETED = "task_completed", _("办结事项")
        TASK_RETURNED = "task_returned", _("退回事项")
        TASK_REDISPATCHED = "task_redispatched", _("重新交办")
        TASK_REOPENED = "task_reopened", _("重办事项")
        TASK_CANCELLED = "task_cancelled", _("撤销事项")
        EXTENSION_REQUESTED = "extension_requested", _("申请延期")
        EXTENSION_APPROVED = "extension_approved", _("批准延期")
        EXTENSION_REJECTED = "extension_rejected", _("驳回延期")
        RESOLVED = "resolved", _("办结答复")
        CONFIRMED = "confirmed", _("企业验收")
        REOPENED = "reopened", _("企业退回重办")
        CALLBACK_CONFIRMED = "callback_confirmed", _("回访确认办结")
        CALLBACK_REOPENED = "callback_reopened", _("回访退回重办")
        CONCIERGE_CHANGED = "concierge_changed", _("变更服务专员")
        CLOCK_PAUSED = "clock_paused", _("挂起（暂停计时）")
        CLOCK_RESUMED = "clock_resumed", _("恢复计时")
        DEADLINE_RESCHEDULED = "deadline_rescheduled", _("按节假日安排调整期限")

    case = models.ForeignKey(Case, verbose_name=_("诉求"), on_delete=models.PROTECT, related_name="events")
    task = models.ForeignKey(
        Task,
        verbose_name=_("分解事项"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField(_("事件"), max_length=30, choices=Kind.choices)
    from_status = models.CharField(_("原状态"), max_length=20, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, blank=True)
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(_("附加数据"), default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    objects = CaseEventQuerySet.as_manager()

    class Meta:
        base_manager_name = "objects"  # so no internal path (related managers included) can update or delete
        ordering = ["created_at", "id"]
        verbose_name = _("诉求事件")
        verbose_name_plural = _("诉求事件")
        indexes = [models.Index(fields=["case", "created_at", "id"], name="event_case_time_idx")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise TypeError("case events are append-only")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("case events are append-only")


class Feedback(models.Model):
    """The enterprise's verdict on a resolved case: confirmed with a rating, or reopened with a reason."""

    class Verdict(models.TextChoices):
        CONFIRM = "confirm", _("确认办结")
        REOPEN = "reopen", _("退回重办")

    class Rating(models.IntegerChoices):
        VERY_SATISFIED = 5, _("非常满意")
        SATISFIED = 4, _("满意")
        FAIRLY_SATISFIED = 3, _("基本满意")
        DISSATISFIED = 2, _("不满意")
        VERY_DISSATISFIED = 1, _("非常不满意")

    class Source(models.TextChoices):
        ENTERPRISE = "enterprise", _("企业评价")
        CALLBACK = "callback", _("电话回访")

    case = models.ForeignKey(Case, verbose_name=_("诉求"), on_delete=models.PROTECT, related_name="feedback")
    verdict = models.CharField(_("验收结论"), max_length=10, choices=Verdict.choices)
    rating = models.PositiveSmallIntegerField(_("满意度"), choices=Rating.choices, null=True, blank=True)
    comment = models.TextField(_("意见"), blank=True)
    source = models.CharField(_("记录方式"), max_length=12, choices=Source.choices)
    # A callback recorded before the enterprise's own verdict window ended: allowed only with the person spoken
    # to and what they said, and counted apart from the enterprise's own verdicts.
    early = models.BooleanField(_("提前回访"), default=False)
    contact_name = models.CharField(_("回访对象"), max_length=50, blank=True)
    contact_phone = models.CharField(_("回访电话"), max_length=30, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("记录人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("验收评价")
        verbose_name_plural = _("验收评价")
        indexes = [models.Index(fields=["case", "created_at"], name="feedback_case_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(verdict="reopen") | models.Q(rating__isnull=False),
                name="feedback_confirm_has_rating",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.verdict}"


def attachment_path(instance: "Attachment", filename: str) -> str:
    # The stored name is random; the user's file name is kept in `original_name` only.
    return f"cases/{instance.case_id}/{instance.sha256[:2]}/{instance.sha256}"


class Attachment(models.Model):
    """A file on a case, stored outside public media and served only after a visibility check."""

    case = models.ForeignKey(Case, verbose_name=_("诉求"), on_delete=models.PROTECT, related_name="attachments")
    task = models.ForeignKey(
        Task,
        verbose_name=_("分解事项"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="attachments",
    )
    # A unit's internal papers (a 退回 reason's evidence, an internal reply) stay with staff; the portal and an
    # enterprise's API token never list or serve them.
    staff_only = models.BooleanField(_("仅工作人员可见"), default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(_("文件"), storage=private_storage, upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("文件名"), max_length=200)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    content_type = models.CharField(_("文件类型"), max_length=100)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        indexes = [models.Index(fields=["case", "created_at"], name="attachment_case_idx")]

    def __str__(self) -> str:
        return self.original_name


class Visit(models.Model):
    """A concierge's visit (走访) to an enterprise; problems found there become cases with channel `visit`."""

    concierge = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("走访人"), on_delete=models.PROTECT, related_name="visits"
    )
    enterprise = models.ForeignKey(
        "tracker.Enterprise", verbose_name=_("企业"), on_delete=models.PROTECT, related_name="visits"
    )
    project = models.ForeignKey(
        "tracker.Project",
        verbose_name=_("投资项目"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="visits",
    )
    visited_on = models.DateField(_("走访日期"))
    people_met = models.CharField(_("接待人员"), max_length=200, blank=True)
    notes = models.TextField(_("走访记录"), blank=True)
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        ordering = ["-visited_on", "-id"]
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        indexes = [
            models.Index(fields=["enterprise", "-visited_on"], name="visit_enterprise_idx"),
            models.Index(fields=["concierge", "-visited_on"], name="visit_concierge_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} {self.visited_on}"
