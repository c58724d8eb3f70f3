"""People and units: users (staff, enterprise users, integrations), departments, task forces."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Department(models.Model):
    """A government department or utility (职能部门) that can be given tasks."""

    class Kind(models.TextChoices):
        GOVERNMENT = "government", _("政府部门")
        UTILITY = "utility", _("公用事业单位")
        OTHER = "other", _("其他单位")

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100, unique=True)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices, default=Kind.GOVERNMENT)
    head = models.ForeignKey(
        "tracker.User",
        verbose_name=_("负责人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="headed_departments",
    )
    phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    wecom_webhook_url = models.URLField(
        _("企业微信群机器人地址"),
        max_length=500,
        blank=True,
        help_text=_("部门工作群的群机器人 Webhook 地址；选择企业微信提醒的本部门人员在群里收到提醒并被 @"),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["sort_order", "id"]
        verbose_name = _("职能部门")
        verbose_name_plural = _("职能部门")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """Anyone who signs in: staff (with a department), an enterprise user, or an integration account.

    Staff roles are Django groups (see `services.roles`); an enterprise user has `enterprise` set.
    """

    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True, db_index=True)
    title = models.CharField(_("职务"), max_length=50, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("所在部门"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
    )
    enterprise = models.ForeignKey(
        "tracker.Enterprise",
        verbose_name=_("所属企业"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    # The channels this person chose besides the in-app notices, which everyone gets.
    notify_by_email = models.BooleanField(_("邮件提醒"), default=True)
    notify_by_wecom = models.BooleanField(_("企业微信提醒"), default=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.get_full_name() or self.username


class TaskForce(models.Model):
    """A task force (专班): a lead unit, assisting units and members; standing or formed for one case."""

    name = models.CharField(_("名称"), max_length=100)
    lead_department = models.ForeignKey(
        Department, verbose_name=_("牵头单位"), on_delete=models.PROTECT, related_name="led_task_forces"
    )
    assisting_departments = models.ManyToManyField(
        Department, verbose_name=_("配合单位"), blank=True, related_name="assisted_task_forces"
    )
    members = models.ManyToManyField(User, verbose_name=_("成员"), blank=True, related_name="task_forces")
    lead = models.ForeignKey(
        User,
        verbose_name=_("专班负责人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_task_forces",
    )
    is_standing = models.BooleanField(_("常设专班"), default=True)
    case = models.ForeignKey(
        "tracker.Case",
        verbose_name=_("所属诉求"),
        help_text=_("为单个诉求临时组建的专班"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="formed_task_forces",
    )
    description = models.TextField(_("职责说明"), blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("专班")
        verbose_name_plural = _("专班")
        constraints = [
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(is_standing=True), name="taskforce_standing_name_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(is_standing=True, case__isnull=True) | models.Q(is_standing=False),
                name="taskforce_standing_has_no_case",
            ),
        ]

    def __str__(self) -> str:
        return self.name
