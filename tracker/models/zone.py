"""The zone: key enterprises (重点企业) and their investment projects (投资项目)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Industry(models.TextChoices):
    ELECTRONIC_INFORMATION = "electronic_information", _("电子信息")
    EQUIPMENT_MANUFACTURING = "equipment_manufacturing", _("装备制造")
    ADVANCED_COMPUTING = "advanced_computing", _("先进计算")
    LIFE_HEALTH = "life_health", _("生命健康")
    GREEN_ECONOMY = "green_economy", _("绿色经济")
    ARTIFICIAL_INTELLIGENCE = "artificial_intelligence", _("人工智能")
    DIGITAL_ECONOMY = "digital_economy", _("数字经济")


class Tier(models.Model):
    """A recognition an enterprise holds: 高新技术企业, 专精特新, 瞪羚, 潜在独角兽, 独角兽."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=50, unique=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["sort_order", "id"]
        verbose_name = _("企业梯队")
        verbose_name_plural = _("企业梯队")

    def __str__(self) -> str:
        return self.name


class LinkedStaff(models.Model):
    """The staff linked (挂钩) to an enterprise or a project."""

    concierge = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("服务专员"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    backup_concierge = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("备岗专员"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    linked_leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("挂钩领导"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        abstract = True


class Enterprise(LinkedStaff):
    """A key enterprise, identified by its unified social credit code (统一社会信用代码)."""

    name = models.CharField(_("企业名称"), max_length=200, db_index=True)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    uscc_checksum_ok = models.BooleanField(
        _("校验位正确"), default=True, help_text=_("校验位不符的早期代码可登记，但会标记提示核实")
    )
    industry = models.CharField(_("产业领域"), max_length=40, choices=Industry.choices, db_index=True)
    tiers = models.ManyToManyField(Tier, verbose_name=_("企业梯队"), blank=True, related_name="enterprises")
    is_key = models.BooleanField(_("重点企业"), default=True, db_index=True)
    park = models.CharField(_("所在园区"), max_length=100, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    contact_email = models.EmailField(_("联系邮箱"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True, db_index=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("重点企业")
        verbose_name_plural = _("重点企业")
        indexes = [
            models.Index(fields=["concierge"], name="enterprise_concierge_idx"),
            models.Index(fields=["backup_concierge"], name="enterprise_backup_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Project(LinkedStaff):
    """An investment project of an enterprise."""

    class Stage(models.TextChoices):
        SIGNED = "signed", _("签约")
        LANDED = "landed", _("落地")
        STARTED = "started", _("开工")
        COMPLETED = "completed", _("竣工")
        PRODUCING = "producing", _("投产")

    class Level(models.TextChoices):
        PROVINCIAL = "provincial", _("省重大项目")
        SUZHOU = "suzhou", _("苏州市重大项目")
        KUNSHAN = "kunshan", _("昆山市重大项目")
        DISTRICT = "district", _("区重大项目")

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("所属企业"), on_delete=models.PROTECT, related_name="projects"
    )
    name = models.CharField(_("项目名称"), max_length=200, db_index=True)
    total_investment = models.DecimalField(_("总投资（万元）"), max_digits=14, decimal_places=2)
    stage = models.CharField(_("项目阶段"), max_length=20, choices=Stage.choices, db_index=True)
    level = models.CharField(_("项目级别"), max_length=20, choices=Level.choices, db_index=True)
    signed_on = models.DateField(_("签约日期"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True, db_index=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("投资项目")
        verbose_name_plural = _("投资项目")
        indexes = [
            models.Index(fields=["concierge"], name="project_concierge_idx"),
            models.Index(fields=["backup_concierge"], name="project_backup_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(total_investment__gte=0), name="project_investment_gte_0"),
        ]

    def __str__(self) -> str:
        return self.name
