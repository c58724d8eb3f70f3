"""Digests (services/delivery/digests.py): each staff member's daily digest of what is overdue or coming due, once a
working day in working hours; each leader's weekly summary on the week's first working day, with the ledger attached.

The clock is stopped at each moment named: the week of Monday 2026-11-09 is plain; in the week of Monday
2026-10-05 the first working day is Thursday 10-08 (National Day).
"""

from datetime import date
from io import BytesIO

import pytest
from django.core import mail
from openpyxl import load_workbook

from services.cases import tasks as task_services
from services.cases.tasks import TaskSpec
from services.delivery import digests, pushes
from services.roles import Role
from tests.factories import UserFactory, at, case_at, frozen
from tracker.models import Case, PushDelivery

CS = Case.Status
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def working_hours(settings):
    settings.REMINDER_DAY_START_HOUR = 9
    settings.REMINDER_DAY_END_HOUR = 18
    settings.SITE_URL = "https://concierge.example.gov.cn"


@pytest.fixture
def overdue(zone):
    """The task force's member (with an email address) has a task due Tuesday 11-03, not done; the concierge
    (with an address too) has the case in progress and nothing overdue of their own."""
    for user, address in ((zone.member, "zhouba@ks.gov.cn"), (zone.concierge, "zhangsan@ks.gov.cn")):
        user.email = address
        user.save(update_fields=["email"])
    with frozen(at("2026-11-02")):
        case = case_at(zone, CS.ACCEPTED)
        task_services.decompose_case(
            actor=zone.concierge,
            case=case,
            tasks=[TaskSpec(title="协调规划许可", task_force=zone.task_force, due_on=date(2026, 11, 3))],
        )
    return case


def daily_pushes():
    """The digests among the pushes (the steps that built the cases pushed their notices too)."""
    return PushDelivery.objects.filter(dedupe_key__startswith="digest:").order_by("id")


def weekly_pushes():
    return PushDelivery.objects.filter(dedupe_key__startswith="weekly:").order_by("id")


def digests_written() -> list[tuple[str, str]]:
    """The daily digests written so far, as (recipient's username, day)."""
    return [(p.recipient.username, p.dedupe_key.split(":")[1]) for p in daily_pushes().select_related("recipient")]


def write_daily(moment) -> int:
    with frozen(moment):
        return digests.write_daily_digests()


def write_weekly(moment) -> int:
    with frozen(moment):
        return digests.write_weekly_summaries()


# The daily digest ---------------------------------------------------------------------------------------------


def test_a_staff_member_with_an_overdue_task_gets_one_digest_on_a_working_morning(zone, overdue):
    # When the digests are written on Wednesday 11-04 at 09:30
    written = write_daily(at("2026-11-04", 9, 30))

    # Then the member gets one, listing the overdue task with its case and deadline; the concierge, with
    # nothing overdue or waiting on them, gets none
    assert written == 1
    assert digests_written() == [("member", "2026-11-04")]
    push = daily_pushes().get()
    assert (push.channel, push.address) == ("email", "zhouba@ks.gov.cn")
    assert push.subject == "【每日待办】2026-11-04 周八"
    assert "已逾期事项（1）" in push.body
    assert f"协调规划许可（{overdue.number}，期限 11-03）" in push.body
    assert "https://concierge.example.gov.cn/admin/" in push.body


def test_the_digest_is_emailed_when_delivered(zone, overdue):
    write_daily(at("2026-11-04", 9, 30))
    push = daily_pushes().get()
    with frozen(at("2026-11-04", 9, 31)):
        assert pushes.deliver(push.pk).delivered
    assert [(m.to, m.subject) for m in mail.outbox] == [(["zhouba@ks.gov.cn"], "【每日待办】2026-11-04 周八")]
    assert "已逾期事项（1）" in mail.outbox[0].body


def test_the_digest_is_written_once_a_day(zone, overdue):
    # When the digest beat runs every half hour through Wednesday's working day
    counts = [write_daily(at("2026-11-04", hour, minute)) for hour in range(9, 18) for minute in (0, 30)]
    # Then one digest was written, the first time
    assert counts[0] == 1 and sum(counts) == 1
    # And the next working day brings the next one
    assert write_daily(at("2026-11-05", 9)) == 1
    assert digests_written() == [("member", "2026-11-04"), ("member", "2026-11-05")]


@pytest.mark.parametrize(
    "moment",
    [
        at("2026-11-04", 8, 59),  # before the working day starts
        at("2026-11-04", 18),  # after it ends: it would reach people at night
        at("2026-11-04", 23, 30),
        at("2026-11-07", 10),  # a Saturday
        at("2026-10-05", 10),  # a Monday of Golden Week
    ],
    ids=["early", "evening", "night", "saturday", "holiday"],
)
def test_no_digest_is_written_outside_working_hours(zone, overdue, moment):
    assert write_daily(moment) == 0
    assert digests_written() == []


