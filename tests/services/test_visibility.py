"""Visibility selectors (services/selectors.py): each role sees its own slice; another enterprise's data never
appears; lists cost a constant number of queries whatever their length."""

from dataclasses import dataclass

import pytest

from services.cases import steps as case_services
from services.cases.tasks import TaskSpec, decompose_case, redispatch_task, return_task
from services.selectors import cases_visible_to, enterprises_visible_to, projects_visible_to, tasks_visible_to
from tests.factories import EnterpriseFactory, ProjectFactory, UserFactory
from tracker.models import Case, Enterprise, Project, Task, User


@dataclass
class World:
    case: Case  # zone.enterprise's case, one task to the task force (lead: zone.department)
    other_case: Case  # zone.other_enterprise's case, one task to zone.other_department
    project: Project
    other_project: Project


@pytest.fixture
def world(zone) -> World:
    project = ProjectFactory(enterprise=zone.enterprise, name="新厂房扩建项目")
    other_project = ProjectFactory(enterprise=zone.other_enterprise, name="恒远二期")
    cases = []
    for user, concierge, unit in (
        (zone.enterprise_user, zone.concierge, {"task_force": zone.task_force}),
        (zone.other_enterprise_user, zone.other_concierge, {"department": zone.other_department}),
    ):
        case = case_services.submit_case(
            actor=user,
            enterprise=user.enterprise,
            category=zone.category,
            title="厂房扩建审批",
            description="希望协调加快审批。",
        )
        case_services.accept_case(actor=concierge, case=case)
        decompose_case(actor=concierge, case=case, tasks=[TaskSpec(title="协调审批", **unit)])
        cases.append(case)
    return World(cases[0], cases[1], project, other_project)


MINE, OTHERS, BOTH = "mine", "others", "both"
SEES = {
    "enterprise_user": MINE,
    "concierge": MINE,
    "backup": MINE,
    "officer": MINE,  # its department leads the task force
    "member": MINE,
    "other_enterprise_user": OTHERS,
    "other_concierge": OTHERS,
    "other_officer": OTHERS,
    "leader": BOTH,
    "admin": BOTH,
    "integration": BOTH,
}


def _expect(sees: str, mine, others) -> set:
    return {MINE: {mine}, OTHERS: {others}, BOTH: {mine, others}}[sees]


@pytest.mark.parametrize(("who", "sees"), SEES.items())
def test_cases_and_tasks_visible_to_each_role(zone, world, who, sees):
    # Given one case (with one task) for each of two enterprises
    user = getattr(zone, who)
    # When `who` lists cases and tasks
    cases = set(cases_visible_to(user))
    tasks = set(tasks_visible_to(user))
    # Then they see exactly their slice
    assert cases == _expect(sees, world.case, world.other_case)
    assert tasks == set(Task.objects.filter(case__in=cases))


@pytest.mark.parametrize(("who", "sees"), SEES.items())
def test_enterprises_and_projects_visible_to_each_role(zone, world, who, sees):
    # Given two enterprises with a project each
    user = getattr(zone, who)
    # When `who` lists enterprises and projects
    # Then they see exactly their slice
    assert set(enterprises_visible_to(user)) == _expect(sees, zone.enterprise, zone.other_enterprise)
    assert set(projects_visible_to(user)) == _expect(sees, world.project, world.other_project)


def test_a_concierge_linked_only_to_a_project_sees_its_cases_and_enterprise(zone, world):
    # Given a concierge linked to zone.enterprise's project but not to the enterprise, and a case on that project
    project_concierge = UserFactory(username="project_concierge")
    world.project.concierge = project_concierge
    world.project.save(update_fields=["concierge"])
    case = case_services.submit_case(
        actor=zone.enterprise_user,
        enterprise=zone.enterprise,
        project=world.project,
        category=zone.category,
        title="项目施工许可",
        description="项目需要施工许可。",
    )
    # When they list what they see
    # Then they see the project's case (and are its concierge), the project and its enterprise, nothing else
    assert case.concierge == project_concierge
    assert set(cases_visible_to(project_concierge)) == {case}
    assert set(projects_visible_to(project_concierge)) == {world.project}
    assert set(enterprises_visible_to(project_concierge)) == {zone.enterprise}


