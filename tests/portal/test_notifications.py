"""In-app notices: staff steps on a case notify the enterprise's users (only theirs); the inbox lists them, the
navigation counts the unread, opening one marks it read and leads to its case. (Staff hear of steps too — see
tests/services/test_notifications.py — so what the enterprise is told is read from its users' notices.)"""

import pytest

from services.cases import steps as case_services
from services.cases import tasks as task_services
from services.cases.tasks import TaskSpec
from tests.factories import EnterpriseUserFactory, case_at
from tests.portal.conftest import html, messages_of, section, unread_badge
from tracker.models import Case, Notification

pytestmark = pytest.mark.django_db
CS = Case.Status
Notice = Notification.Kind


def _accept(zone, case):
    case_services.accept_case(actor=zone.concierge, case=case)


def _decline(zone, case):
    case_services.decline_case(actor=zone.concierge, case=case, reason="属于司法程序，不在服务范围")


def _decompose(zone, case):
    case_services.accept_case(actor=zone.concierge, case=case)
    task_services.decompose_case(
        actor=zone.concierge, case=case, tasks=[TaskSpec(title="核实用地红线", task_force=zone.task_force)]
    )


def _request_info(zone, case):
    case_services.request_case_info(actor=zone.concierge, case=case, note="请补充用地红线图")


def _resolve(zone, case):
    case_services.accept_case(actor=zone.concierge, case=case)
    case_services.resolve_case(actor=zone.concierge, case=case, answer="已协调，下周发证")


STEPS = {
    "accept": (_accept, Notice.CASE_ACCEPTED, "诉求已受理", ""),
    "decline": (_decline, Notice.CASE_DECLINED, "诉求不予受理", "属于司法程序，不在服务范围"),
    "decompose": (_decompose, Notice.CASE_DISPATCHED, "诉求已交办", ""),
    "request_info": (_request_info, Notice.INFO_REQUESTED, "请补充材料", "请补充用地红线图"),
    "resolve": (_resolve, Notice.CASE_ANSWERED, "收到答复，请验收", ""),
}


@pytest.mark.parametrize("step", list(STEPS))
def test_a_staff_step_notifies_every_user_of_the_enterprise_and_nobody_else(client, zone, step):
    # Given a submitted case, and a second user of the same enterprise
    run, kind, label, note = STEPS[step]
    colleague = EnterpriseUserFactory(username="colleague", enterprise=zone.enterprise)
    case = case_at(zone, CS.SUBMITTED)
    submitted = Notification.objects.order_by("id").last()  # the concierge's news of the submission
    # When the concierge takes the step
    run(zone, case)
    # Then each user of the enterprise has a notice of it (the last one, for steps taken in two moves)
    for user in (zone.enterprise_user, colleague):
        notice = Notification.objects.filter(recipient=user).order_by("-id").first()
        assert (notice.kind, notice.case, notice.note, notice.read_at) == (kind, case, note, None)
    # And neither the concierge who acted nor anybody of another enterprise is notified
    step_notices = Notification.objects.filter(pk__gt=submitted.pk)
    assert not step_notices.filter(recipient=zone.concierge).exists()
    assert not Notification.objects.filter(recipient__enterprise=zone.other_enterprise).exists()
    # And the inbox shows it, with the case and the note
    client.force_login(zone.enterprise_user)
    inbox = section(html(client.get("/portal/notifications/")), "notifications")
    assert label in inbox and case.number in inbox and note in inbox


def test_the_enterprises_own_steps_notify_nobody(portal, zone):
    # Submitting, adding information and withdrawing are the enterprise's own doing: no news to it
    case = case_at(zone, CS.SUBMITTED)
    portal.post(f"/portal/cases/{case.number}/info/", {"note": "补充"})
    portal.post(f"/portal/cases/{case.number}/withdraw/", {})
    assert not Notification.objects.filter(recipient__enterprise__isnull=False).exists()
    # (only the concierge is told: of the new case, of the information added and of the withdrawal)
    assert list(Notification.objects.order_by("id").values_list("recipient", "kind")) == [
        (zone.concierge.pk, Notice.CASE_SUBMITTED),
        (zone.concierge.pk, Notice.INFO_ADDED),
        (zone.concierge.pk, Notice.CASE_WITHDRAWN),
    ]


def test_the_navigation_counts_unread_notices_and_opening_a_case_reads_its_own(portal, zone):
    assert unread_badge(html(portal.get("/portal/"))) == 0
    case = case_at(zone, CS.IN_PROGRESS)  # accepted, then decomposed: two notices
    other = case_at(zone, CS.ACCEPTED)  # one more notice, about another case
    assert unread_badge(html(portal.get("/portal/"))) == 3
    # Opening the case reads the two notices about it, and only those
    assert unread_badge(html(portal.get(f"/portal/cases/{case.number}/"))) == 1
    unread = Notification.objects.filter(recipient=zone.enterprise_user, read_at__isnull=True)
    assert list(unread.values_list("case", flat=True)) == [other.pk]


def test_opening_a_notice_marks_it_read_and_goes_to_its_case(portal, zone):
    # Given two unread notices
    case = case_at(zone, CS.IN_PROGRESS)
    notice = Notification.objects.filter(recipient=zone.enterprise_user).order_by("id").first()
    # When the user opens one
    response = portal.post(f"/portal/notifications/{notice.pk}/")
    # Then they land on its case, the notice is read, and so is the other one about the same case
    assert response.status_code == 302 and response["Location"] == f"/portal/cases/{case.number}/"
    notice.refresh_from_db()
    assert notice.read_at is not None
    assert Notification.objects.filter(recipient=zone.enterprise_user, read_at__isnull=True).count() == 1
    assert unread_badge(html(portal.get(response["Location"]))) == 0


def test_read_all(portal, zone):
    case_at(zone, CS.RESOLVED)  # accepted, dispatched, answered
    response = portal.post("/portal/notifications/read/", follow=True)
    assert response.redirect_chain == [("/portal/notifications/", 302)]
    assert "已将 3 条消息标为已读" in messages_of(response)
    assert not Notification.objects.filter(recipient=zone.enterprise_user, read_at__isnull=True).exists()
    assert unread_badge(html(response)) == 0 and "未读" not in section(html(response), "notifications")


def test_an_empty_inbox(portal, zone):
    assert "暂无消息" in section(html(portal.get("/portal/notifications/")), "notifications")


@pytest.mark.parametrize(
    "url",
    [
        "/portal/notifications/read/",
        "/portal/notifications/{notice}/",
        "/portal/cases/{case}/info/",
        "/portal/cases/{case}/withdraw/",
        "/portal/cases/{case}/confirm/",
        "/portal/cases/{case}/reopen/",
        "/portal/logout/",
    ],
)
def test_a_get_cannot_change_anything(portal, zone, url):
    # Given a resolved case and an unread notice
    case = case_at(zone, CS.RESOLVED)
    notice = Notification.objects.filter(recipient=zone.enterprise_user).first()
    # When one of the POST-only URLs is opened with GET (a link, a prefetch)
    response = portal.get(url.format(notice=notice.pk, case=case.number))
    # Then it is refused as the wrong method, and nothing changes
    assert response.status_code == 405
    notice.refresh_from_db()
    assert notice.read_at is None and Case.objects.get(pk=case.pk).status == CS.RESOLVED
