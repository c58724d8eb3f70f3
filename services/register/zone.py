"""The zone's register: key enterprises and investment projects, with their linked staff. Each registration is
recorded in the audit log (`services.audit`): linking staff decides who sees the enterprise's cases."""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from services.audit import record, snapshot
from services.errors import Conflict, InvalidInput, NotPermitted
from services.register.uscc import parse_uscc
from services.roles import Role, has_role
from services.validation import FieldErrors
from tracker.models import AuditEntry, Enterprise, Project, Tier, User
from tracker.models.zone import Industry


def may_keep_register(user: User) -> bool:
    """Administrators and leaders keep the register of enterprises and projects (and import it from Excel)."""
    return has_role(user, Role.ADMINISTRATOR, Role.LEADER)


def require_register_keeper(actor: User) -> None:
    if not may_keep_register(actor):
        raise NotPermitted(_("只有管理员或领导可以维护企业和项目名录"))


# What the audit log keeps of a registration: who is linked, and what names the row.
LINKED_STAFF = ["concierge", "backup_concierge", "linked_leader"]
ENTERPRISE_FIELDS = ["name", "uscc", "industry", "tiers", "is_key", *LINKED_STAFF]
PROJECT_FIELDS = ["enterprise", "name", "total_investment", "stage", "level", *LINKED_STAFF]


def _record_registered(actor: User, row: Enterprise | Project, fields: list[str]) -> None:
    lines = {name: ["", value] for name, value in snapshot(row, fields).items() if value not in ("", [])}
    record(actor=actor, obj=row, action=AuditEntry.Action.CREATED, changes=lines)


def _check_staff(errors: FieldErrors, field: str, user: User | None) -> None:
    if user is not None and (user.enterprise_id or not user.is_active):
        errors.add(field, _("须为在职的工作人员"))


def register_enterprise(
    *,
    actor: User,
    name: str,
    uscc: str,
    industry: str,
    tiers: list[Tier] | None = None,
    is_key: bool = True,
    park: str = "",
    address: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    contact_email: str = "",
    concierge: User | None = None,
    backup_concierge: User | None = None,
    linked_leader: User | None = None,
) -> Enterprise:
    """Add a key enterprise. A well-formed credit code that fails its checksum is kept, flagged for checking."""
    require_register_keeper(actor)
    errors = FieldErrors()
    name = errors.text("name", name, max_length=200)
    texts = {
        field: errors.text(field, value, required=False, max_length=Enterprise._meta.get_field(field).max_length)
        for field, value in (
            ("park", park),
            ("address", address),
            ("contact_name", contact_name),
            ("contact_phone", contact_phone),
            ("contact_email", contact_email),
        )
    }
    if texts["contact_email"]:
        try:
            validate_email(texts["contact_email"])
        except ValidationError:
            errors.add("contact_email", _("邮箱格式不正确"))
    code = None
    try:
        code = parse_uscc(uscc)
    except InvalidInput as error:
        for message in error.fields["uscc"]:
            errors.add("uscc", message)
    if industry not in Industry.values:
        errors.add(
            "industry", _("请选择产业领域：%(valid)s") % {"valid": ", ".join(str(label) for label in Industry.labels)}
        )
    for field, user in (
        ("concierge", concierge),
        ("backup_concierge", backup_concierge),
        ("linked_leader", linked_leader),
    ):
        _check_staff(errors, field, user)
    if concierge and backup_concierge and concierge.pk == backup_concierge.pk:
        errors.add("backup_concierge", _("备岗专员不能与服务专员相同"))
    errors.raise_if_any()
    duplicate = Conflict(
        _("统一社会信用代码 %(code)s 已登记") % {"code": code.code},
        fields={"uscc": _("已登记")},
        code="uscc_taken",
    )
    if Enterprise.objects.filter(uscc=code.code).exists():
        raise duplicate
    try:
        with transaction.atomic():
            enterprise = Enterprise.objects.create(
                name=name,
                uscc=code.code,
                uscc_checksum_ok=code.checksum_ok,
                industry=industry,
                is_key=is_key,
                concierge=concierge,
                backup_concierge=backup_concierge,
                linked_leader=linked_leader,
                **texts,
            )
            if tiers:
                enterprise.tiers.set(tiers)
            _record_registered(actor, enterprise, ENTERPRISE_FIELDS)
    except IntegrityError:  # registered by someone else a moment ago
        raise duplicate from None
    return enterprise


def register_project(
    *,
    actor: User,
    enterprise: Enterprise,
    name: str,
    total_investment,
    stage: str,
    level: str,
    concierge: User | None = None,
    backup_concierge: User | None = None,
    linked_leader: User | None = None,
    signed_on=None,
) -> Project:
    """Add an investment project (total investment in 万元)."""
    require_register_keeper(actor)
    errors = FieldErrors()
    name = errors.text("name", name, max_length=200)
    try:
        investment = Decimal(str(total_investment))
        if not investment.is_finite() or investment < 0 or investment >= Decimal("1e12"):
            raise InvalidOperation
        investment = investment.quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        errors.add("total_investment", _("总投资应为不小于0的金额（万元）"))
        investment = None
    errors.choice("stage", stage, Project.Stage)
    errors.choice("level", level, Project.Level)
    if not stage:
        errors.add("stage", _("此项不能为空"))
    if not level:
        errors.add("level", _("此项不能为空"))
    for field, user in (
        ("concierge", concierge),
        ("backup_concierge", backup_concierge),
        ("linked_leader", linked_leader),
    ):
        _check_staff(errors, field, user)
    errors.raise_if_any()
    with transaction.atomic():
        project = Project.objects.create(
            enterprise=enterprise,
            name=name,
            total_investment=investment,
            stage=stage,
            level=level,
            concierge=concierge or enterprise.concierge,
            backup_concierge=backup_concierge,
            linked_leader=linked_leader or enterprise.linked_leader,
            signed_on=signed_on,
        )
        _record_registered(actor, project, PROJECT_FIELDS)
    return project