def test_staff_without_links_or_tasks_and_inactive_users_see_nothing(zone, world):
    # Given a concierge with no enterprise and a deactivated enterprise user
    idle = UserFactory(username="idle")
    zone.enterprise_user.is_active = False
    # When they list
    # Then nothing appears
    for user in (idle, zone.enterprise_user):
        assert not cases_visible_to(user).exists()
        assert not tasks_visible_to(user).exists()
        assert not enterprises_visible_to(user).exists()
        assert not projects_visible_to(user).exists()


def test_a_unit_loses_sight_of_a_case_once_its_task_is_given_elsewhere(zone, world):
    # Given the task force's member sees zone.enterprise's case through its task
    member = zone.member
    assert world.case in cases_visible_to(member)
    task = world.case.tasks.get()
    # When the task force returns the task and the concierge gives it to the power company
    return_task(actor=member, task=task, reason="不属于本专班职责")
    redispatch_task(actor=zone.concierge, task=task, department=zone.other_department)
    # Then the member no longer sees the case, and the power company does
    assert world.case not in cases_visible_to(member)
    assert world.case in cases_visible_to(zone.other_officer)


# Constant queries


def _make_cases(zone, count: int) -> None:
    project = ProjectFactory(enterprise=zone.enterprise)
    for n in range(count):
        case = case_services.submit_case(
            actor=zone.enterprise_user,
            enterprise=zone.enterprise,
            project=project if n % 2 else None,
            category=zone.category,
            title=f"诉求{n}",
            description="希望协调。",
        )
        case_services.accept_case(actor=zone.concierge, case=case)
        decompose_case(actor=zone.concierge, case=case, tasks=[TaskSpec(title=f"事项{n}", task_force=zone.task_force)])


@pytest.mark.parametrize("count", [5, 30])
def test_listing_cases_costs_the_same_queries_for_5_or_30(zone, count, django_assert_max_num_queries):
    # Given `count` cases of the concierge's enterprise, half on a project
    _make_cases(zone, count)
    concierge = User.objects.get(pk=zone.concierge.pk)  # fresh: its roles are read inside the measured block
    # When the concierge's queue is listed with what a row shows
    with django_assert_max_num_queries(2):
        rows = [
            (c.number, c.enterprise.name, c.category.name, c.concierge.display_name, c.project and c.project.name)
            for c in cases_visible_to(concierge)
        ]
    # Then every case is there, for the same two queries (roles, list)
    assert len(rows) == count


@pytest.mark.parametrize("count", [5, 30])
def test_listing_tasks_costs_the_same_queries_for_5_or_30(zone, count, django_assert_max_num_queries):
    # Given `count` tasks given to the task force led by the officer's department
    _make_cases(zone, count)
    officer = User.objects.get(pk=zone.officer.pk)
    # When the officer's queue is listed with what a row shows
    with django_assert_max_num_queries(2):
        rows = [
            (t.title, t.case.number, t.case.title, t.task_force.name, t.department, t.assignee, t.due_on)
            for t in tasks_visible_to(officer)
        ]
    # Then every task is there, for the same two queries
    assert len(rows) == count


def test_a_task_queue_shows_each_tasks_enterprise_without_a_query_per_row(zone, django_assert_max_num_queries):
    # Given 30 tasks given to the task force led by the officer's department
    _make_cases(zone, 30)
    officer = User.objects.get(pk=zone.officer.pk)
    # When the officer's queue is listed with the enterprise and category a row needs
    with django_assert_max_num_queries(2):
        rows = [(t.title, t.case.enterprise.name, t.case.category.name) for t in tasks_visible_to(officer)]
    # Then the list costs the same two queries
    assert len(rows) == 30


def test_enterprise_and_project_lists_cost_constant_queries(zone, django_assert_max_num_queries):
    # Given many enterprises and projects linked to one concierge
    for _ in range(12):
        ProjectFactory(enterprise=EnterpriseFactory(concierge=zone.concierge, backup_concierge=zone.backup))
    concierge = User.objects.get(pk=zone.concierge.pk)
    # When the concierge lists them with their linked staff
    with django_assert_max_num_queries(3):
        enterprises = [
            (e.name, e.concierge, e.backup_concierge, e.linked_leader) for e in enterprises_visible_to(concierge)
        ]
        projects = [(p.name, p.enterprise.name, p.concierge) for p in projects_visible_to(concierge)]
    # Then all are listed for a fixed number of queries
    assert len(enterprises) == 13 and len(projects) == 12
    assert Enterprise.objects.count() == 14
