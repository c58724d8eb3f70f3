"""From 1 November, while next year's holiday schedule is neither in the calendar library nor confirmed, the
workbench tells administrators (with the way to enter it) and leaders; nobody else is bothered with it."""

from datetime import date
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from tracker.models import HolidayYear

pytestmark = pytest.mark.django_db

BANNER = "2027 年的节假日安排尚未确认"


def page_on(client, user, today: date) -> str:
    client.force_login(user)
    with mock.patch("tracker.admin_site.timezone.localdate", return_value=today):
        return client.get(reverse("admin:tracker_case_changelist")).content.decode()


def test_an_administrator_is_told_in_december_with_the_way_to_enter_it(client, zone):
    page = page_on(client, zone.admin, date(2026, 12, 3))
    assert BANNER in page
    assert (
        reverse("admin:tracker_holidayyear_add") in page and reverse("admin:tracker_holidayoverride_changelist") in page
    )


def test_a_leader_is_told_without_the_links(client, zone):
    page = page_on(client, zone.leader, date(2026, 11, 1))
    assert BANNER in page and reverse("admin:tracker_holidayyear_add") not in page


def test_a_concierge_is_not_bothered(client, zone):
    assert BANNER not in page_on(client, zone.concierge, date(2026, 12, 3))


def test_before_november_or_once_confirmed_there_is_no_banner(client, zone):
    assert "节假日安排尚未确认" not in page_on(client, zone.admin, date(2026, 10, 31))
    HolidayYear.objects.create(year=2027, completed_by=zone.admin, completed_at=timezone.now())
    assert "节假日安排尚未确认" not in page_on(client, zone.admin, date(2026, 12, 3))


def test_a_year_the_library_knows_needs_no_banner(client, zone):
    assert "节假日安排尚未确认" not in page_on(client, zone.admin, date(2025, 11, 20))  # 2026 is in chinesecalendar
