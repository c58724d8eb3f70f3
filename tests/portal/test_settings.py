"""The portal's 提醒方式 page: the enterprise user switches email reminders on or off."""

import pytest

from tracker.models import User

pytestmark = pytest.mark.django_db


def test_the_user_switches_email_reminders_off_and_on(portal, zone):
    # Given a user who gets email reminders
    assert User.objects.get(pk=zone.enterprise_user.pk).notify_by_email
    page = portal.get("/portal/settings/")
    assert page.status_code == 200 and "邮件提醒" in page.content.decode()
    # When they switch email off, it is saved for them and only them
    response = portal.post("/portal/settings/", {})
    assert response.status_code == 302 and response["Location"] == "/portal/settings/"
    assert not User.objects.get(pk=zone.enterprise_user.pk).notify_by_email
    assert User.objects.get(pk=zone.other_enterprise_user.pk).notify_by_email
    # And on again
    portal.post("/portal/settings/", {"notify_by_email": "on"})
    assert User.objects.get(pk=zone.enterprise_user.pk).notify_by_email


def test_the_settings_page_is_for_enterprise_users(client, zone):
    assert client.get("/portal/settings/").status_code == 302  # to the login page
    client.force_login(zone.concierge)
    assert client.get("/portal/settings/").status_code == 403
