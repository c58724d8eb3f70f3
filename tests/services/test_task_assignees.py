"""Who may be named a task's 承办人: only the people of the unit it is given to (services.cases.tasks.people_of_units),
never an administrator or an enterprise's user — in a decomposition and in a re-dispatch alike."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from services.cases import tasks as task_services
from services.cases.tasks import TaskSpec
from services.errors import InvalidInput
from services.roles import Role
from tests.factories import DepartmentFactory, TaskForceFactory, UserFactory, case_at, snapshot
from tracker.models import Case, Task

CS = Case.Status


@pytest.fixture
def people(zone):
    """Beside the zone: an assisting department of the task force with its officer, the task force's lead, another
    task force's member, an administrator and a task-force member sitting in the department, and a namesake."""
    assisting = DepartmentFactory(code="natural_resources", name="自然资源局")
    zone.task_force.assisting_departments.add(assisting)
    lead = UserFactory(full_name="钱专班", department=zone.department, roles=[Role.TASK_FORCE_MEMBER])
    zone.task_force.lead = lead
    zone.task_force.save(update_fields=["lead"])
    other_force = TaskForceFactory(name="融资服务专班", lead_department=zone.other_department)
    return {
        "assisting_officer": UserFactory(full_name="冯九", department=assisting, roles=[Role.DEPARTMENT_OFFICER]),
        "lead": lead,
        "other_member": UserFactory(full_name="陈十", roles=[Role.TASK_FORCE_MEMBER]),
        "admin_in_department": UserFactory(
            full_name="系统管理员", department=zone.department, roles=[Role.ADMINISTRATOR, Role.DEPARTMENT_OFFICER]
        ),
        "member_in_department": UserFactory(
            full_name="褚十一", department=zone.department, roles=[Role.TASK_FORCE_MEMBER]
        ),
        "other_force": other_force,
    }


def _decompose(zone, case, **spec):
    return task_services.decompose_case(actor=zone.concierge, case=case, tasks=[TaskSpec(title="落实用地指标", **spec)])


@pytest.mark.parametrize("who", ["admin_in_department", "member_in_department"])
def test_a_department_task_refuses_anyone_but_its_officers(zone, people, who):
    # Given an accepted case
    case = case_at(zone, CS.ACCEPTED)
    before = snapshot(case)
    # When the concierge names, for the department, an administrator or a task-force member who sits in it
    with pytest.raises(InvalidInput) as refused:
        _decompose(zone, case, department=zone.department, assignee=people[who])
    # Then the row's assignee is named and nothing was written
    assert set(refused.value.fields) == {"tasks[0].assignee"}
    assert snapshot(case) == before


@pytest.mark.parametrize("who", ["other_member", "admin_in_department", "enterprise_user", "leader"])
def test_a_task_force_task_refuses_people_outside_the_task_force(zone, people, who):
    case = case_at(zone, CS.ACCEPTED)
    people["other_member"].task_forces.add(people["other_force"])
    person = people[who] if who in people else getattr(zone, who)
    with pytest.raises(InvalidInput) as refused:
        _decompose(zone, case, task_force=zone.task_force, assignee=person)
    assert set(refused.value.fields) == {"tasks[0].assignee"}
    assert not Task.objects.filter(case=case).exists()


@pytest.mark.parametrize("who", ["lead", "assisting_officer"])
def test_a_task_force_task_accepts_its_lead_and_its_units_officers(zone, people, who):
    case = case_at(zone, CS.ACCEPTED)
    (task,) = _decompose(zone, case, task_force=zone.task_force, assignee=people[who])
    assert task.assignee == people[who]


def test_a_redispatch_refuses_an_assignee_outside_the_new_unit(zone):
    # Given a task the task force returned
    case = case_at(zone, CS.IN_PROGRESS)
    task = Task.objects.get(case=case)
    task_services.return_task(actor=zone.member, task=task, reason="不属于本专班职责")
    # When the concierge gives it to the department but names the task force's member
    with pytest.raises(InvalidInput) as refused:
        task_services.redispatch_task(actor=zone.concierge, task=task, department=zone.department, assignee=zone.member)
    # Then the assignee is named, and the task is still returned
    assert set(refused.value.fields) == {"assignee"}
    assert Task.objects.get(pk=task.pk).status == Task.Status.RETURNED
    # And the department's officer is accepted
    task_services.redispatch_task(actor=zone.concierge, task=task, department=zone.department, assignee=zone.officer)
    assert Task.objects.get(pk=task.pk).assignee == zone.officer


def test_people_of_units_lists_each_units_people_in_three_queries(zone, people):
    # Given the zone's units, and ten more officers in the department
    extra = [UserFactory(department=zone.department, roles=[Role.DEPARTMENT_OFFICER]) for _ in range(10)]
    units = {"task_forces": [zone.task_force, people["other_force"]], "departments": [zone.department]}
    # When the people of every unit are read
    with CaptureQueriesContext(connection) as queries:
        found = task_services.people_of_units(**units)
    # Then three queries were enough
    assert len(queries) == 3
    # And the department offers its officers only; the task force its lead and members first, then its units'
    # officers; nobody offers an administrator
    department = set(found.departments[zone.department.pk])
    assert department == {zone.officer.pk, *(u.pk for u in extra)}
    force = found.task_forces[zone.task_force.pk]
    assert force[:2] == [people["lead"].pk, zone.member.pk]
    assert set(force[2:]) == department | {people["assisting_officer"].pk}
    assert people["admin_in_department"].pk not in found.people
    assert found.task_forces[people["other_force"].pk] == [zone.other_officer.pk]
