"""The project's own 403, 404 and 500 pages (as production shows them, DEBUG off): in Chinese, with a way back —
to the workbench for staff, to the portal for enterprises and visitors. The API keeps its JSON errors."""

import pytest
from django.db import connection
from django.template import loader
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import path, reverse

from tracker.urls import urlpatterns as project_urlpatterns

pytestmark = pytest.mark.django_db


def _fails(request):
    raise RuntimeError("a fault nobody foresaw")


# This module is also the URLconf of the 500 tests: the project's addresses plus one that fails.
urlpatterns = [path("fails/", _fails), path("api/v1/fails/", _fails), *project_urlpatterns]
handler500 = "tracker.api.errors.server_error"  # as tracker.urls has it


@pytest.fixture(autouse=True)
def production(settings):
    settings.DEBUG = False


def _text(response) -> str:
    return response.content.decode()


def test_staff_meet_a_chinese_404_leading_back_to_the_workbench(client, zone):
    client.force_login(zone.concierge)
    response = client.get("/admin/tracker/no-such-page/")
    assert response.status_code == 404
    text = _text(response)
    assert "页面不存在" in text and "Not Found" not in text
    assert f'href="{reverse("admin:index")}"' in text and "返回工作台" in text


def test_staff_meet_a_chinese_403_leading_back_to_the_workbench(client, zone):
    # Given a concierge, when they open the administrators' reminder log
    client.force_login(zone.concierge)
    response = client.get(reverse("admin:tracker_reminder_changelist"))
    # Then the page says in Chinese that it is not theirs, and leads back to the workbench
    assert response.status_code == 403
    text = _text(response)
    assert "您没有权限打开这个页面" in text and "403 Forbidden" not in text
    assert f'href="{reverse("admin:index")}"' in text


def test_an_enterprise_meets_a_chinese_404_leading_back_to_its_cases(client, zone):
    # Given an enterprise user, when they open a case number that is not theirs
    client.force_login(zone.enterprise_user)
    response = client.get(reverse("portal:case", args=["GX-2026-999999"]))
    # Then the page says so in Chinese and leads back to their cases in the portal, not to the workbench
    assert response.status_code == 404
    text = _text(response)
    assert "页面不存在或您无权查看" in text
    assert f'href="{reverse("portal:home")}"' in text and "返回我的诉求" in text
    assert f'href="{reverse("admin:index")}"' not in text


def test_a_visitor_meets_a_chinese_404_leading_to_the_portal(client, db):
    response = Client().get("/portal/no-such-page/")
    assert response.status_code == 404
    text = _text(response)
    assert "页面不存在" in text
    assert f'href="{reverse("portal:home")}"' in text and "返回企业服务门户" in text


@pytest.mark.urls("tests.test_error_pages")
@pytest.mark.parametrize("who", ["concierge", "enterprise_user", None])
def test_a_server_error_shows_a_chinese_page_with_both_ways_back(zone, who):
    client = Client(raise_request_exception=False)
    if who:
        client.force_login(getattr(zone, who))
    response = client.get("/fails/")
    assert response.status_code == 500
    text = _text(response)
    assert "抱歉，系统出了点问题" in text and "Server Error" not in text
    assert 'href="/admin/"' in text and 'href="/portal/"' in text


def test_the_500_page_renders_without_a_request_or_the_database():
    # Django renders 500.html with an empty context (the request may be what failed); it must not query either
    with CaptureQueriesContext(connection) as queries:
        text = loader.get_template("500.html").render()
    assert "抱歉，系统出了点问题" in text and not queries.captured_queries


def test_the_api_keeps_its_json_errors(client, zone):
    unknown = client.get("/api/v1/no-such-endpoint/")
    assert unknown.status_code == 404 and unknown["Content-Type"] == "application/json"
    assert unknown.json()["code"] == "not_found"
    anonymous = client.get("/api/v1/cases/")
    assert anonymous.status_code in (401, 403) and anonymous["Content-Type"].startswith("application/json")


@pytest.mark.urls("tests.test_error_pages")
def test_an_api_crash_answers_json_in_the_apis_error_shape(zone):
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/fails/")
    assert response.status_code == 500 and response["Content-Type"] == "application/json"
    assert response.json()["code"] == "server_error"


def test_the_project_routes_crashes_through_its_own_handler():
    from tracker import urls

    assert urls.handler500 == "tracker.api.errors.server_error"
