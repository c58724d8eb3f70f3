"""The shared test builders, in one place: a factory for every model; cases and tasks walked through the real
services to a status (`make_case`, `case_at`, `task_at`), so their timelines are exactly what production would hold;
any state-machine action performed as the person docs/states-and-roles.md gives it to; a snapshot of everything a
refused call must leave untouched; the clock stopped at a moment of the zone's time; calls raced in threads; real
files to upload; and an API client per person."""

import random
import struct
import threading
import zlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import factory
import time_machine
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import close_old_connections, connection
from django.db.models import Max
from rest_framework.test import APIClient

from services import api_tokens
from services.cases import steps as case_services
from services.cases import tasks as task_services
from services.cases.tasks import TaskSpec
from services.register.uscc import generate_uscc
from services.time import calendar
from tracker.models import (
    Attachment,
    Case,
    CaseEvent,
    Category,
    Department,
    Enterprise,
    Extension,
    HolidayOverride,
    Project,
    Task,
    TaskForce,
    Tier,
    User,
    Visit,
)
from tracker.models.zone import Industry

_uscc_rng = random.Random(20261121)
CS = Case.Status
TS = Task.Status
SHANGHAI = ZoneInfo("Asia/Shanghai")


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


def at(day: date | str, hour: int = 10, minute: int = 0) -> datetime:
    """A moment of the zone's time (Asia/Shanghai): `at("2026-11-04", 22)` is 22:00 that day."""
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def frozen(moment: datetime):
    """The clock stopped at `moment` for everything inside (services read it through django.utils.timezone)."""
    return time_machine.travel(moment, tick=False)


def after_verdict_window(case: Case):
    """The clock stopped at 10:00 on the first working day after `case`'s verdict window: the enterprise has let
    it pass, so a callback is no longer early."""
    return frozen(at(calendar.add_working_days(case.verdict_due_on, 1).date))


def case_at(zone, status: str, **kwargs) -> Case:
    """A case of `zone.enterprise` walked through the services to `status` (one task to the task force)."""
    return make_case(
        status=status,
        enterprise_user=zone.enterprise_user,
        concierge=zone.concierge,
        category=zone.category,
        unit=zone.task_force,
        worker=zone.member,
        **kwargs,
    )


# Who performs each case action when nobody else is named (docs/states-and-roles.md).
CASE_ACTORS = {
    "accept": "concierge",
    "decline": "concierge",
    "withdraw": "enterprise_user",
    "decompose": "concierge",
    "resolve": "concierge",
    "confirm": "enterprise_user",
    "reopen": "enterprise_user",
    "callback_confirm": "concierge",
    "callback_reopen": "concierge",
}

_CASE_CALLS = {
    "accept": lambda zone, actor, case: case_services.accept_case(actor=actor, case=case),
    "decline": lambda zone, actor, case: case_services.decline_case(actor=actor, case=case, reason="不属于服务范围"),
    "withdraw": lambda zone, actor, case: case_services.withdraw_case(actor=actor, case=case, reason="问题已自行解决"),
    "decompose": lambda zone, actor, case: task_services.decompose_case(
        actor=actor, case=case, tasks=[TaskSpec(title="核实用地红线", task_force=zone.task_force)]
    ),
    "resolve": lambda zone, actor, case: case_services.resolve_case(
        actor=actor, case=case, answer="规划许可已批复，可领取证书。"
    ),
    "confirm": lambda zone, actor, case: case_services.confirm_case(actor=actor, case=case, rating=5, comment="满意"),
    "reopen": lambda zone, actor, case: case_services.reopen_case(actor=actor, case=case, reason="答复未解决实际问题"),
    # Recorded with whom staff spoke, so that a callback is accepted before the enterprise's window has ended too.
    "callback_confirm": lambda zone, actor, case: case_services.record_callback(
        actor=actor,
        case=case,
        verdict="confirm",
        rating=4,
        comment="电话回访，企业表示满意",
        contact_name="王经理",
        contact_phone="0512-57001234",
    ),
    "callback_reopen": lambda zone, actor, case: case_services.record_callback(
        actor=actor,
        case=case,
        verdict="reopen",
        comment="电话回访，企业认为问题仍未解决",
        contact_name="王经理",
        contact_phone="0512-57001234",
    ),
}


