"""A case's own task force (its name carries the enterprise's name) is shown only to those who may see the case."""

import pytest
from django.urls import reverse

from services.cases.tasks import TaskSpec, decompose_case
from services.selectors import task_forces_visible_to
from tests.factories import TaskForceFactory, case_at
from tracker.models import Case

pytestmark = pytest.mark.django_db
CS = Case.Status

OWN_NAME = "昆山精密制造有限公司厂房扩建专班"


@pytest.fixture
def own_task_force(zone):
    """A task force formed for one case of the enterprise, with a task given to it."""
    case = case_at(zone, CS.ACCEPTED)
    task_force = TaskForceFactory(
        name=OWN_NAME, lead_department=zone.department, case=case, is_standing=False, members=[zone.member]
    )
    decompose_case(actor=zone.concierge, case=case, tasks=[TaskSpec(title="协调用地", task_force=task_force)])
    return task_force


def _page(client, url, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_selector_shows_a_cases_task_force_only_to_who_sees_the_case(zone, own_task_force):
    assert own_task_force in task_forces_visible_to(zone.concierge)
    assert own_task_force not in task_forces_visible_to(zone.other_concierge)
    assert zone.task_force in task_forces_visible_to(zone.other_concierge)


def test_another_concierge_does_not_see_it_in_the_task_lists_filter(client, zone, own_task_force):
    # Given the concierge of another enterprise, when they open the task list
    client.force_login(zone.other_concierge)
    page = _page(client, reverse("admin:tracker_task_changelist"))
    # Then the filter offers the standing task force but not the case's own
    assert zone.task_force.name in page
    assert OWN_NAME not in page
    # And the case's concierge sees it there
    client.force_login(zone.concierge)
    assert OWN_NAME in _page(client, reverse("admin:tracker_task_changelist"))


def test_the_task_lists_filter_by_task_force_still_filters(client, zone, own_task_force):
    client.force_login(zone.concierge)
    page = _page(client, reverse("admin:tracker_task_changelist"), task_force=own_task_force.pk, state="open")
    assert "协调用地" in page


def test_the_task_force_list_and_its_search_are_not_offered_to_a_concierge(client, zone, own_task_force):
    # The list is the administrators' (who see every case); a concierge is refused it, search or not
    client.force_login(zone.other_concierge)
    url = reverse("admin:tracker_taskforce_changelist")
    for params in ({}, {"q": "厂房扩建"}):
        response = client.get(url, params)
        assert response.status_code == 403 and OWN_NAME not in response.content.decode()
    client.force_login(zone.admin)
    assert OWN_NAME in _page(client, url, q="厂房扩建")


def test_another_concierge_cannot_open_it(client, zone, own_task_force):
    client.force_login(zone.other_concierge)
    response = client.get(reverse("admin:tracker_taskforce_change", args=[own_task_force.pk]))
    # The admin answers an object it cannot find with a redirect to the index
    assert response.status_code == 302
    assert OWN_NAME not in client.get(response.url).content.decode()


def test_another_concierge_does_not_find_it_through_autocomplete(client, zone, own_task_force):
    client.force_login(zone.other_concierge)
    response = client.get(
        reverse("admin:autocomplete"),
        {"term": "专班", "app_label": "tracker", "model_name": "task", "field_name": "task_force"},
    )
    assert response.status_code == 200
    names = {row["text"] for row in response.json()["results"]}
    assert zone.task_force.name in names and OWN_NAME not in names
