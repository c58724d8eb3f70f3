"""Forms carry a CSRF token and a POST without one is refused; the portal renders in English on request."""

import re

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import case_at
from tests.portal.conftest import PASSWORD, html
from tracker.models import Case

pytestmark = pytest.mark.django_db
CS = Case.Status


@pytest.fixture
def strict(zone):
    """A browser that, like a real one, is held to the CSRF check."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(zone.enterprise_user)
    return client


def _token(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def test_a_post_without_the_token_is_refused(strict, zone):
    # Given an open case, and a page of another site that posts to the portal without the token
    case = case_at(zone, CS.IN_PROGRESS)
    response = strict.post(f"/portal/cases/{case.number}/withdraw/", {"reason": "跨站伪造"})
    # Then the POST is refused and the case is untouched
    assert response.status_code == 403
    assert Case.objects.get(pk=case.pk).status == CS.IN_PROGRESS


def test_the_same_post_with_the_pages_token_goes_through(strict, zone):
    case = case_at(zone, CS.IN_PROGRESS)
    token = _token(html(strict.get(f"/portal/cases/{case.number}/")))
    response = strict.post(f"/portal/cases/{case.number}/withdraw/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).status == CS.WITHDRAWN


def test_a_login_without_the_token_is_refused(zone):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/portal/login/", {"username": "ent_user", "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_submit_without_the_token_creates_nothing(strict, zone):
    response = strict.post(
        "/portal/cases/new/",
        {"category": zone.category.pk, "title": "伪造", "description": "伪造", "urgency": "normal"},
    )
    assert response.status_code == 403 and Case.objects.count() == 0


@pytest.mark.parametrize("how", ["header", "cookie"])
def test_pages_render_in_english_on_request(portal, zone, how):
    # Given an English-speaking user (by the browser's language, or the language switch's cookie)
    case = case_at(zone, CS.RESOLVED)
    if how == "cookie":
        portal.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        extra = {}
    else:
        extra = {"HTTP_ACCEPT_LANGUAGE": "en"}
    # Then every page renders, marked as English
    for url in ("/portal/", "/portal/cases/new/", f"/portal/cases/{case.number}/", "/portal/notifications/"):
        response = portal.get(url, **extra)
        assert response.status_code == 200, url
        assert '<html lang="en">' in html(response), url
    # And the login page too, for a visitor not yet signed in
    visitor = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="en">' in html(visitor.get("/portal/login/"))


def test_pages_are_in_chinese_by_default(portal, zone):
    assert '<html lang="zh-hans">' in html(portal.get("/portal/"))
