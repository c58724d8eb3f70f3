"""The decomposition form (分解交办) and 重新交办 as the server renders and checks them: each unit offers only its
people, another case's task force is never offered, every row has the category's default due date, and the page
reads the same number of queries however many staff the zone has."""

import html
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from services.cases import steps as case_services
from services.cases import tasks as task_services
from services.roles import Role
from services.time import calendar
from tests.factories import DepartmentFactory, TaskForceFactory, UserFactory, case_at
from tracker.models import Case, Task

pytestmark = pytest.mark.django_db
CS = Case.Status
REFUSED = "承办人须为该专班或部门的在职人员"


def _url(obj, action):
    name = "admin:tracker_task_action" if isinstance(obj, Task) else "admin:tracker_case_action"
    return reverse(name, args=[obj.pk, action])


def _options(page: str, name: str) -> list[str]:
    """The labels a <select> offers (the empty choice left out)."""
    select = re.search(rf'<select name="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.S)
    assert select, name
    return [
        html.unescape(label).strip()
        for value, label in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)<', select[1])
        if value
    ]


def _unit_people(page: str) -> dict:
    return json.loads(re.search(r'<script id="unit-people" type="application/json">(.*?)</script>', page, re.S)[1])


def _rows(case, rows):
    data = {"version": case.version, "tasks-TOTAL_FORMS": str(len(rows)), "tasks-INITIAL_FORMS": "0"}
    for i, row in enumerate(rows):
        data.update({f"tasks-{i}-{key}": value for key, value in row.items()})
    return data


@pytest.fixture
def crowd(zone):
    """Beside the zone's people: an administrator and a task-force member who sit in the department, another task
    force with its own member, and a namesake of the department's officer in the power company."""
    other_force = TaskForceFactory(name="融资服务专班", lead_department=zone.other_department)
    other_force.members.add(UserFactory(full_name="陈十", title="专班成员", roles=[Role.TASK_FORCE_MEMBER]))
    return {
        "admin": UserFactory(full_name="系统管理员", department=zone.department, roles=[Role.ADMINISTRATOR]),
        "sitting_member": UserFactory(full_name="褚十一", department=zone.department, roles=[Role.TASK_FORCE_MEMBER]),
        "namesake": UserFactory(
            full_name="赵六", title="客户经理", department=zone.other_department, roles=[Role.DEPARTMENT_OFFICER]
        ),
        "other_force": other_force,
    }


def test_each_unit_offers_only_its_people(client, zone, crowd):
    # Given an accepted case
    case = case_at(zone, CS.ACCEPTED)
    client.force_login(zone.concierge)
    # When the concierge opens 分解交办
    page = client.get(_url(case, "decompose")).content.decode()
    # Then the page knows, per unit, only that unit's people: the department its officer; the task force its member
    # then its lead department's officer — never the administrator, nor someone who merely sits in the department
    units = _unit_people(page)
    assert units["department"][str(zone.department.pk)] == [zone.officer.pk]
    assert units["task_force"][str(zone.task_force.pk)] == [zone.member.pk, zone.officer.pk]
    assert units["task_force"][str(crowd["other_force"].pk)][0] != zone.member.pk
    offered = set(units["people"].values())
    assert "系统管理员" not in " ".join(offered) and "褚十一" not in " ".join(offered)
    assert zone.enterprise_user.display_name not in offered and zone.concierge.display_name not in offered
    # And namesakes are told apart by their unit and title
    assert {"赵六（规划建设局）", "赵六（供电公司 · 客户经理）"} <= offered

    # When a row names the department but is sent back for another reason (no title), that row's 承办人 list (as
    # shown without JavaScript) holds the department's people only
    response = client.post(_url(case, "decompose"), _rows(case, [{"department": zone.department.pk, "title": ""}]))
    page = response.content.decode()
    assert response.status_code == 200 and "此项不能为空" in page
    assert _options(page, "tasks-0-assignee") == ["赵六（规划建设局）"]


@pytest.mark.parametrize(
    ("unit", "who"),
    [
        ("department", "other_officer"),
        ("department", "member"),
        ("task_force", "other_officer"),
        ("task_force", "admin"),
    ],
)
def test_an_assignee_outside_the_unit_is_refused_on_the_row(client, zone, crowd, unit, who):
    # Given an accepted case
    case = case_at(zone, CS.ACCEPTED)
    client.force_login(zone.concierge)
    person = crowd[who] if who in crowd else getattr(zone, who)
    # When the concierge names someone outside the chosen unit (as a crafted form could)
    row = {"title": "核实用地红线", unit: getattr(zone, unit).pk, "assignee": person.pk}
    response = client.post(_url(case, "decompose"), _rows(case, [row]))
    # Then the row's 承办人 carries the refusal and nothing was given out
    assert response.status_code == 200
    page = response.content.decode()
    cell = re.search(r'field-assignee">(.*?)<select name="tasks-0-assignee"', page, re.S)[1]
    assert 'class="errorlist' in cell
    assert (REFUSED if who != "admin" else "选择一个有效的选项") in cell  # an administrator is not even offered
    assert not Task.objects.filter(case=case).exists()
    assert Case.objects.get(pk=case.pk).status == CS.ACCEPTED


