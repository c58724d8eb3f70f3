"""A body over the limit is refused on its Content-Length before anything reads it: in the API (JSON 413), the
portal and the workbench (the project's 413 page). The requests below announce 200 MB and carry a few bytes: had
anything read the body, Django's test client would fail the read ("Cannot read more than the available bytes")."""

import pytest
from django.urls import reverse

from tracker.models import Case

pytestmark = pytest.mark.django_db

ANNOUNCED = 200 * 2**20
MULTIPART = "multipart/form-data; boundary=BoUnDaRy"
BODY = b'--BoUnDaRy\r\nContent-Disposition: form-data; name="title"\r\n\r\nx\r\n--BoUnDaRy--\r\n'


def post_announcing(client, path: str, length: int = ANNOUNCED):
    return client.generic("POST", path, BODY, content_type=MULTIPART, CONTENT_LENGTH=str(length))


def test_the_portal_refuses_a_huge_upload_before_reading_it(client, zone):
    client.force_login(zone.enterprise_user)
    response = post_announcing(client, reverse("portal:submit"))
    assert response.status_code == 413
    page = response.content.decode()
    assert "提交的内容过大" in page and "200.0 MB" in page and "21.0 MB" in page
    assert not Case.objects.exists()


def test_the_portal_sign_in_page_refuses_it_too(client, zone):
    assert post_announcing(client, reverse("portal:login")).status_code == 413


def test_the_workbench_refuses_a_huge_upload_before_reading_it(client, zone):
    client.force_login(zone.concierge)
    response = post_announcing(client, reverse("admin:tracker_case_add"))
    assert response.status_code == 413 and "提交的内容过大" in response.content.decode()
    assert not Case.objects.exists()


def test_the_api_answers_in_its_own_shape(client, zone):
    client.force_login(zone.enterprise_user)
    response = post_announcing(client, "/api/v1/cases/")
    assert response.status_code == 413 and response.json()["code"] == "too_large"


def test_a_body_within_the_limit_reaches_the_form(client, zone, settings):
    settings.WEB_MAX_BODY_BYTES = len(BODY)
    client.force_login(zone.enterprise_user)
    response = client.generic("POST", reverse("portal:submit"), BODY, content_type=MULTIPART)
    # the form again, with its errors (400): the body reached it
    assert response.status_code == 400 and 'id="submit-form"' in response.content.decode()


def test_the_limit_follows_the_setting(client, zone, settings):
    settings.WEB_MAX_BODY_BYTES = len(BODY) - 1
    client.force_login(zone.enterprise_user)
    response = client.generic("POST", reverse("portal:submit"), BODY, content_type=MULTIPART)
    assert response.status_code == 413
