"""The workbench does not offer 办结答复 while a task of the case is open: the button is shown disabled with why, and
the step's own address says why before the answer is typed; once the tasks are done the button is back."""

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.factories import case_at, run_task_action
from tracker.models import Case

pytestmark = pytest.mark.django_db
CS = Case.Status


def _page(client, case) -> str:
    response = client.get(reverse("admin:tracker_case_change", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _buttons(page: str) -> set[str]:
    return set(re.findall(r'data-action="([a-z_]+)"', page))


def _resolve_url(case) -> str:
    return reverse("admin:tracker_case_action", args=[case.pk, "resolve"])


def test_the_case_page_holds_back_resolve_while_a_task_is_open_and_says_why(client, zone):
    # Given an in-progress case whose one task is still open
    case = case_at(zone, CS.IN_PROGRESS)
    client.force_login(zone.concierge)
    # When the concierge opens the case page
    page = _page(client, case)
    # Then there is no 办结答复 button to press, but a disabled one saying how many tasks are open and which
    assert "resolve" not in _buttons(page)
    assert _resolve_url(case) not in page
    assert 'data-held-back="resolve"' in page and 'data-code="tasks_open"' in page
    assert "还有1个事项未办结（协调规划许可），不能办结答复" in page
    # And the other steps of an in-progress case are still offered
    assert {"add_info", "request_info"} <= _buttons(page)


def test_opening_the_resolve_form_by_its_address_says_why_first(client, zone):
    case = case_at(zone, CS.IN_PROGRESS)
    client.force_login(zone.concierge)
    response = client.get(_resolve_url(case))
    assert response.status_code == 200
    assert any("未办结" in str(message) for message in get_messages(response.wsgi_request))


def test_resolve_is_offered_again_once_the_task_is_done(client, zone):
    case = case_at(zone, CS.IN_PROGRESS)
    task = case.tasks.get()
    run_task_action(zone, "start", task)
    run_task_action(zone, "complete", task)
    client.force_login(zone.concierge)
    page = _page(client, case)
    assert "resolve" in _buttons(page) and "data-held-back" not in page


def test_a_unit_that_could_never_resolve_sees_no_hint(client, zone):
    # The task force member works the task but does not answer the enterprise: nothing is held back from them
    case = case_at(zone, CS.IN_PROGRESS)
    client.force_login(zone.member)
    assert "data-held-back" not in _page(client, case)


def test_a_refusal_still_shows_its_message(client, zone):
    # A resolve posted from a page opened before the task was reopened, say, is refused with the service's message
    case = case_at(zone, CS.IN_PROGRESS)
    client.force_login(zone.concierge)
    response = client.post(_resolve_url(case), {"version": case.version, "answer": "已协调解决"})
    assert response.status_code == 200
    assert any("还有1个事项未办结" in str(message) for message in get_messages(response.wsgi_request))
    assert Case.objects.get(pk=case.pk).status == CS.IN_PROGRESS
