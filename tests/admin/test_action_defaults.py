"""Forms that give a task a new deadline offer one already counted in working days (issue 14: every row, every
form, has a sensible due date)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from services.cases import tasks as task_services
from services.time import calendar
from tests.factories import case_at
from tracker.models import Case

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("action", ["redispatch", "reopen"])
def test_a_new_deadline_is_offered_filled_in(client, zone, action):
    # Given a task returned by its unit (for 重新交办) or done (for 要求重办)
    task = case_at(zone, Case.Status.IN_PROGRESS).tasks.get()
    task_services.start_task(actor=zone.member, task=task)
    if action == "redispatch":
        task_services.return_task(actor=zone.member, task=task, reason="不属于本专班职责")
    else:
        task_services.complete_task(actor=zone.member, task=task, result="已办结")
    client.force_login(zone.concierge)
    # When the concierge opens the form
    page = client.get(reverse("admin:tracker_task_action", args=[task.pk, action])).content.decode()
    # Then the due date is the category's working days from today, already in the field
    due = calendar.add_working_days(timezone.localdate(), zone.category.task_days).date
    assert f'value="{due:%Y-%m-%d}"' in page


def test_an_object_page_links_its_list_only_for_those_the_list_is_for(client, zone):
    # Given a department officer opening an enterprise from a task's case (the enterprise list is not theirs)
    case = case_at(zone, Case.Status.IN_PROGRESS)
    enterprise_page = reverse("admin:tracker_enterprise_change", args=[case.enterprise_id])
    enterprise_list = reverse("admin:tracker_enterprise_changelist")
    client.force_login(zone.officer)
    officer_view = client.get(enterprise_page)
    # Then the page opens but its breadcrumbs do not lead to a list that would refuse them
    if officer_view.status_code == 200:
        assert f'href="{enterprise_list}"' not in _breadcrumbs(officer_view)
        assert client.get(enterprise_list).status_code == 403
    # And the concierge, whose menu offers the list, gets the link
    client.force_login(zone.concierge)
    assert f'href="{enterprise_list}"' in _breadcrumbs(client.get(enterprise_page))


def _breadcrumbs(response) -> str:
    page = response.content.decode()
    start = page.index('<div class="breadcrumbs">')
    return page[start : page.index("</div>", start)]
