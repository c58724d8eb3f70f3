"""Webhook and WeCom robot addresses never reach inside the network (services/delivery/egress.py): refused when saved,
and again when used, after resolving the name — so a name that later points inside (DNS rebinding) is refused too.
"""

import ipaddress
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.urls import reverse
from rest_framework.test import APIClient

from services.cases import steps as case_services
from services.delivery import egress, webhooks
from services.errors import InvalidInput
from tracker.models import WebhookAttempt, WebhookDelivery

pytestmark = pytest.mark.django_db

INSIDE = [
    "http://169.254.169.254/latest/meta-data/",  # the cloud metadata service
    "http://127.0.0.1:6379/",
    "http://localhost:8000/hook",
    "http://LOCALHOST./hook",
    "http://api.localhost/hook",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",  # carrier-grade NAT
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://[::1]/",
    "http://[fe80::1]/",
    "http://[fd00::1]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped
    "http://[2002:7f00:1::]/",  # 6to4 around 127.0.0.1
    "http://2130706433/",  # 127.0.0.1 as one number
    "http://0x7f.1/",
    "http://127.1/",
]


@pytest.mark.parametrize("url", INSIDE)
def test_an_address_inside_the_network_is_refused_when_saved(zone, url):
    with pytest.raises(InvalidInput) as refused:
        webhooks.create_subscription(actor=zone.admin, name="内网", url=url, event_types=["case.submitted"])
    assert list(refused.value.fields) == ["url"]


@pytest.mark.parametrize("url", INSIDE)
def test_the_check_itself_refuses_each_inside_address(url):
    assert "内网" in egress.url_error(url)


def test_credentials_in_the_address_are_refused(zone):
    with pytest.raises(InvalidInput) as refused:
        webhooks.create_subscription(
            actor=zone.admin, name="x", url="https://erp:secret@hooks.example.com/gx", event_types=["case.submitted"]
        )
    assert "用户名或密码" in refused.value.fields["url"][0]


def test_a_public_address_and_a_name_not_resolvable_today_are_accepted(zone, monkeypatch):
    monkeypatch.setattr(egress, "resolve", fake_resolver({"hooks.example.com": ["93.184.215.14"]}))
    for url in ("https://hooks.example.com/gx", "http://93.184.215.14:8080/in", "https://not-yet.example.net/x"):
        assert egress.url_error(url) is None, url


def test_a_name_resolving_inside_is_refused_when_saved(zone, monkeypatch):
    monkeypatch.setattr(egress, "resolve", fake_resolver({"intranet.example.com": ["93.184.215.14", "10.1.2.3"]}))
    with pytest.raises(InvalidInput):
        webhooks.create_subscription(
            actor=zone.admin, name="x", url="https://intranet.example.com/", event_types=["case.submitted"]
        )


def test_updating_to_an_inside_address_is_refused_and_changes_nothing(zone):
    subscription = webhooks.create_subscription(
        actor=zone.admin, name="ERP", url="https://hooks.example.com/gx", event_types=["case.submitted"]
    )
    with pytest.raises(InvalidInput):
        webhooks.update_subscription(actor=zone.admin, subscription=subscription, url="http://127.0.0.1:6379/")
    subscription.refresh_from_db()
    assert subscription.url == "https://hooks.example.com/gx"


def test_the_api_names_the_field(zone):
    client = APIClient()
    client.force_authenticate(zone.admin)
    response = client.post(
        "/api/v1/webhooks/",
        {"name": "x", "url": "http://169.254.169.254/", "event_types": ["case.submitted"]},
        format="json",
    )
    assert response.status_code == 400 and "url" in response.json()["fields"]


def test_the_department_robot_address_is_checked_in_the_workbench(zone, client):
    client.force_login(zone.admin)
    department = zone.department
    url = reverse("admin:tracker_department_change", args=[department.pk])
    form = {
        "name": department.name,
        "code": department.code,
        "kind": department.kind,
        "phone": "",
        "wecom_webhook_url": "http://10.0.0.8/cgi-bin/webhook/send?key=x",
        "is_active": "on",
        "sort_order": "0",
    }
    page = client.post(url, form)
    assert page.status_code == 200 and "内网" in page.content.decode()
    department.refresh_from_db()
    assert department.wecom_webhook_url == ""


# At delivery ---------------------------------------------------------------------------------------------------


class Receiver:
    """An HTTP server on 127.0.0.1 counting what reaches it."""

    def __init__(self):
        self.hits = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                hits.append(self.path)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.stop()


def fake_resolver(names: dict[str, list[str]]):
    def resolve(host, port):
        if host in names:
            return [ipaddress.ip_address(a) for a in names[host]]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    return resolve


def test_a_name_that_points_inside_later_is_refused_at_delivery(zone, receiver, monkeypatch):
    """Saved while the name resolved to a public address; by delivery it resolves to 127.0.0.1, where a
    receiver listens: nothing reaches it, and the attempt says why."""
    names = {"rebind.example.com": ["93.184.215.14"]}
    monkeypatch.setattr(egress, "resolve", fake_resolver(names))
    subscription = webhooks.create_subscription(
        actor=zone.admin,
        name="ERP",
        url=f"http://rebind.example.com:{receiver.port}/in",
        event_types=["case.submitted"],
    )
    names["rebind.example.com"] = ["127.0.0.1"]
    case_services.submit_case(
        actor=zone.enterprise_user, enterprise=zone.enterprise, category=zone.category, title="扩建", description="扩建"
    )
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    result = webhooks.deliver(delivery.pk)
    assert result.sent and not result.delivered
    assert receiver.hits == []
    assert "内网" in WebhookAttempt.objects.get(delivery=delivery).error


def test_a_name_that_changes_between_check_and_connection_is_refused(receiver, monkeypatch):
    """DNS rebinding: the name answers a public address to the first look and 127.0.0.1 to the next. The
    connection is made only to an address that was checked, so the receiver on 127.0.0.1 is never reached."""
    answers = iter([["93.184.215.14"]] + [["127.0.0.1"]] * 10)
    monkeypatch.setattr(egress, "resolve", lambda host, port: [ipaddress.ip_address(a) for a in next(answers)])
    with pytest.raises(requests.exceptions.ConnectionError, match=r"127\.0\.0\.1"):
        egress.post(f"http://rebind.example.com:{receiver.port}/in", data=b"{}", timeout=2)
    assert receiver.hits == []


def test_the_setting_lets_tests_reach_a_local_receiver(zone, receiver, settings):
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = True
    response = egress.post(f"http://127.0.0.1:{receiver.port}/in", data=b"{}", timeout=2)
    assert response.status_code == 200 and receiver.hits == ["/in"]


def test_without_the_setting_a_local_receiver_is_never_reached(receiver):
    with pytest.raises(requests.exceptions.InvalidURL):
        egress.post(f"http://127.0.0.1:{receiver.port}/in", data=b"{}", timeout=2)
    with pytest.raises(requests.exceptions.InvalidURL):
        egress.post(f"http://localhost:{receiver.port}/in", data=b"{}", timeout=2)
    assert receiver.hits == []


def test_deploy_check_fails_when_private_addresses_are_allowed(settings):
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = True
    with pytest.raises(SystemCheckError, match=r"tracker\.E001"):
        call_command("check", "--deploy", "--tag", "security", "--fail-level", "ERROR")
