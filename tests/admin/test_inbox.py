"""The workbench inbox: a staff member's notices, opened and read, and the channels they choose."""

import pytest
from django.urls import reverse

from services.cases import steps as case_services
from tests.factories import case_at
from tracker.models import Case, Notification, User

pytestmark = pytest.mark.django_db


def test_a_new_case_reaches_the_concierges_inbox_and_opening_it_reads_it(client, zone):
    # Given an enterprise's new case
    case = case_services.submit_case(
        actor=zone.enterprise_user,
        enterprise=zone.enterprise,
        category=zone.category,
        title="用电增容",
        description="…",
    )
    client.force_login(zone.concierge)
    # Then the concierge's header counts one unread notice and the inbox lists it
    page = client.get(reverse("admin:inbox")).content.decode()
    assert 'class="unread-count">1<' in page and case.number in page and "新诉求待受理" in page
    # When they open it, they land on the case and it is read
    notice = Notification.objects.get(recipient=zone.concierge)
    response = client.post(reverse("admin:open_notice", args=[notice.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("admin:tracker_case_change", args=[case.pk])
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_another_persons_notice_cannot_be_opened(client, zone):
    case_at(zone, Case.Status.SUBMITTED)
    notice = Notification.objects.get(recipient=zone.concierge)
    client.force_login(zone.other_concierge)
    client.post(reverse("admin:open_notice", args=[notice.pk]))
    notice.refresh_from_db()
    assert notice.read_at is None
    assert client.get(reverse("admin:open_notice", args=[notice.pk])).status_code == 405


def test_staff_choose_their_channels(client, zone):
    client.force_login(zone.officer)
    response = client.post(reverse("admin:inbox"), {"notify_by_wecom": "on"})
    assert response.status_code == 302
    officer = User.objects.get(pk=zone.officer.pk)
    assert (officer.notify_by_email, officer.notify_by_wecom) == (False, True)


def test_only_administrators_see_the_reminder_log_and_push_log(client, zone):
    for name in ("admin:tracker_reminder_changelist", "admin:tracker_pushdelivery_changelist"):
        client.force_login(zone.admin)
        assert client.get(reverse(name)).status_code == 200
        client.force_login(zone.leader)
        assert client.get(reverse(name)).status_code == 403
