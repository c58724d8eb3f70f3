"""Factories for every model, in one place. Cases are built by walking the real services (see `make_case`),
so their timelines are exactly what production would hold."""

import random
from datetime import date
from decimal import Decimal

import factory
from django.contrib.auth.models import Group

from services.cases import steps as case_services
from services.cases import tasks as task_services
from services.cases.tasks import TaskSpec
from services.register.uscc import generate_uscc
from tracker.models import (
    Attachment,
    Case,
    Category,
    Department,
    Enterprise,
    Extension,
    HolidayOverride,
    Project,
    TaskForce,
    Tier,
    User,
    Visit,
)
from tracker.models.zone import Industry

_uscc_rng = random.Random(20261121)


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"dept{n}")
    name = factory.Sequence(lambda n: f"测试部门{n}")


class UserFactory(factory.django.DjangoModelFactory):
    """A staff member; pass `roles=[Role.CONCIERGE, ...]` to put them in role groups."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    full_name = factory.Sequence(lambda n: f"工作人员{n}")
    password = factory.django.Password("pass-123456")
    is_staff = True

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or []:
            self.groups.add(Group.objects.get_or_create(name=role)[0])


class TierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tier
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"tier{n}")
    name = factory.Sequence(lambda n: f"梯队{n}")


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enterprise

    name = factory.Sequence(lambda n: f"昆山测试科技有限公司{n}")
    uscc = factory.LazyFunction(lambda: generate_uscc(_uscc_rng))
    industry = Industry.ELECTRONIC_INFORMATION
    park = "昆山高新区"
    contact_name = "王经理"
    contact_phone = "13800000000"


class EnterpriseUserFactory(UserFactory):
    username = factory.Sequence(lambda n: f"ent{n}")
    full_name = factory.Sequence(lambda n: f"企业联系人{n}")
    is_staff = False
    enterprise = factory.SubFactory(EnterpriseFactory)


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    enterprise = factory.SubFactory(EnterpriseFactory)
    name = factory.Sequence(lambda n: f"测试项目{n}")
    total_investment = Decimal("50000.00")
    stage = Project.Stage.STARTED
    level = Project.Level.KUNSHAN
    concierge = factory.SelfAttribute("enterprise.concierge")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"cat{n}")
    name = factory.Sequence(lambda n: f"类别{n}")
    accept_days = 1
    task_days = 10
    verdict_days = 5


class TaskForceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaskForce
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"测试专班{n}")
    lead_department = factory.SubFactory(DepartmentFactory)

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        if extracted:
            self.members.set(extracted)


class HolidayOverrideFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HolidayOverride
        django_get_or_create = ("date",)

    date = date(2027, 1, 1)
    is_working_day = False
    note = "元旦"


class VisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Visit

    concierge = factory.SelfAttribute("enterprise.concierge")
    enterprise = factory.SubFactory(EnterpriseFactory)
    visited_on = factory.LazyFunction(date.today)
    people_met = "总经理"
    notes = "走访了解生产经营情况"


class AttachmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attachment

    original_name = "说明.pdf"
    size = 10
    content_type = "application/pdf"
    sha256 = "0" * 64
    file = factory.django.FileField(filename="note.pdf", data=b"%PDF-1.4\n")


class ExtensionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Extension


def make_case(
    *,
    status: str,
    enterprise_user: User,
    concierge: User,
    category: Category,
    unit: TaskForce | Department,
    worker: User,
    title: str = "厂房扩建审批进度咨询",
) -> Case:
    """A case walked through the real services up to `status` (one task given to `unit`, done by `worker`)."""
    enterprise = enterprise_user.enterprise
    case = case_services.submit_case(
        actor=enterprise_user,
        enterprise=enterprise,
        category=category,
        title=title,
        description="企业新厂房扩建，规划许可尚未批复，希望协调加快。",
    )
    if status == Case.Status.SUBMITTED:
        return case
    if status in (Case.Status.DECLINED, Case.Status.WITHDRAWN):
        if status == Case.Status.DECLINED:
            return case_services.decline_case(actor=concierge, case=case, reason="不属于服务范围")
        return case_services.withdraw_case(actor=enterprise_user, case=case, reason="问题已自行解决")
    case_services.accept_case(actor=concierge, case=case)
    if status == Case.Status.ACCEPTED:
        return Case.objects.get(pk=case.pk)
    spec = TaskSpec(title="协调规划许可", **{"task_force" if isinstance(unit, TaskForce) else "department": unit})
    (task,) = task_services.decompose_case(actor=concierge, case=case, tasks=[spec])
    if status == Case.Status.IN_PROGRESS:
        return Case.objects.get(pk=case.pk)
    task_services.start_task(actor=worker, task=task)
    task_services.complete_task(actor=worker, task=task, result="规划许可已于本周批复")
    case_services.resolve_case(actor=concierge, case=case, answer="规划许可已批复，可领取证书。")
    if status == Case.Status.RESOLVED:
        return Case.objects.get(pk=case.pk)
    case_services.confirm_case(actor=enterprise_user, case=case, rating=5, comment="感谢")
    assert status == Case.Status.CLOSED, status
    return Case.objects.get(pk=case.pk)
