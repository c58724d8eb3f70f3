"""Who hears of a case or a task (services/delivery/recipients.py): the case's concierge — its own, else the
project's, else the enterprise's — and that person alone gets the notice, the reminder and the digest; the backup
concierge — the project's, else the enterprise's — hears of a late acceptance; a task's workers — its assignee, else
its task force's lead and members, else its department's active officers; and the API names as assignee only the
staff the workbench offers.

The clock is stopped at each moment named: Monday 2026-11-02 … Friday 11-06 is a plain working week.
"""

from datetime import date

import pytest

from services.cases import steps as case_services
from services.cases import tasks as task_services
from services.cases.tasks import TaskSpec
from services.delivery import digests, recipients
from services.roles import Role
from services.time import reminders
from tests.factories import ProjectFactory, UserFactory, at, case_at, client_for, frozen
from tracker.models import Case, Notification, Reminder, Task, User

CS = Case.Status
Notice = Notification.Kind
Kind = Reminder.Kind


@pytest.fixture(autouse=True)
def rules(settings):
    settings.REMINDER_ACCEPT_ESCALATE_AFTER_DAYS = 2
    settings.REMINDER_DAY_START_HOUR = 9
    settings.REMINDER_DAY_END_HOUR = 18


@pytest.fixture
def project(zone):
    """A project of the zone's enterprise with a concierge of its own (the enterprise's is zone.concierge)."""
    mine = UserFactory(username="project_concierge", full_name="钱九", roles=[Role.CONCIERGE])
    return ProjectFactory(enterprise=zone.enterprise, name="新材料二期", concierge=mine)


def submit(zone, project=None) -> Case:
    return case_services.submit_case(
        actor=zone.enterprise_user,
        enterprise=zone.enterprise,
        category=zone.category,
        project=project,
        title="厂房扩建审批进度咨询",
        description="希望协调加快规划许可。",
    )


def told(kind: str) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


def digest_lists(user, case: Case, today: date) -> bool:
    return case.number in (digests.daily_digest(user, today) or "")


# The case's concierge -----------------------------------------------------------------------------------------


def test_a_new_case_is_given_the_project_concierge_else_the_enterprise_concierge(zone, project):
    # Given a project with its own concierge, and one with none
    bare = ProjectFactory(enterprise=zone.enterprise, name="研发中心", concierge=None)
    # When the enterprise submits a case about each, and one about no project
    with frozen(at("2026-11-02")):
        about_project, about_bare, about_none = submit(zone, project), submit(zone, bare), submit(zone)
    # Then each is given the first concierge in the order project → enterprise
    assert about_project.concierge == project.concierge
    assert about_bare.concierge == zone.concierge
    assert about_none.concierge == zone.concierge


def _own(zone, project):
    """A case about the project, handed by a leader to another concierge: the case's own concierge counts."""
    other = UserFactory(username="reassigned", full_name="郑十", roles=[Role.CONCIERGE])
    case = submit(zone, project)
    case_services.reassign_concierge(actor=zone.leader, case=case, concierge=other)
    return case, "reassigned"


def _project(zone, project):
    """A case about the project that carries no concierge of its own (registered before anyone was linked)."""
    case = submit(zone, project)
    Case.objects.filter(pk=case.pk).update(concierge=None)
    return case, "project_concierge"


def _enterprise(zone, project):
    """A case about no project that carries no concierge of its own."""
    case = submit(zone)
    Case.objects.filter(pk=case.pk).update(concierge=None)
    return case, "concierge"


@pytest.mark.parametrize("given", [_own, _project, _enterprise], ids=["case", "project", "enterprise"])
def test_the_notice_the_reminder_and_the_digest_reach_the_same_concierge(zone, project, given):
    # Given a case submitted on Monday, whose concierge is decided by the order case → project → enterprise
    with frozen(at("2026-11-02")):
        case, expected = given(zone, project)
    case = Case.objects.get(pk=case.pk)
    assert recipients.concierge(case).username == expected
    concierges = {"concierge", "project_concierge", "reassigned"}

    # When the enterprise adds information to it
    with frozen(at("2026-11-02", 11)):
        case_services.add_case_info(actor=zone.enterprise_user, case=case, note="补充：规划图纸已上传。")
    # Then that concierge alone of the concierges is told
    assert told(Notice.INFO_ADDED) & concierges == {expected}

    # When it is still not accepted on Wednesday
    with frozen(at("2026-11-04")):
        reminders.sweep()
    # Then the reminder reaches the same concierge (and the backup), not the others
    assert told(Kind.ACCEPT_OVERDUE) & concierges == {expected}

    # And the same concierge's digest lists it, no other concierge's does
    listing = {
        user.username
        for user in User.objects.filter(username__in=concierges)
        if digest_lists(user, case, date(2026, 11, 4))
    }
    assert listing == {expected}