def test_only_standing_task_forces_and_this_cases_own_are_offered(client, zone):
    # Given an accepted case, a task force formed for it, and one formed for another enterprise's case
    case = case_at(zone, CS.ACCEPTED)
    other_case = case_services.submit_case(
        actor=zone.other_enterprise_user,
        enterprise=zone.other_enterprise,
        category=zone.category,
        title="扩产用地",
        description="扩产用地需求",
    )
    own = TaskForceFactory(name="精密制造扩建专班", is_standing=False, case=case, lead_department=zone.department)
    foreign = TaskForceFactory(
        name="恒远电子扩产专班", is_standing=False, case=other_case, lead_department=DepartmentFactory(code="ndrc")
    )
    client.force_login(zone.concierge)
    # When the concierge opens 分解交办
    page = client.get(_url(case, "decompose")).content.decode()
    # Then this case's task force comes first, then the standing ones; the other enterprise's is not named anywhere
    assert _options(page, "tasks-0-task_force") == ["精密制造扩建专班（本诉求专班）", zone.task_force.name]
    assert "恒远电子" not in page
    # And a crafted form naming it gives nothing out
    row = {"title": "核实用地", "task_force": foreign.pk}
    assert client.post(_url(case, "decompose"), _rows(case, [row])).status_code == 200
    assert not Task.objects.filter(case=case).exists()
    # While this case's own is accepted
    row = {"title": "核实用地", "task_force": own.pk}
    assert client.post(_url(case, "decompose"), _rows(case, [row])).status_code == 302
    assert Task.objects.get(case=case).task_force == own


def test_every_row_and_every_added_row_has_the_categorys_due_date(client, zone):
    # Given a category whose tasks are due in 4 working days, and an accepted case of it
    zone.category.task_days = 4
    zone.category.save(update_fields=["task_days"])
    case = case_at(zone, CS.ACCEPTED)
    due = calendar.add_working_days(timezone.localdate(), 4).date.isoformat()
    client.force_login(zone.concierge)
    # When the concierge opens 分解交办
    page = client.get(_url(case, "decompose")).content.decode()
    # Then each of the three rows, and the row the page adds on "添加一行", shows that date
    for prefix in ["0", "1", "2", "__prefix__"]:
        assert re.search(rf'name="tasks-{prefix}-due_on" value="{due}"', page), prefix
    assert "添加一行" in page and 'id="task-row-template"' in page
    # And the date is said in words above the rows
    assert f"4 个工作日后的 {due}" in page
    # When six rows are sent, the fourth to sixth added on the page, one with its date cleared
    rows = [{"due_on": due}] * 3 + [
        {"title": "核实用地红线", "task_force": zone.task_force.pk, "due_on": due},
        {"title": "办理规划许可", "department": zone.department.pk, "due_on": ""},
        {"due_on": due},
    ]
    assert client.post(_url(case, "decompose"), _rows(case, rows)).status_code == 302
    # Then the two filled rows are tasks, both due on the default date
    tasks = Task.objects.filter(case=case).order_by("id")
    assert [(t.title, t.due_on.isoformat()) for t in tasks] == [("核实用地红线", due), ("办理规划许可", due)]


def _queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_page_reads_the_same_number_of_queries_whatever_the_staff(client, zone):
    # Given an accepted case in the small zone
    case = case_at(zone, CS.ACCEPTED)
    client.force_login(zone.concierge)
    url = _url(case, "decompose")
    _queries_for(client, url)  # warm the session and the per-process caches
    small = _queries_for(client, url)
    # When the zone grows: more departments with officers, more task forces with members
    for n in range(4):
        department = DepartmentFactory(code=f"grown{n}", name=f"新增部门{n}")
        officers = [UserFactory(department=department, roles=[Role.DEPARTMENT_OFFICER]) for _ in range(5)]
        force = TaskForceFactory(name=f"新增专班{n}", lead_department=department, members=officers[:2])
        force.assisting_departments.add(zone.department)
    # Then the page reads exactly as many queries
    assert _queries_for(client, url) == small
    assert small <= 25


def test_redispatch_offers_the_units_people_and_refuses_others(client, zone):
    # Given a task the task force returned
    case = case_at(zone, CS.IN_PROGRESS)
    task = Task.objects.get(case=case)
    task = task_services.return_task(actor=zone.member, task=task, reason="不属于本专班职责")
    client.force_login(zone.concierge)
    # When the concierge opens 重新交办, the 承办人 list is the task force's people, with the data to narrow it
    page = client.get(_url(task, "redispatch")).content.decode()
    assert _options(page, "assignee") == ["周八", "赵六（规划建设局）"]
    assert _unit_people(page)["department"][str(zone.other_department.pk)] == [zone.other_officer.pk]
    # When the task goes to the power company but names the task force's member, the 承办人 field says why
    data = {"version": task.version, "department": zone.other_department.pk, "assignee": zone.member.pk}
    response = client.post(_url(task, "redispatch"), data)
    assert response.status_code == 200 and REFUSED in response.content.decode()
    assert Task.objects.get(pk=task.pk).status == Task.Status.RETURNED
    # And with the power company's officer it is given out again
    data["assignee"] = zone.other_officer.pk
    assert client.post(_url(task, "redispatch"), data).status_code == 302
    assert Task.objects.get(pk=task.pk).assignee == zone.other_officer