def test_a_make_up_sunday_is_a_working_day_for_digests(zone):
    # Given the member has a task due Friday 09-18, not done
    zone.member.email = "zhouba@ks.gov.cn"
    zone.member.save(update_fields=["email"])
    with frozen(at("2026-09-14")):
        task_services.decompose_case(
            actor=zone.concierge,
            case=case_at(zone, CS.ACCEPTED),
            tasks=[TaskSpec(title="核实用电容量", task_force=zone.task_force, due_on=date(2026, 9, 18))],
        )
    # When the digests are written on Saturday 09-19 and on Sunday 09-20, a make-up working day (调休)
    # Then the Saturday brings none and the Sunday one
    assert write_daily(at("2026-09-19", 10)) == 0
    assert write_daily(at("2026-09-20", 10)) == 1
    assert "核实用电容量" in daily_pushes().get().body


def test_people_who_turned_email_off_or_have_no_address_get_no_digest(zone, overdue):
    # Given the member turned email off, and an officer of the planning department with a task has no address
    zone.member.notify_by_email = False
    zone.member.save(update_fields=["notify_by_email"])
    with frozen(at("2026-11-02")):
        task_services.decompose_case(
            actor=zone.concierge,
            case=overdue,
            tasks=[TaskSpec(title="核实用地红线", department=zone.department, due_on=date(2026, 11, 3))],
        )
    # When the digests are written, Then none is
    assert write_daily(at("2026-11-04", 9, 30)) == 0


def test_a_concierge_hears_of_cases_waiting_to_be_accepted_and_called_back(zone):
    # Given a case submitted and another answered a week ago, with no verdict
    zone.concierge.email = "zhangsan@ks.gov.cn"
    zone.concierge.save(update_fields=["email"])
    with frozen(at("2026-11-02")):
        answered = case_at(zone, CS.RESOLVED)
        waiting = case_at(zone, CS.SUBMITTED)
    # When the digests are written on Tuesday 11-10 (the verdict was due Monday 11-09)
    write_daily(at("2026-11-10", 9))
    # Then the concierge's lists both
    body = daily_pushes().get(recipient=zone.concierge).body
    assert f"待受理诉求（1）\n  · {waiting.number}" in body
    assert f"企业逾期未验收，待电话回访（1）\n  · {answered.number}" in body


# The weekly summary --------------------------------------------------------------------------------------------


@pytest.fixture
def leaders(zone):
    """The zone's leader with an address, a second leader without one; the concierge has an address too."""
    for user, address in ((zone.leader, "wu@ks.gov.cn"), (zone.concierge, "zhangsan@ks.gov.cn")):
        user.email = address
        user.save(update_fields=["email"])
    UserFactory(username="leader_without_mail", roles=[Role.LEADER])
    return zone


def test_leaders_get_the_weekly_summary_on_the_week_first_working_day(leaders):
    # Given a case closed last week and one submitted
    with frozen(at("2026-11-03")):
        case_at(leaders, CS.CLOSED)
        case_at(leaders, CS.SUBMITTED)

    # When the weekly beat runs on Monday 11-09: early, at 10:00
    assert write_weekly(at("2026-11-09", 8)) == 0
    assert write_weekly(at("2026-11-09", 10)) == 1

    # Then the leader with an address gets the summary with the figures, and nobody else does
    (push,) = weekly_pushes()
    assert (push.recipient, push.address, push.attach_ledger) == (leaders.leader, "wu@ks.gov.cn", True)
    assert push.subject == "【每周汇总】2026 年第 46 周"
    assert push.body.startswith("截至 2026-11-09，您分管范围内：")
    assert "https://concierge.example.gov.cn/admin/dashboard/" in push.body


def test_the_weekly_summary_is_written_once_a_week(leaders):
    assert write_weekly(at("2026-11-09", 9)) == 1
    # Later that Monday, and the other days of the week: nothing more
    for moment in (at("2026-11-09", 15), at("2026-11-10", 9), at("2026-11-13", 9), at("2026-11-14", 9)):
        assert write_weekly(moment) == 0
    assert weekly_pushes().count() == 1
    # The next Monday: the next one
    assert write_weekly(at("2026-11-16", 9)) == 1


def test_in_golden_week_the_summary_comes_on_the_first_day_back(leaders):
    # Monday to Wednesday 10-05..07 are holidays: the week's first working day is Thursday 10-08
    for day in (5, 6, 7):
        assert write_weekly(at(date(2026, 10, day), 10)) == 0
    assert write_weekly(at("2026-10-08", 8)) == 0  # not before nine
    assert write_weekly(at("2026-10-08", 9)) == 1
    assert weekly_pushes().get().subject == "【每周汇总】2026 年第 41 周"


def test_the_summary_is_emailed_with_the_ledger_attached(leaders):
    # Given a case in progress and the leader's summary written on Monday
    with frozen(at("2026-11-03")):
        case = case_at(leaders, CS.IN_PROGRESS)
    write_weekly(at("2026-11-09", 9))
    push = weekly_pushes().get()

    # When it is delivered
    with frozen(at("2026-11-09", 9, 1)):
        assert pushes.deliver(push.pk).delivered

    # Then the leader receives it with the ledger as an Excel workbook listing the case
    (message,) = mail.outbox
    assert message.to == ["wu@ks.gov.cn"] and message.subject == "【每周汇总】2026 年第 46 周"
    ((name, content, mimetype),) = message.attachments
    assert (name, mimetype) == ("台账-2026-11-09.xlsx", XLSX)
    sheet = load_workbook(BytesIO(content), read_only=True).active
    cells = {cell for row in sheet.iter_rows(values_only=True) for cell in row}
    assert case.number in cells
