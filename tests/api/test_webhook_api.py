"""/api/v1/webhooks/: administrators manage every subscription, an integration account its own, nobody else any;
each answer carries the signing secret, and a subscription's deliveries can be read back."""

import re

import pytest

from services.cases import steps as case_services
from tracker.models import WebhookDelivery, WebhookSubscription

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/"
HOOK = "https://hooks.example.com/gx"


def create(client, **changes):
    body = {"name": "企业服务平台", "url": HOOK, "event_types": ["case.submitted", "case.status_changed"], **changes}
    return client.post(URL, body, format="json")


def named(fields: dict) -> set[str]:
    """The fields an error names, without list positions: {"event_types[0]": ...} names event_types."""
    return {re.split(r"[.\[]", name)[0] for name in fields}


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [s["id"] for s in response.json()["results"]]


def test_an_administrator_creates_lists_changes_and_deletes_a_subscription(zone, api):
    admin = api(zone.admin)

    # When an administrator subscribes an address
    response = create(admin)

    # Then it is created, and the answer carries the secret to verify signatures with
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["event_types"] == ["case.status_changed", "case.submitted"]
    assert created["is_active"] is True and created["owner"]["id"] == zone.admin.pk
    assert len(created["secret"]) >= 32
    assert created["secret"] == WebhookSubscription.objects.get(pk=created["id"]).secret
    assert "rotate_secret" not in created
    url = f"{URL}{created['id']}/"

    # And it is listed and can be read back
    assert ids(admin.get(URL)) == [created["id"]]
    assert admin.get(url).json()["url"] == HOOK

    # When it is changed without rotating, the secret stays; with rotate_secret a new one is issued
    response = admin.patch(url, {"name": "新平台", "is_active": False}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["name"], response.json()["is_active"], response.json()["secret"]) == (
        "新平台",
        False,
        created["secret"],
    )
    response = admin.patch(url, {"rotate_secret": True}, format="json")
    assert response.status_code == 200, response.json()
    rotated = response.json()["secret"]
    assert rotated != created["secret"] and len(rotated) >= 32
    assert WebhookSubscription.objects.get(pk=created["id"]).secret == rotated
    assert response.json()["name"] == "新平台"

    # When it is deleted, it is gone
    assert admin.delete(url).status_code == 204
    assert ids(admin.get(URL)) == []
    assert admin.get(url).status_code == 404
    assert not WebhookSubscription.objects.exists()


def test_an_integration_account_manages_only_its_own_subscriptions(zone, api):
    # Given a subscription an administrator made
    admins = create(api(zone.admin), name="管理员的订阅").json()
    integration = api(zone.integration)

    # When the integration account subscribes
    response = create(integration, name="12345热线", event_types=["case.status_changed"])

    # Then the subscription is its own, and it sees only that one
    assert response.status_code == 201, response.json()
    own = response.json()
    assert own["owner"]["id"] == zone.integration.pk and own["secret"]
    assert ids(integration.get(URL)) == [own["id"]]
    assert integration.patch(f"{URL}{own['id']}/", {"rotate_secret": True}, format="json").status_code == 200

    # And the administrator's subscription is as if it did not exist: not read, changed, deleted or its log read
    other = f"{URL}{admins['id']}/"
    for response in (
        integration.get(other),
        integration.patch(other, {"url": "https://attacker.example.com/"}, format="json"),
        integration.delete(other),
        integration.get(f"{other}deliveries/"),
    ):
        assert response.status_code == 404, response.json()
        assert response.json()["code"] == "not_found"
    assert WebhookSubscription.objects.get(pk=admins["id"]).url == HOOK

    # While the administrator sees both
    assert sorted(ids(api(zone.admin).get(URL))) == sorted([admins["id"], own["id"]])
    assert integration.delete(f"{URL}{own['id']}/").status_code == 204


