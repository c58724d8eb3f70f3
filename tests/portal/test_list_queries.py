"""Portal lists cost the same number of SQL queries at 5 rows as at 30 (docs/architecture.md): no query per row."""

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from services.cases import steps as case_services
from services.cases.attachments import add_attachment
from tests.factories import case_at
from tests.portal.conftest import pdf
from tracker.models import Case, Notification

pytestmark = pytest.mark.django_db
CS = Case.Status
MAX_QUERIES = 15  # session, user, the counts, the page, the concierge, the unread badge …


def _grow_cases(zone, total: int) -> None:
    """Cases at every stage the home page words differently, up to `total`."""
    statuses = itertools.cycle([CS.SUBMITTED, CS.IN_PROGRESS, CS.RESOLVED, CS.CLOSED, CS.ACCEPTED])
    for i in range(Case.objects.count(), total):
        case_at(zone, next(statuses), title=f"诉求{i}")


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("url", ["/portal/", "/portal/?show=open", "/portal/?show=awaiting", "/portal/?page=2"])
def test_the_case_list_costs_the_same_at_5_and_30_cases(portal, zone, url, django_assert_num_queries):
    # Given 5 cases at varied stages
    _grow_cases(zone, 5)
    portal.get(url)  # warm: the session's first read
    small = _count(portal, url)
    assert small <= MAX_QUERIES
    # When they grow to 30, then the same page costs exactly the same
    _grow_cases(zone, 30)
    with django_assert_num_queries(small):
        response = portal.get(url)
    assert response.context["rows"]


def test_the_inbox_costs_the_same_at_5_and_30_notices(portal, zone, django_assert_num_queries):
    # Each in-progress case brings two notices (accepted, dispatched)
    for _ in range(3):
        case_at(zone, CS.IN_PROGRESS)
    portal.get("/portal/notifications/")
    small = _count(portal, "/portal/notifications/")
    for _ in range(13):
        case_at(zone, CS.IN_PROGRESS)
    assert Notification.objects.filter(recipient=zone.enterprise_user).count() == 32
    with django_assert_num_queries(small):
        portal.get("/portal/notifications/")


def test_the_case_page_costs_the_same_at_5_and_30_events_and_files(
    portal, zone, private_media, settings, django_assert_num_queries
):
    settings.ATTACHMENT_MAX_PER_CASE = 30
    # Given a case with a few notes and files from the enterprise and the concierge
    case = case_at(zone, CS.IN_PROGRESS)
    authors = itertools.cycle([zone.enterprise_user, zone.concierge])

    def grow(n: int) -> None:
        for i in range(case.attachments.count(), n):
            case_services.add_case_info(actor=next(authors), case=case, note=f"补充说明{i}")
            add_attachment(actor=next(authors), case=case, upload=pdf(f"材料{i}.pdf"))

    url = f"/portal/cases/{case.number}/"
    grow(5)
    portal.get(url)
    small = _count(portal, url)
    assert small <= MAX_QUERIES + 5
    # When the timeline and the files grow six-fold, the page costs the same
    grow(30)
    with django_assert_num_queries(small):
        response = portal.get(url)
    assert len(response.context["timeline"]) > 60
