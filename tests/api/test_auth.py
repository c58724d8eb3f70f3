"""Tokens (hashed, revocable, expiring), the command that issues them, session auth with CSRF, throttling."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from services import api_tokens
from services.errors import InvalidInput, NotPermitted
from tests.factories import client_for
from tracker.models import ApiToken

pytestmark = pytest.mark.django_db


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_token_is_stored_hashed_and_works_until_revoked(zone):
    token, key = api_tokens.create_token(actor=zone.admin, user=zone.integration, name="12345 热线")
    assert key.startswith("gx_") and key not in token.key_hash and token.prefix == key[:10]
    assert not ApiToken.objects.filter(key_hash=key).exists()
    assert _client(key).get("/api/v1/cases/").status_code == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None

    api_tokens.revoke_token(actor=zone.admin, token=token)
    response = _client(key).get("/api/v1/cases/")
    assert response.status_code == 401 and response.json()["code"] == "authentication_failed"
    assert response["WWW-Authenticate"].startswith("Token")


def test_an_expired_token_is_refused(zone):
    token, key = api_tokens.create_token(
        actor=None, user=zone.integration, name="x", expires_at=timezone.now() + timedelta(hours=1)
    )
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _client(key).get("/api/v1/cases/").status_code == 401


def test_a_token_of_a_deactivated_user_is_refused(zone):
    _, key = api_tokens.create_token(actor=None, user=zone.integration, name="x")
    zone.integration.is_active = False
    zone.integration.save()
    assert _client(key).get("/api/v1/cases/").status_code == 401


@pytest.mark.parametrize("header", ["Token", "Token a b", "Token nope", "Token \u4e2d\u6587"])
def test_malformed_or_unknown_tokens_are_401(zone, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/cases/")
    assert response.status_code == 401 and {"code", "message", "fields"} <= set(response.json())


def test_only_administrators_issue_tokens(zone):
    with pytest.raises(NotPermitted):
        api_tokens.create_token(actor=zone.leader, user=zone.leader, name="mine")
    with pytest.raises(InvalidInput) as refused:
        api_tokens.create_token(actor=zone.admin, user=zone.integration, name=" ")
    assert list(refused.value.fields) == ["name"]


def test_the_command_prints_the_key_once(zone):
    out, err = StringIO(), StringIO()
    call_command(
        "create_api_token", zone.integration.username, "--name", "hotline", "--days", "30", stdout=out, stderr=err
    )
    key = out.getvalue().strip()
    assert _client(key).get("/api/v1/categories/").status_code == 200
    token = ApiToken.objects.get(user=zone.integration)
    assert token.name == "hotline" and token.expires_at > timezone.now() + timedelta(days=29)
    with pytest.raises(CommandError):
        call_command("create_api_token", "nobody", stdout=StringIO(), stderr=StringIO())


def test_session_auth_works_and_writes_need_csrf(zone):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(zone.enterprise_user)
    assert client.get("/api/v1/cases/").status_code == 200
    response = client.post("/api/v1/cases/", {"category": "land", "title": "t", "description": "d"}, format="json")
    assert response.status_code == 403 and "CSRF" in response.json()["message"]


def test_requests_over_the_rate_are_429_with_retry_after(zone, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"token": "3/min", "anon": "3/min"}}
    from django.core.cache import cache

    cache.clear()
    client = client_for(zone.integration)
    statuses = [client.get("/api/v1/categories/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/categories/")
    assert response.json()["code"] == "throttled" and int(response["Retry-After"]) > 0
    # Another token of the same user has its own budget
    assert client_for(zone.integration).get("/api/v1/categories/").status_code == 200
    cache.clear()


def test_the_schema_and_docs_are_served(zone, client):
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/api/v1/cases/", "/api/v1/cases/{id}/confirm/", "/api/v1/tasks/{id}/extend/", "/api/v1/stats/"):
        assert path in paths
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


def test_an_unknown_api_address_is_a_json_404(zone, api):
    response = api(zone.leader).get("/api/v1/nothing-here/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
