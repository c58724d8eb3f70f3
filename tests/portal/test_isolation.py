"""Another enterprise's case is never shown, changed or confirmed to exist: every portal URL answers 404 for it,
exactly as for a number nobody has, and nothing changes (docs/states-and-roles.md)."""

import pytest

from services.cases import steps as case_services
from services.cases.attachments import add_attachment
from tests.factories import snapshot
from tests.portal.conftest import other_case_at, pdf
from tracker.models import Case, CaseEvent, Feedback, Notification

pytestmark = pytest.mark.django_db
CS = Case.Status
MISSING = "GX-2099-999999"

# Each URL under a case, with what a POST to it would carry if the case were the enterprise's own.
CASE_URLS = [
    ("GET", "", {}),
    ("POST", "info/", {"note": "趁机补充一点"}),
    ("POST", "withdraw/", {"reason": "撤回别人的诉求"}),
    ("POST", "confirm/", {"rating": "1", "comment": "差评"}),
    ("POST", "reopen/", {"reason": "退回别人的诉求"}),
]


def _everything() -> tuple:
    """Counts a stray write anywhere would change."""
    return (
        Case.objects.count(),
        CaseEvent.objects.count(),
        Feedback.objects.count(),
        Notification.objects.filter(read_at__isnull=True).count(),
        tuple(Case.objects.order_by("pk").values_list("status", "version")),
    )


@pytest.fixture
def theirs(zone, private_media):
    """Cases of the other enterprise where each step would be allowed for their owner, one with a file."""
    in_progress = other_case_at(zone, CS.IN_PROGRESS, title="恒远电子的机密诉求")
    resolved = other_case_at(zone, CS.RESOLVED, title="恒远电子的另一诉求")
    case_services.request_case_info(actor=zone.other_concierge, case=in_progress, note="请补充")
    attachment = add_attachment(actor=zone.other_enterprise_user, case=in_progress, upload=pdf("机密.pdf"))
    return in_progress, resolved, attachment


def _request(client, method: str, url: str, data: dict, **extra):
    return client.get(url, **extra) if method == "GET" else client.post(url, data, **extra)


@pytest.mark.parametrize(("method", "suffix", "data"), CASE_URLS, ids=[f"{m} {s or 'page'}" for m, s, _d in CASE_URLS])
def test_every_case_url_answers_404_for_another_enterprises_case(portal, zone, theirs, method, suffix, data):
    in_progress, resolved, _attachment = theirs
    before = [snapshot(case) for case in (in_progress, resolved)], _everything()
    missing = _request(portal, method, f"/portal/cases/{MISSING}/{suffix}", data)
    for case in (in_progress, resolved):
        # When the enterprise user tries the URL with the other enterprise's case number
        response = _request(portal, method, f"/portal/cases/{case.number}/{suffix}", data)
        # Then it is not found, with the same answer as a number that does not exist
        assert response.status_code == missing.status_code == 404
        assert response.content == missing.content
        assert case.title.encode() not in response.content
    # And nothing anywhere changed
    assert ([snapshot(case) for case in (in_progress, resolved)], _everything()) == before


def test_a_post_with_a_file_to_another_enterprises_case_stores_nothing(portal, zone, theirs, private_media):
    in_progress, _resolved, _attachment = theirs
    files_before = sorted(private_media.rglob("*"))
    response = portal.post(f"/portal/cases/{in_progress.number}/info/", {"files": [pdf("夹带.pdf")]})
    assert response.status_code == 404
    assert sorted(private_media.rglob("*")) == files_before
    assert in_progress.attachments.count() == 1


def test_another_enterprises_file_is_a_404(portal, zone, theirs):
    in_progress, _resolved, attachment = theirs
    missing = portal.get(f"/portal/cases/{MISSING}/files/{attachment.pk}/")
    response = portal.get(f"/portal/cases/{in_progress.number}/files/{attachment.pk}/")
    assert response.status_code == missing.status_code == 404 and response.content == missing.content


def test_another_enterprises_cases_are_not_listed_or_counted(portal, zone, theirs):
    in_progress, resolved, _attachment = theirs
    for url in ("/portal/", "/portal/?show=awaiting", "/portal/?show=open", "/portal/notifications/"):
        page = portal.get(url).content.decode()
        assert in_progress.number not in page and resolved.number not in page, url
    home = portal.get("/portal/").content.decode()
    assert 'data-role="awaiting-callout"' not in home  # their resolved case does not wait on us


def test_another_users_notice_cannot_be_opened(portal, zone, theirs):
    notice = Notification.objects.filter(recipient=zone.other_enterprise_user).first()
    assert notice is not None and notice.read_at is None
    missing = portal.post("/portal/notifications/999999/")
    response = portal.post(f"/portal/notifications/{notice.pk}/")
    assert response.status_code == missing.status_code == 404 and response.content == missing.content
    notice.refresh_from_db()
    assert notice.read_at is None
    # And "mark all read" marks only one's own
    portal.post("/portal/notifications/read/")
    notice.refresh_from_db()
    assert notice.read_at is None