def run_case_action(zone, action: str, case: Case | int, *, actor=None):
    """Perform the case `action` with valid input, as `actor` or else the person the role table expects."""
    return _CASE_CALLS[action](zone, actor or getattr(zone, CASE_ACTORS[action]), case)


TASK_ACTORS = {
    "start": "member",
    "complete": "member",
    "return": "member",
    "redispatch": "concierge",
    "reopen": "concierge",
    "cancel": "concierge",
}

_TASK_CALLS = {
    "start": lambda zone, actor, task: task_services.start_task(actor=actor, task=task),
    "complete": lambda zone, actor, task: task_services.complete_task(actor=actor, task=task, result="已批复"),
    "return": lambda zone, actor, task: task_services.return_task(actor=actor, task=task, reason="不属于本单位职责"),
    "redispatch": lambda zone, actor, task: task_services.redispatch_task(
        actor=actor, task=task, department=zone.department, note="请规划建设局牵头"
    ),
    "reopen": lambda zone, actor, task: task_services.reopen_task(actor=actor, task=task, note="企业不满意，请重办"),
    "cancel": lambda zone, actor, task: task_services.cancel_task(actor=actor, task=task, reason="事项已不需要"),
}


def run_task_action(zone, action: str, task: Task | int, *, actor=None):
    """Perform the task `action` with valid input, as `actor` or else the person the role table expects."""
    return _TASK_CALLS[action](zone, actor or getattr(zone, TASK_ACTORS[action]), task)


# The shortest walk from a freshly given task to each status.
_TASK_WALKS = {
    TS.PENDING: [],
    TS.IN_PROGRESS: ["start"],
    TS.DONE: ["start", "complete"],
    TS.RETURNED: ["return"],
    TS.CANCELLED: ["cancel"],
}


def task_at(zone, status: str) -> Task:
    """The one task of an in-progress case, walked through the services to `status`."""
    case = case_at(zone, CS.IN_PROGRESS)
    task = case.tasks.get()
    for action in _TASK_WALKS[status]:
        run_task_action(zone, action, task)
    return Task.objects.select_related("case").get(pk=task.pk)


@dataclass(frozen=True)
class Snapshot:
    """What a user could notice about a case: its state, version, timeline, tasks, verdicts and files."""

    status: str
    version: int
    events: int
    last_event_id: int
    tasks: tuple
    feedback: int
    attachments: int


def snapshot(case: Case | int) -> Snapshot:
    fresh = Case.objects.get(pk=case.pk if isinstance(case, Case) else case)
    return Snapshot(
        status=fresh.status,
        version=fresh.version,
        events=fresh.events.count(),
        last_event_id=fresh.events.aggregate(last=Max("id"))["last"] or 0,
        tasks=tuple(fresh.tasks.order_by("pk").values_list("pk", "status", "version", "due_on", "task_force_id")),
        feedback=fresh.feedback.count(),
        attachments=fresh.attachments.count(),
    )


def events_since(case: Case, before: Snapshot) -> list[CaseEvent]:
    """The events written to `case` after `before` was taken, oldest first."""
    return list(CaseEvent.objects.filter(case_id=case.pk, pk__gt=before.last_event_id).order_by("id"))


def race(*calls, timeout: float = 30):
    """Run each call in its own thread (own connection), all released at once; return (result or error) each."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=timeout)
            outcomes[index] = call()
        except Exception as error:  # the outcome under test
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"
    close_old_connections()
    return outcomes


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1×1 pixel, 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


# Real files, as the content check reads them: a PDF and a PNG it accepts, an executable it refuses.
PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)
PNG = _png()
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 48
    + b"This program cannot be run in DOS mode."
)


def pdf(name: str = "规划许可申请表.pdf") -> SimpleUploadedFile:
    """`PDF` as an upload named `name`."""
    return SimpleUploadedFile(name, PDF)


def png(name: str = "现场照片.png") -> SimpleUploadedFile:
    """`PNG` as an upload named `name`."""
    return SimpleUploadedFile(name, PNG)


def client_for(user) -> APIClient:
    """An API client that sends `Authorization: Token <key>` for a fresh token of `user`."""
    _, key = api_tokens.create_token(actor=None, user=user, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    client.user = user
    return client
