"""The home page: the enterprise's own cases, each with its next step, in tabs by what they wait on."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from services.cases import steps as case_services
from services.time.calendar import WorkingCalendar, working_days_between
from services.time.reminders import working_days_ago
from tests.factories import case_at
from tests.portal.conftest import html, other_case_at
from tracker.models import Case

pytestmark = pytest.mark.django_db
CS = Case.Status


def _tab_counts(page: str) -> dict[str, int]:
    return {key: int(n) for key, n in re.findall(r'href="\?show=(\w+)">[^<]*<span[^>]*>(\d+)</span>', page)}


def _listed(page: str) -> list[str]:
    """The case numbers listed, in order."""
    return re.findall(r'data-case="([^"]+)"', page)


def _row(page: str, number: str) -> str:
    start = page.index(f'data-case="{number}"')
    return page[start : page.index("</a>", start)]


def test_home_lists_only_the_enterprises_own_cases_with_their_next_step(portal, zone):
    # Given cases of the enterprise at three stages, and a case of another enterprise
    submitted = case_at(zone, CS.SUBMITTED, title="新厂房用电增容")
    in_progress = case_at(zone, CS.IN_PROGRESS, title="规划许可加快办理")
    resolved = case_at(zone, CS.RESOLVED, title="人才公寓申请")
    theirs = other_case_at(zone, CS.SUBMITTED, title="别家企业的诉求")
    # When the enterprise user opens the portal
    page = html(portal.get("/portal/"))
    # Then only its own cases are listed, newest first, each saying what happens next
    assert _listed(page) == [resolved.number, in_progress.number, submitted.number]
    assert theirs.number not in page and "别家企业的诉求" not in page
    assert "等待服务专员受理，预计" in _row(page, submitted.number)
    assert "等待专班办理，预计" in _row(page, in_progress.number)
    assert re.search(r"请您在 \d+月\d+日 前验收", _row(page, resolved.number))
    assert "查看答复并验收" in _row(page, resolved.number)
    # And the concierge is named beside the list
    assert "张三" in page


def test_tabs_filter_and_count(portal, zone):
    # Given one case at each stage of the loop
    cases = {status: case_at(zone, status) for status in (CS.SUBMITTED, CS.IN_PROGRESS, CS.RESOLVED, CS.CLOSED)}
    cases[CS.WITHDRAWN] = case_at(zone, CS.WITHDRAWN)
    other_case_at(zone, CS.RESOLVED)
    # When each tab is opened
    pages = {tab: html(portal.get("/portal/", {"show": tab})) for tab in ("awaiting", "open", "finished", "all")}
    # Then each lists what it says, and every tab shows the same counts (of this enterprise's cases only)
    assert _listed(pages["awaiting"]) == [cases[CS.RESOLVED].number]
    assert set(_listed(pages["open"])) == {cases[CS.SUBMITTED].number, cases[CS.IN_PROGRESS].number}
    assert set(_listed(pages["finished"])) == {cases[CS.CLOSED].number, cases[CS.WITHDRAWN].number}
    assert len(_listed(pages["all"])) == 5
    for page in pages.values():
        assert _tab_counts(page) == {"all": 5, "awaiting": 1, "open": 2, "finished": 2}
    # And an unknown tab shows them all
    assert len(_listed(html(portal.get("/portal/", {"show": "nonsense"})))) == 5


def test_the_awaiting_callout_appears_only_when_an_answer_waits(portal, zone):
    case_at(zone, CS.IN_PROGRESS)
    assert 'data-role="awaiting-callout"' not in html(portal.get("/portal/"))
    resolved = case_at(zone, CS.RESOLVED)
    page = html(portal.get("/portal/"))
    assert 'data-role="awaiting-callout"' in page and "有 1 件诉求已答复，等待您验收" in page
    # Once the enterprise has given its verdict, the callout goes away
    case_services.confirm_case(actor=zone.enterprise_user, case=resolved, rating=4)
    assert 'data-role="awaiting-callout"' not in html(portal.get("/portal/"))


def test_an_empty_list_invites_a_first_case(portal, zone):
    page = html(portal.get("/portal/"))
    assert _listed(page) == [] and "还没有诉求" in page


def test_the_list_is_paged_by_twenty(portal, zone):
    # Given 25 cases
    for i in range(25):
        case_services.submit_case(
            actor=zone.enterprise_user,
            enterprise=zone.enterprise,
            category=zone.category,
            title=f"诉求{i}",
            description="说明",
        )
    # Then the first page shows the newest 20 and says there are two pages; the second the other 5
    first, second = html(portal.get("/portal/")), html(portal.get("/portal/", {"page": 2}))
    assert len(_listed(first)) == 20 and "1 / 2" in first and "page=2" in first
    assert len(_listed(second)) == 5 and "2 / 2" in second
    assert not set(_listed(first)) & set(_listed(second))
    # And a page past the end shows the last page rather than an error
    assert _listed(html(portal.get("/portal/", {"page": 99}))) == _listed(second)


def test_a_late_case_says_plainly_how_many_working_days_the_zone_is_late(portal, zone, django_assert_max_num_queries):
    # Given a case not accepted by its date and one whose unit is past its deadline, 8 working days ago
    today = timezone.localdate()
    due = working_days_ago(today, 8, WorkingCalendar.load())
    late = working_days_between(due, today)
    submitted = case_at(zone, CS.SUBMITTED, title="新厂房用电增容")
    in_progress = case_at(zone, CS.IN_PROGRESS, title="规划许可加快办理")
    Case.objects.filter(pk=submitted.pk).update(accept_due_on=due)
    in_progress.tasks.update(due_on=due)
    day = f"{due.month}月{due.day}日"
    # When the enterprise user opens the portal
    page = html(portal.get("/portal/"))
    # Then each late case says it is late, by how many working days — the past date is not "expected"
    assert f"原定 {day} 前受理，已超期 {late} 个工作日" in _row(page, submitted.number)
    assert f"原定 {day} 前答复，已超期 {late} 个工作日" in _row(page, in_progress.number)
    assert "预计" not in _row(page, submitted.number) + _row(page, in_progress.number)
    # And so does the case's own page
    case_page = html(portal.get(f"/portal/cases/{in_progress.number}/"))
    assert f"已超期 {late} 个工作日" in case_page
    # And more late cases cost the list no more queries (the calendar is read once for the page)
    with CaptureQueriesContext(connection) as two_late:
        portal.get("/portal/")
    for i in range(5):
        more = case_at(zone, CS.SUBMITTED, title=f"逾期诉求{i}")
        Case.objects.filter(pk=more.pk).update(accept_due_on=due)
    with django_assert_max_num_queries(len(two_late.captured_queries)):
        assert "已超期" in _row(html(portal.get("/portal/")), more.number)
