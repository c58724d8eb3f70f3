"""Files are streamed only after the case is checked; anything else is a 404 like a number that does not exist."""

import pytest

from services.cases.attachments import add_attachment
from tests.factories import case_at
from tests.portal.conftest import PDF_BYTES, other_case_at, pdf
from tracker.models import Case

pytestmark = pytest.mark.django_db
CS = Case.Status


@pytest.fixture
def own_file(zone, private_media):
    case = case_at(zone, CS.IN_PROGRESS)
    return add_attachment(actor=zone.enterprise_user, case=case, upload=pdf("厂房图纸.pdf"))


@pytest.fixture
def their_file(zone, private_media):
    case = other_case_at(zone, CS.IN_PROGRESS)
    return add_attachment(actor=zone.other_enterprise_user, case=case, upload=pdf("机密合同.pdf", PDF_BYTES + b"%x"))


def _url(number: str, pk: int) -> str:
    return f"/portal/cases/{number}/files/{pk}/"


def test_an_own_file_downloads_as_an_attachment(portal, own_file):
    response = portal.get(_url(own_file.case.number, own_file.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=utf-8''%E5%8E%82" in disposition
    assert b"".join(response.streaming_content) == PDF_BYTES


def test_a_file_uploaded_by_the_concierge_downloads_too(portal, zone, own_file):
    staff_file = add_attachment(actor=zone.concierge, case=own_file.case, upload=pdf("批复.pdf"))
    assert portal.get(_url(own_file.case.number, staff_file.pk)).status_code == 200


def test_another_enterprises_file_is_not_found_like_a_missing_one(portal, zone, own_file, their_file):
    missing = portal.get(_url("GX-2099-999999", 999999))
    # Under its own case number, or under ours, the other enterprise's file is simply not there
    theirs = portal.get(_url(their_file.case.number, their_file.pk))
    under_ours = portal.get(_url(own_file.case.number, their_file.pk))
    for response in (theirs, under_ours):
        assert response.status_code == missing.status_code == 404
        assert response.content == missing.content


def test_a_file_of_another_own_case_is_not_served_under_this_case(portal, zone, own_file):
    # Given two cases of the same enterprise, the file belonging to the first
    second = case_at(zone, CS.SUBMITTED)
    # Then it is not found under the second case's number
    assert portal.get(_url(second.number, own_file.pk)).status_code == 404


def test_a_file_missing_from_storage_is_a_404_not_a_500(portal, own_file):
    own_file.file.delete(save=False)
    assert portal.get(_url(own_file.case.number, own_file.pk)).status_code == 404


def test_staff_and_anonymous_cannot_download_from_the_portal(client, zone, own_file):
    assert client.get(_url(own_file.case.number, own_file.pk)).status_code == 302
    client.force_login(zone.concierge)
    assert client.get(_url(own_file.case.number, own_file.pk)).status_code == 403
