"""The audit log (审计日志): every save or delete of a person, a unit, a category, a tier or a holiday entry goes
through a service with an actor, is checked there, and leaves one append-only entry naming each changed field in
words."""

import random
from datetime import date

import pytest
from django.contrib.auth.models import Group

from services.audit import entries_of
from services.errors import InvalidInput, NotPermitted
from services.register import reference, staff
from services.register.uscc import generate_uscc
from services.register.zone import register_enterprise
from services.roles import Role
from services.time import holidays
from tests.factories import HolidayOverrideFactory
from tracker.models import AuditEntry, Department, HolidayOverride, HolidayYear, ReferenceChange

pytestmark = pytest.mark.django_db


def only_entry() -> AuditEntry:
    (entry,) = AuditEntry.objects.all()
    return entry


# Departments, task forces, users ---------------------------------------------------------------------------------


def test_a_new_department_is_recorded_with_its_values_in_words(zone):
    # When an administrator adds a department headed by an officer
    department = staff.save_department(
        actor=zone.admin,
        department=None,
        values={"code": "tech", "name": "科技局", "kind": Department.Kind.GOVERNMENT, "head": zone.officer},
    )
    # Then it exists, and the log names it, who added it, and its values as people read them
    entry = only_entry()
    assert (entry.action, entry.actor, entry.model, entry.object_id) == (
        "created",
        zone.admin,
        "tracker.department",
        str(department.pk),
    )
    assert entry.object_repr == "科技局"
    assert entry.changes["head"] == ["", "赵六"]
    assert entry.changes["kind"] == ["", "政府部门"]
    assert entry.changes["is_active"] == ["", "是"]


def test_a_change_records_only_what_changed_and_an_unchanged_save_nothing(zone):
    staff.save_department(actor=zone.admin, department=zone.department, values={"name": "规划建设局", "phone": ""})
    assert not AuditEntry.objects.exists()
    staff.save_department(
        actor=zone.admin, department=zone.department.pk, values={"name": "规划建设局", "head": zone.officer}
    )
    assert only_entry().changes == {"head": ["", "赵六"]}
    assert list(entries_of(zone.department)) == [only_entry()]


def test_only_administrators_change_people_and_units(zone):
    for actor in (zone.leader, zone.concierge, zone.officer):
        with pytest.raises(NotPermitted):
            staff.save_department(actor=actor, department=zone.department, values={"name": "新名称"})
        with pytest.raises(NotPermitted):
            staff.save_task_force(actor=actor, task_force=zone.task_force, values={}, members=[])
        with pytest.raises(NotPermitted):
            staff.save_user(actor=actor, user=zone.concierge, values={"is_active": False})
        with pytest.raises(NotPermitted):
            holidays.save_holiday_override(
                actor=actor, override=None, values={"date": date(2027, 10, 9), "is_working_day": True}
            )
    zone.department.refresh_from_db()
    assert zone.department.name == "规划建设局"
    assert not AuditEntry.objects.exists()


def test_bad_input_names_its_fields_and_writes_nothing(zone):
    with pytest.raises(InvalidInput) as refused:
        staff.save_department(
            actor=zone.admin,
            department=zone.department,
            values={"name": "供电公司", "head": zone.enterprise_user},  # another's name; not a staff member
        )
    assert set(refused.value.fields) == {"name", "head"}
    zone.department.refresh_from_db()
    assert (zone.department.name, zone.department.head) == ("规划建设局", None)
    assert not AuditEntry.objects.exists()


def test_task_force_members_are_recorded_by_name(zone):
    staff.save_task_force(actor=zone.admin, task_force=zone.task_force, values={}, members=[zone.member, zone.officer])
    assert set(zone.task_force.members.all()) == {zone.member, zone.officer}
    assert only_entry().changes == {"members": [["周八"], sorted(["周八", "赵六"])]}
    # And an enterprise's user is never made a member
    with pytest.raises(InvalidInput) as refused:
        staff.save_task_force(actor=zone.admin, task_force=zone.task_force, values={}, members=[zone.enterprise_user])
    assert list(refused.value.fields) == ["members"]
    assert AuditEntry.objects.count() == 1


def test_roles_are_recorded_by_their_names_and_a_password_never(zone):
    leaders = Group.objects.get(name=Role.LEADER)
    user = staff.save_user(
        actor=zone.admin,
        user=None,
        values={"username": "newleader", "full_name": "钱局长"},
        groups=[leaders],
        password="a-long-Secret-42",
    )
    assert user.check_password("a-long-Secret-42")
    created = only_entry()
    assert created.changes["groups"] == ["", ["领导"]]
    assert created.changes["password"] == ["", "已修改密码"]
    staff.set_password(actor=zone.admin, user=user, password="another-Secret-43")
    user.refresh_from_db()
    assert user.check_password("another-Secret-43")
    changed = AuditEntry.objects.filter(action="changed").get()
    assert changed.changes == {"password": ["", "已修改密码"]}
    # Neither the password nor its hash is anywhere in the log
    text = str(list(AuditEntry.objects.values_list("changes", flat=True)))
    assert "Secret" not in text and user.password not in text and "md5$" not in text


