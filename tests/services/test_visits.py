"""Visits (services/cases/visits.py): a concierge records a visit, and each problem found there becomes a case."""

from datetime import timedelta

import pytest
from django.utils import timezone

from services.cases.visits import ProblemSpec, record_visit
from services.errors import InvalidInput, NotFound, NotPermitted
from tests.factories import ProjectFactory
from tracker.models import Case, CaseEvent, CaseNumberSequence, Visit


def _problem(zone, **kwargs) -> ProblemSpec:
    values = {"category": zone.category, "title": "新厂房用地指标", "description": "扩产需要新增用地约30亩。"}
    return ProblemSpec(**(values | kwargs))


def _nothing_written() -> bool:
    return not (Visit.objects.exists() or Case.objects.exists() or CaseEvent.objects.exists())


@pytest.mark.parametrize("who", ["concierge", "backup", "leader"])
def test_a_visit_with_two_problems_opens_two_cases_linked_to_it(zone, who):
    # Given the enterprise's concierge (or backup, or a leader) back from a visit
    actor = getattr(zone, who)
    today = timezone.localdate()
    # When they record the visit with two problems found
    visit, cases = record_visit(
        actor=actor,
        enterprise=zone.enterprise,
        visited_on=today,
        people_met="总经理 王某",
        notes="了解扩产计划",
        problems=[
            _problem(zone),
            _problem(zone, title="双回路供电", description="新厂房需要双回路供电。", urgency=Case.Urgency.URGENT),
        ],
    )
    # Then the visit is kept as told, and each problem is a case of that enterprise found on that visit
    visit.refresh_from_db()
    assert (visit.concierge, visit.enterprise, visit.visited_on, visit.people_met) == (
        actor,
        zone.enterprise,
        today,
        "总经理 王某",
    )
    assert [(c.title, c.channel, c.visit, c.enterprise, c.submitted_by) for c in cases] == [
        ("新厂房用地指标", Case.Channel.VISIT, visit, zone.enterprise, actor),
        ("双回路供电", Case.Channel.VISIT, visit, zone.enterprise, actor),
    ]
    assert cases[1].urgency == Case.Urgency.URGENT
    # And they wait for the enterprise's concierge to accept them, with distinct numbers
    assert all(c.status == Case.Status.SUBMITTED and c.concierge == zone.concierge for c in cases)
    assert len({c.number for c in cases}) == 2
    assert set(visit.cases.all()) == set(cases)


def test_a_visit_with_no_problems_is_just_recorded(zone):
    visit, cases = record_visit(actor=zone.concierge, enterprise=zone.enterprise, visited_on=timezone.localdate())
    assert cases == [] and Visit.objects.get() == visit


def test_a_problem_about_a_project_is_linked_to_it(zone):
    # Given a project of the enterprise
    project = ProjectFactory(enterprise=zone.enterprise)
    # When the visit to that project finds a problem
    visit, (case,) = record_visit(
        actor=zone.concierge,
        enterprise=zone.enterprise,
        project=project,
        visited_on=timezone.localdate() - timedelta(days=3),
        problems=[_problem(zone)],
    )
    # Then the case is about the project
    assert (visit.project, case.project) == (project, project)


@pytest.mark.parametrize(
    ("who", "refusal"),
    [
        ("other_concierge", NotFound),  # cannot see the enterprise at all: 404, never a hint it exists
        ("officer", NotFound),
        ("enterprise_user", NotPermitted),  # sees its own enterprise, but visits are staff work
        ("integration", NotPermitted),
    ],
)
def test_only_a_linked_concierge_may_record_a_visit(zone, who, refusal):
    # Given someone not linked to the enterprise
    # When they record a visit to it
    with pytest.raises(refusal):
        record_visit(
            actor=getattr(zone, who),
            enterprise=zone.enterprise,
            visited_on=timezone.localdate(),
            problems=[_problem(zone)],
        )
    # Then nothing is written
    assert _nothing_written()


@pytest.mark.parametrize("visited_on", [timedelta(days=1), "2026-11-01", None], ids=["tomorrow", "text", "none"])
def test_a_visit_date_in_the_future_or_not_a_date_is_refused(zone, visited_on):
    # Given a visit date that is tomorrow, or not a date at all
    if isinstance(visited_on, timedelta):
        visited_on = timezone.localdate() + visited_on
    # When the visit is recorded
    with pytest.raises(InvalidInput) as refused:
        record_visit(actor=zone.concierge, enterprise=zone.enterprise, visited_on=visited_on, problems=[_problem(zone)])
    # Then the date is named and nothing is written
    assert set(refused.value.fields) == {"visited_on"}
    assert _nothing_written()


def test_a_project_of_another_enterprise_is_refused(zone):
    other_project = ProjectFactory(enterprise=zone.other_enterprise)
    with pytest.raises(InvalidInput) as refused:
        record_visit(
            actor=zone.concierge, enterprise=zone.enterprise, project=other_project, visited_on=timezone.localdate()
        )
    assert set(refused.value.fields) == {"project"}
    assert _nothing_written()


@pytest.mark.parametrize(
    ("problems", "field"),
    [
        ([{"title": ""}], "problems[0].title"),
        ([{}, {"description": " "}], "problems[1].description"),
        ([{}, {}, {"category": None}], "problems[2].category"),
        ([{"urgency": "whenever"}], "problems[0].urgency"),
    ],
    ids=["first-title", "second-description", "third-category", "urgency"],
)
def test_a_bad_problem_is_named_by_its_position_and_nothing_is_written(zone, problems, field):
    # Given a visit where one problem is incomplete (after good ones)
    specs = [_problem(zone, **changes) for changes in problems]
    # When the visit is recorded
    with pytest.raises(InvalidInput) as refused:
        record_visit(actor=zone.concierge, enterprise=zone.enterprise, visited_on=timezone.localdate(), problems=specs)
    # Then the field is named by the problem's position, and neither the visit nor any case is written
    assert field in refused.value.fields
    assert _nothing_written()
    # And no case number was used up
    assert not CaseNumberSequence.objects.filter(last__gt=0).exists()


def test_every_bad_field_of_a_visit_is_named_at_once(zone):
    # Given a visit dated tomorrow whose two problems each lack a title
    tomorrow = timezone.localdate() + timedelta(days=1)
    # When it is recorded
    with pytest.raises(InvalidInput) as refused:
        record_visit(
            actor=zone.concierge,
            enterprise=zone.enterprise,
            visited_on=tomorrow,
            problems=[_problem(zone, title=""), _problem(zone, title="")],
        )
    # Then all three mistakes are named together, as every other service does
    assert set(refused.value.fields) == {"visited_on", "problems[0].title", "problems[1].title"}


def test_a_concierge_linked_only_to_a_project_may_record_a_visit_to_it(zone):
    # Given a project of the enterprise linked to another concierge
    project = ProjectFactory(enterprise=zone.enterprise, concierge=zone.other_concierge)
    # When that concierge records a visit to the project
    visit, (case,) = record_visit(
        actor=zone.other_concierge,
        enterprise=zone.enterprise,
        project=project,
        visited_on=timezone.localdate(),
        problems=[_problem(zone)],
    )
    # Then the visit and its case are theirs
    assert visit.concierge == zone.other_concierge and case.project == project
