"""A NUL character anywhere a request can carry one — path, query string, form field — is refused before it
reaches a query: PostgreSQL refuses NUL in text, which would otherwise answer 500. On SQLite the same requests
assert the refusal itself."""

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from tests.factories import case_at
from tracker.models import Case

pytestmark = pytest.mark.django_db

CASE_LIST = "admin:tracker_case_changelist"


@pytest.mark.parametrize("parameter", ["enterprise", "project", "q"])
def test_a_nul_in_a_workbench_filter_is_a_400_page_in_chinese(client, zone, parameter):
    # Given a staff member on the case list
    case_at(zone, Case.Status.IN_PROGRESS)
    client.force_login(zone.leader)

    # When a filter carries a NUL
    response = client.get(reverse(CASE_LIST), {parameter: "\x00"})

    # Then the answer is the project's 400 page naming the parameter
    assert response.status_code == 400
    page = response.content.decode()
    assert "请求无效" in page and "空字符" in page and parameter in page


def test_the_autocomplete_refuses_a_nul_term(client, zone):
    client.force_login(zone.concierge)
    response = client.get(
        reverse("admin:autocomplete"),
        {"term": "\x00", "app_label": "tracker", "model_name": "task", "field_name": "task_force"},
    )
    assert response.status_code == 400


@pytest.mark.parametrize("path", ["/portal/cases/%00/", "/portal/cases/%00/info/", "/admin/tracker/case/%00/change/"])
def test_a_nul_in_a_path_is_not_found(client, zone, path):
    client.force_login(zone.enterprise_user)
    response = client.get(path)
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_a_nul_in_a_portal_form_field_is_refused_and_nothing_is_written(client, zone):
    # Given an enterprise user submitting a case through the portal
    client.force_login(zone.enterprise_user)

    # When a form field carries a NUL
    response = client.post(
        reverse("portal:submit"), {"category": "land\x00", "title": "道路积水", "description": "积水"}
    )

    # Then it is refused and no case exists
    assert response.status_code == 400
    assert not Case.objects.exists()


def test_without_the_middleware_the_case_list_filters_still_survive_a_nul(client, zone, settings):
    # Given the filters on their own (the middleware is the outer wall; the filters drop NUL themselves)
    settings.MIDDLEWARE = [name for name in django_settings.MIDDLEWARE if "RefuseNul" not in name]
    case_at(zone, Case.Status.IN_PROGRESS)
    client.force_login(zone.leader)

    # When the enterprise and project filters carry a NUL, then the list answers (PostgreSQL would refuse a NUL)
    assert client.get(reverse(CASE_LIST), {"enterprise": "\x00", "project": "1\x00"}).status_code == 200
    assert client.get(reverse(CASE_LIST), {"enterprise": "x\x00y"}).status_code == 200


def test_ordinary_requests_pass(client, zone):
    client.force_login(zone.leader)
    assert client.get(reverse(CASE_LIST), {"enterprise": "企业"}).status_code == 200