def test_a_password_is_not_a_value(zone):
    with pytest.raises(TypeError):
        staff.save_user(actor=zone.admin, user=zone.concierge, values={"password": "x"})


def test_a_person_is_staff_or_an_enterprise_user_not_both(zone):
    with pytest.raises(InvalidInput) as refused:
        staff.save_user(actor=zone.admin, user=zone.enterprise_user, values={"department": zone.department})
    assert list(refused.value.fields) == ["enterprise"]
    assert not AuditEntry.objects.exists()


# Categories and tiers -----------------------------------------------------------------------------------------------


def test_a_category_limit_change_is_in_both_records(zone):
    reference.change_category_limits(actor=zone.admin, category=zone.category, task_days=12)
    assert ReferenceChange.objects.get().new_value == "12 个工作日"
    entry = only_entry()
    assert (entry.model, entry.object_id, entry.action) == ("tracker.category", str(zone.category.pk), "changed")
    assert entry.changes == {"task_days": ["10 个工作日", "12 个工作日"]}


def test_a_category_and_a_tier_are_saved_by_administrators_only(zone):
    with pytest.raises(NotPermitted):
        reference.save_category(actor=zone.leader, category=zone.category, values={"name": "用地"})
    with pytest.raises(NotPermitted):
        reference.save_tier(actor=zone.leader, tier=None, values={"code": "gazelle", "name": "瞪羚"})
    with pytest.raises(TypeError):  # limits go through change_category_limits (checked, and recorded field by field)
        reference.save_category(actor=zone.admin, category=zone.category, values={"task_days": 3})
    reference.save_category(actor=zone.admin, category=zone.category, values={"name": "用地与空间"})
    assert only_entry().changes == {"name": ["用地空间", "用地与空间"]}


# Holidays ------------------------------------------------------------------------------------------------------------


def test_holiday_entries_are_recorded_when_added_changed_and_deleted(zone):
    override = holidays.save_holiday_override(
        actor=zone.admin, override=None, values={"date": date(2027, 10, 9), "is_working_day": True, "note": "国庆调休"}
    )
    holidays.save_holiday_override(actor=zone.admin, override=override.pk, values={"note": "国庆节调休上班"})
    holidays.delete_holiday_override(actor=zone.admin, override=override)
    assert not HolidayOverride.objects.exists()
    actions = list(AuditEntry.objects.order_by("id").values_list("action", "changes"))
    assert actions[0] == (
        "created",
        {"date": ["", "2027-10-09"], "is_working_day": ["", "是"], "note": ["", "国庆调休"]},
    )
    assert actions[1] == ("changed", {"note": ["国庆调休", "国庆节调休上班"]})
    assert actions[2][0] == "deleted" and actions[2][1]["note"] == ["国庆节调休上班", ""]


def test_a_date_entered_twice_is_refused_on_its_field(zone):
    HolidayOverrideFactory(date=date(2027, 10, 9))
    with pytest.raises(InvalidInput) as refused:
        holidays.save_holiday_override(
            actor=zone.admin, override=None, values={"date": date(2027, 10, 9), "is_working_day": False}
        )
    assert list(refused.value.fields) == ["date"]
    assert not AuditEntry.objects.exists()


def test_confirming_and_reopening_a_year_are_recorded(zone):
    confirmed = holidays.mark_year_complete(actor=zone.admin, year=2027, note="国办发明电〔2026〕")
    holidays.reopen_year(actor=zone.admin, year=confirmed.pk)
    assert not HolidayYear.objects.exists()
    assert list(AuditEntry.objects.order_by("id").values_list("model", "action")) == [
        ("tracker.holidayyear", "created"),
        ("tracker.holidayyear", "deleted"),
    ]
    with pytest.raises(NotPermitted):
        holidays.reopen_year(actor=zone.leader, year=1)


# The register ---------------------------------------------------------------------------------------------------------


def test_registering_an_enterprise_records_its_linked_staff(zone):
    enterprise = register_enterprise(
        actor=zone.leader,
        name="昆山新材料有限公司",
        uscc=generate_uscc(random.Random(3)),
        industry="electronic_information",
        concierge=zone.concierge,
        linked_leader=zone.leader,
    )
    entry = only_entry()
    assert (entry.actor, entry.model, entry.object_id) == (zone.leader, "tracker.enterprise", str(enterprise.pk))
    assert entry.changes["concierge"] == ["", "张三"] and entry.changes["linked_leader"] == ["", "吴主任"]
    assert entry.changes["industry"] == ["", "电子信息"]


# Append-only ----------------------------------------------------------------------------------------------------------


def test_entries_are_never_changed_or_deleted(zone):
    staff.save_department(actor=zone.admin, department=zone.department, values={"phone": "0512-57771234"})
    entry = only_entry()
    with pytest.raises(TypeError):
        AuditEntry.objects.update(object_repr="x")
    with pytest.raises(TypeError):
        AuditEntry.objects.all().delete()
    with pytest.raises(TypeError):
        entry.delete()
    entry.object_repr = "x"
    with pytest.raises(TypeError):
        entry.save()
    assert only_entry().object_repr == "规划建设局"
