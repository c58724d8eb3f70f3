"""Files kept to staff (a unit's internal reply, the papers of a 退回) never reach the enterprise: the portal neither
lists nor serves them (404, as for a file that does not exist); the files the enterprise may see are listed as before;
the notice of a case filed for the enterprise reads plainly."""

import pytest

from services.cases import steps as case_services
from services.cases import tasks as task_services
from tests.factories import case_at
from tests.portal.conftest import pdf
from tracker.models import Case

pytestmark = pytest.mark.django_db
CS = Case.Status


@pytest.fixture
def files(zone, private_media):
    """A case whose task the unit completed with an internal reply, then answered with a letter for the enterprise."""
    case = case_at(zone, CS.IN_PROGRESS)
    task = task_services.start_task(actor=zone.member, task=case.tasks.get())
    task_services.complete_task(actor=zone.member, task=task, result="已核实", files=[pdf("内部意见.pdf")])
    case_services.resolve_case(actor=zone.concierge, case=case, answer="已解决，复函见附件", files=[pdf("复函.pdf")])
    internal = case.attachments.get(original_name="内部意见.pdf")
    letter = case.attachments.get(original_name="复函.pdf")
    return case, internal, letter


def _url(case, attachment) -> str:
    return f"/portal/cases/{case.number}/files/{attachment.pk}/"


def test_the_case_page_lists_the_answer_letter_but_not_the_units_internal_reply(portal, files):
    case, _internal, _letter = files
    page = portal.get(f"/portal/cases/{case.number}/").content.decode()
    listed = page[page.index('data-role="attachments"') :]
    assert "复函.pdf" in listed and "内部意见.pdf" not in page


def test_a_staff_only_file_is_not_found_like_a_missing_one(portal, files):
    case, internal, letter = files  # the unit's reply (staff only) and the answer's letter
    assert portal.get(_url(case, letter)).status_code == 200
    hidden = portal.get(_url(case, internal))
    missing = portal.get(f"/portal/cases/{case.number}/files/999999/")
    assert hidden.status_code == missing.status_code == 404 and hidden.content == missing.content


def test_a_case_filed_for_the_enterprise_shows_in_its_messages(portal, zone):
    case = case_services.submit_case(
        actor=zone.concierge,
        enterprise=zone.enterprise,
        category=zone.category,
        title="新厂房用电增容",
        description="企业来电反映。",
        channel=Case.Channel.PHONE,
        caller_name="王经理",
        caller_phone="13812345678",
    )
    page = portal.get("/portal/notifications/").content.decode()
    assert "工作人员为您登记了诉求" in page and case.number in page and "来源：来电" in page
    case_page = portal.get(f"/portal/cases/{case.number}/").content.decode()
    assert "张三 登记了诉求（来电）" in case_page and "王经理" in case_page