@pytest.mark.parametrize("person", ["concierge", "enterprise_user", "leader"])
def test_other_people_may_not_subscribe_and_see_no_subscriptions(zone, api, person):
    # Given a subscription an administrator made
    existing = create(api(zone.admin)).json()
    client = api(getattr(zone, person))

    # When someone else tries to subscribe, then they are refused and nothing is created
    response = create(client)
    assert response.status_code == 403, response.json()
    assert response.json()["code"] == "not_permitted"
    assert WebhookSubscription.objects.count() == 1

    # And they see no subscription, nor the existing one's secret
    assert ids(client.get(URL)) == []
    assert client.get(f"{URL}{existing['id']}/").status_code == 404
    assert client.patch(f"{URL}{existing['id']}/", {"rotate_secret": True}, format="json").status_code == 403
    assert WebhookSubscription.objects.get().secret == existing["secret"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"url": "not an address"}, "url"),
        ({"url": "ftp://files.example.com/hook"}, "url"),
        ({"url": ""}, "url"),
        ({"event_types": ["case.deleted"]}, "event_types"),
        ({"event_types": []}, "event_types"),
        ({"name": ""}, "name"),
    ],
    ids=["not-a-url", "not-http", "no-url", "unknown-event", "no-event", "no-name"],
)
def test_bad_input_is_refused_naming_the_field(zone, api, changes, field):
    # When an administrator subscribes with a bad field
    response = create(api(zone.admin), **changes)

    # Then the answer is 400 "invalid" naming that field, and nothing is created
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == "invalid"
    assert named(body["fields"]) == {field}, body
    assert not WebhookSubscription.objects.exists()


def test_a_change_with_bad_input_is_refused_and_changes_nothing(zone, api):
    # Given a subscription
    admin = api(zone.admin)
    created = create(admin).json()
    url = f"{URL}{created['id']}/"

    # When it is changed to a bad address, or to an unknown event type
    bad_url = admin.patch(url, {"url": "javascript:alert(1)"}, format="json")
    bad_type = admin.patch(url, {"event_types": ["case.submitted", "case.exploded"]}, format="json")

    # Then each is refused naming the field, and the subscription is as it was
    assert (bad_url.status_code, bad_url.json()["code"], list(bad_url.json()["fields"])) == (400, "invalid", ["url"])
    assert (bad_type.status_code, bad_type.json()["code"]) == (400, "invalid")
    assert named(bad_type.json()["fields"]) == {"event_types"}
    subscription = WebhookSubscription.objects.get()
    assert (subscription.url, subscription.event_types) == (HOOK, ["case.status_changed", "case.submitted"])


def test_a_subscription_lists_its_deliveries_newest_first(zone, api, django_assert_max_num_queries):
    # Given a subscription to case.submitted, and two cases submitted (their deliveries wait in the outbox)
    admin = api(zone.admin)
    created = create(admin, event_types=["case.submitted"]).json()
    other = create(admin, event_types=["task.overdue"]).json()
    cases = [
        case_services.submit_case(
            actor=zone.enterprise_user,
            enterprise=zone.enterprise,
            category=zone.category,
            title=title,
            description="企业新厂房扩建，规划许可尚未批复。",
        )
        for title in ("第一件诉求", "第二件诉求")
    ]

    # When the administrator reads its deliveries
    with django_assert_max_num_queries(8):
        response = admin.get(f"{URL}{created['id']}/deliveries/")

    # Then both are listed, newest first, with what was (or will be) sent
    assert response.status_code == 200, response.json()
    deliveries = response.json()["results"]
    assert [d["payload"]["data"]["case"]["id"] for d in deliveries] == [c.pk for c in reversed(cases)]
    first = deliveries[0]
    stored = WebhookDelivery.objects.get(delivery_id=first["delivery_id"])
    assert (first["event_type"], first["status"], first["attempts"]) == ("case.submitted", "pending", 0)
    assert first["payload"]["id"] == first["delivery_id"] == str(stored.delivery_id)
    assert first["payload"]["type"] == "case.submitted"
    # And a subscription to something else has none
    assert admin.get(f"{URL}{other['id']}/deliveries/").json()["results"] == []
