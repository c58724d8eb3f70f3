"""Fixtures shared by every test: a small zone with one person in each role."""

from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage

from services.register.reference import ensure_role_groups
from services.roles import Role
from tests.factories import (
    CategoryFactory,
    DepartmentFactory,
    EnterpriseFactory,
    EnterpriseUserFactory,
    TaskForceFactory,
    UserFactory,
)
from tracker.models import Attachment, Category, Department, Enterprise, TaskForce, User


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the default language: a request in English must not leave the thread in English."""
    from django.conf import settings
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache: API throttle counters must not carry over between tests."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Real hashing costs ~0.2 s a user; tests check behaviour, not the hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def private_media(settings, tmp_path, monkeypatch) -> Path:
    """Case files go to a fresh temporary PRIVATE_MEDIA_ROOT."""
    root = tmp_path / "private"
    settings.PRIVATE_MEDIA_ROOT = root
    # tracker.storage builds the storage once, at import: the setting alone does not move it
    monkeypatch.setattr(Attachment._meta.get_field("file"), "storage", FileSystemStorage(location=root, base_url=None))
    return root


@dataclass
class Zone:
    category: Category
    department: Department
    other_department: Department
    task_force: TaskForce
    concierge: User
    backup: User
    other_concierge: User
    officer: User
    other_officer: User
    member: User
    leader: User
    admin: User
    integration: User
    enterprise: Enterprise
    enterprise_user: User
    other_enterprise: Enterprise
    other_enterprise_user: User


@pytest.fixture
def zone(db) -> Zone:
    ensure_role_groups()
    department = DepartmentFactory(code="planning", name="规划建设局")
    other_department = DepartmentFactory(code="power", name="供电公司")
    concierge = UserFactory(username="concierge", full_name="张三", roles=[Role.CONCIERGE])
    backup = UserFactory(username="backup", full_name="李四", roles=[Role.CONCIERGE])
    other_concierge = UserFactory(username="other_concierge", full_name="王五", roles=[Role.CONCIERGE])
    officer = UserFactory(username="officer", full_name="赵六", department=department, roles=[Role.DEPARTMENT_OFFICER])
    other_officer = UserFactory(
        username="other_officer", full_name="孙七", department=other_department, roles=[Role.DEPARTMENT_OFFICER]
    )
    member = UserFactory(username="member", full_name="周八", roles=[Role.TASK_FORCE_MEMBER])
    leader = UserFactory(username="leader", full_name="吴主任", roles=[Role.LEADER])
    admin = UserFactory(username="admin", full_name="管理员", roles=[Role.ADMINISTRATOR])
    integration = UserFactory(username="hotline12345", full_name="12345热线", is_staff=False, roles=[Role.INTEGRATION])
    task_force = TaskForceFactory(name="用地保障专班", lead_department=department, members=[member])
    enterprise = EnterpriseFactory(
        name="昆山精密制造有限公司", concierge=concierge, backup_concierge=backup, linked_leader=leader
    )
    other_enterprise = EnterpriseFactory(name="昆山恒远电子有限公司", concierge=other_concierge)
    return Zone(
        category=CategoryFactory(code="land", name="用地空间", task_days=10),
        department=department,
        other_department=other_department,
        task_force=task_force,
        concierge=concierge,
        backup=backup,
        other_concierge=other_concierge,
        officer=officer,
        other_officer=other_officer,
        member=member,
        leader=leader,
        admin=admin,
        integration=integration,
        enterprise=enterprise,
        enterprise_user=EnterpriseUserFactory(username="ent_user", enterprise=enterprise),
        other_enterprise=other_enterprise,
        other_enterprise_user=EnterpriseUserFactory(username="other_ent_user", enterprise=other_enterprise),
    )
