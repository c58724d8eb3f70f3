"""API tokens, webhook subscriptions and deliveries in the admin: administrators only, through the services."""

import pytest
from django.urls import reverse

from services.delivery import webhooks
from tracker.models import ApiToken, WebhookDelivery, WebhookSubscription

pytestmark = pytest.mark.django_db


def test_an_administrator_issues_a_token_and_sees_its_key_once(zone, client):
    client.force_login(zone.admin)
    url = reverse("admin:tracker_apitoken_add")
    assert client.get(url).status_code == 200
    response = client.post(url, {"user": zone.integration.pk, "name": "12345 热线"})
    assert response.status_code == 200
    token = ApiToken.objects.get()
    key = response.context["key"]
    assert key.startswith(token.prefix) and key in response.content.decode()
    # The list shows the prefix, never the key
    listing = client.get(reverse("admin:tracker_apitoken_changelist")).content.decode()
    assert token.prefix in listing and key not in listing


def test_a_token_form_with_a_blank_name_is_refused_in_place(zone, client):
    client.force_login(zone.admin)
    response = client.post(reverse("admin:tracker_apitoken_add"), {"user": zone.integration.pk, "name": " "})
    assert response.status_code == 200 and response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_tokens_are_revoked_from_the_list(zone, client):
    from services import api_tokens

    token, _ = api_tokens.create_token(actor=None, user=zone.integration, name="x")
    client.force_login(zone.admin)
    client.post(reverse("admin:tracker_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]})
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


@pytest.mark.parametrize("person", ["leader", "concierge", "integration"])
def test_integration_pages_are_for_administrators_only(zone, client, person):
    client.force_login(getattr(zone, person))
    for name in ("apitoken", "webhooksubscription", "webhookdelivery"):
        assert client.get(reverse(f"admin:tracker_{name}_changelist")).status_code in (302, 403)


def test_an_administrator_subscribes_a_receiver_through_the_service(zone, client):
    client.force_login(zone.admin)
    response = client.post(
        reverse("admin:tracker_webhooksubscription_add"),
        {"name": "一网通办", "url": "https://example.org/hook", "event_types": ["case.submitted"], "is_active": "on"},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    subscription = WebhookSubscription.objects.get()
    assert subscription.owner == zone.admin and len(subscription.secret) > 30
    old_secret = subscription.secret
    response = client.post(
        reverse("admin:tracker_webhooksubscription_change", args=[subscription.pk]),
        {
            "name": "一网通办",
            "url": "https://example.org/hook2",
            "event_types": ["case.submitted", "task.overdue"],
            "is_active": "on",
            "rotate_secret": "on",
        },
    )
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.url.endswith("hook2") and subscription.secret != old_secret


def test_a_bad_address_is_refused_on_the_field(zone, client):
    client.force_login(zone.admin)
    response = client.post(
        reverse("admin:tracker_webhooksubscription_add"),
        {"name": "x", "url": "ftp://example.org", "event_types": ["case.submitted"]},
    )
    assert response.status_code == 200
    assert "url" in response.context["adminform"].form.errors
    assert not WebhookSubscription.objects.exists()


def test_the_delivery_log_shows_payload_and_attempts(zone, client):
    subscription = webhooks.create_subscription(
        actor=zone.admin, name="x", url="https://erp.example.com/hooks", event_types=["case.submitted"]
    )
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event_type="case.submitted", dedupe_key="k", payload={"id": "1", "data": {}}
    )
    client.force_login(zone.admin)
    assert client.get(reverse("admin:tracker_webhookdelivery_changelist")).status_code == 200
    page = client.get(reverse("admin:tracker_webhookdelivery_change", args=[delivery.pk]))
    assert page.status_code == 200 and "case.submitted" in page.content.decode()