# The backup concierge -----------------------------------------------------------------------------------------


def test_a_late_acceptance_tells_the_project_backup_before_the_enterprise_backup(zone, project):
    # Given the project has a backup of its own (the enterprise's is zone.backup)
    project.backup_concierge = UserFactory(username="project_backup", full_name="冯十一", roles=[Role.CONCIERGE])
    project.save(update_fields=["backup_concierge"])
    with frozen(at("2026-11-02")):
        case = submit(zone, project)

    # When the case is still not accepted on Wednesday
    with frozen(at("2026-11-04")):
        reminders.sweep()

    # Then the project's concierge and the project's backup are reminded, not the enterprise's backup
    assert told(Kind.ACCEPT_OVERDUE) == {"project_concierge", "project_backup"}
    # And the backup's digest lists the case waiting to be accepted; the enterprise's backup's does not
    assert digest_lists(project.backup_concierge, case, date(2026, 11, 4))
    assert not digest_lists(zone.backup, case, date(2026, 11, 4))


def test_a_project_without_a_backup_falls_back_to_the_enterprise_backup(zone, project):
    with frozen(at("2026-11-02")):
        case = submit(zone, project)
    with frozen(at("2026-11-04")):
        reminders.sweep()
    assert told(Kind.ACCEPT_OVERDUE) == {"project_concierge", "backup"}
    assert digest_lists(zone.backup, case, date(2026, 11, 4))


# A task's workers ---------------------------------------------------------------------------------------------


@pytest.fixture
def units(zone):
    """The task force gets a lead; the planning department has an active officer (zone.officer), a retired one
    and a clerk who is no officer."""
    zone.task_force.lead = UserFactory(username="force_lead", department=zone.department)
    zone.task_force.save(update_fields=["lead"])
    UserFactory(
        username="retired_officer", department=zone.department, is_active=False, roles=[Role.DEPARTMENT_OFFICER]
    )
    UserFactory(username="clerk", department=zone.department)
    return zone


WORKERS = [
    ("named person", {"task_force": "task_force", "assignee": "member"}, ["member"]),
    ("task force", {"task_force": "task_force"}, ["force_lead", "member"]),
    ("task force and department", {"task_force": "task_force", "department": "department"}, ["force_lead", "member"]),
    ("department", {"department": "department"}, ["officer"]),
]


@pytest.mark.parametrize(("unit", "spec", "expected"), WORKERS, ids=[w[0] for w in WORKERS])
def test_a_task_is_worked_by_its_assignee_else_its_task_force_else_its_department_officers(units, unit, spec, expected):
    # Given a task given to the unit
    with frozen(at("2026-11-02")):
        case = case_at(units, CS.ACCEPTED)
        (task,) = task_services.decompose_case(
            actor=units.concierge,
            case=case,
            tasks=[TaskSpec(title="协调规划许可", **{k: getattr(units, v) for k, v in spec.items()})],
        )
    task = Task.objects.select_related(*recipients.TASK_RELATED).get(pk=task.pk)

    # Then its workers are, in order, the assignee, else the task force's lead and members, else the officers
    assert [user.username for user in recipients.task_workers(task)] == expected
    # And the digest's reading of "the tasks I work" agrees person by person
    everyone = ["member", "force_lead", "officer", "other_officer", "clerk", "retired_officer", "concierge"]
    working = {
        username
        for username in everyone
        if Task.objects.filter(recipients.task_workers_q(User.objects.get(username=username)), pk=task.pk).exists()
    }
    assert working == set(expected)


# The API's assignee -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "refused"),
    [("member", False), ("retired_member", True), ("ent_user", True), ("admin", True)],
)
def test_the_api_names_as_assignee_only_active_staff_who_may_be_given_work(zone, who, refused):
    # Given a task force with an active member and one who has left
    retired = UserFactory(username="retired_member", is_active=False, roles=[Role.TASK_FORCE_MEMBER])
    zone.task_force.members.add(retired)
    case = case_at(zone, CS.ACCEPTED)
    assignee = User.objects.get(username=who)

    # When the concierge decomposes the case over the API, naming them as the task's assignee
    response = client_for(zone.concierge).post(
        f"/api/v1/cases/{case.pk}/decompose/",
        {"tasks": [{"title": "协调规划许可", "task_force": zone.task_force.pk, "assignee": assignee.pk}]},
        format="json",
    )

    # Then an active member is accepted; anyone else is refused on the assignee field and nothing is written
    if not refused:
        assert response.status_code < 300, response.json()
        assert Task.objects.get(case=case).assignee == assignee
        return
    assert response.status_code == 400, response.json()
    assert list(response.json()["fields"]) == ["tasks[0].assignee"]
    assert not Task.objects.filter(case=case).exists()
