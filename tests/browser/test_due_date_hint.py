"""A due date typed on a rest day, in a real browser: under the field the concierge reads, before saving, the working
day it will move to (民法典 第二百零三条) and why — in the rows shown and in a row added on the page — and the words go
away when a working day is typed."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from services.time import calendar
from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.factories import case_at
from tracker.models import Case, HolidayOverride

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pass-123456"  # tests.factories.UserFactory
PROVISIONAL = "（{year}年节假日安排尚未确认，暂按法定节假日和周末计算）"


def log_in(page, live_server, user):
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_load_state()


def expected_hint(day: date, moves: dict) -> str:
    """The sentence the page should show for `day`, written out here from the calendar's answer."""
    to, reason, provisional = moves[day]
    to_words = f"{to.year}年{to.month}月{to.day}日" if to.year != day.year else f"{to.month}月{to.day}日"
    sentence = f"{day.year}年{day.month}月{day.day}日是休息日（{reason}），期限将顺延至 {to_words}（下一个工作日）"
    return sentence + (PROVISIONAL.format(year=to.year) if provisional else "")


def test_a_rest_day_typed_into_the_decomposition_says_where_it_moves(page, live_server, zone):
    today = timezone.localdate()
    # Given a working weekday a fortnight ahead that an administrator entered as a rest day, with its note
    bridge = today + timedelta(days=14)
    days = calendar.WorkingCalendar.load(since=today)
    while bridge.weekday() > 3 or not days.is_working_day(bridge):
        bridge += timedelta(days=1)
    HolidayOverride.objects.create(date=bridge, is_working_day=False, note="调休放假")
    moves = calendar.rest_days_ahead(today, today + timedelta(days=60))
    saturday = next(day for day in sorted(moves) if day > today + timedelta(days=1) and day.weekday() == 5)
    working_day = calendar.add_working_days(today, 3).date
    # And an accepted case
    case = case_at(zone, Case.Status.ACCEPTED)

    # When the concierge, on a phone, types the entered rest day into the first row of 分解交办
    page.set_viewport_size(PHONE)
    log_in(page, live_server, zone.concierge)
    page.goto(f"{live_server.url}{reverse('admin:tracker_case_action', args=[case.pk, 'decompose'])}")
    hint = page.locator("#id_tasks-0-due_on-rest-day")
    page.fill("#id_tasks-0-due_on", bridge.isoformat())
    # Then the row says, under the date, that it moves to the next working day, naming the note
    assert hint.is_visible()
    assert hint.inner_text() == expected_hint(bridge, moves)
    assert "调休放假" in hint.inner_text()
    # And the card still fits the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # When a row is added on the page and a Saturday typed into it, that row says so too
    page.click("[data-add-task-row]")
    page.fill("#id_tasks-3-due_on", saturday.isoformat())
    added = page.locator("#id_tasks-3-due_on-rest-day")
    assert added.inner_text() == expected_hint(saturday, moves)
    assert "（周六）" in added.inner_text()
    screenshot(page, "due-date-hint-390")
    page.set_viewport_size(DESKTOP)
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    screenshot(page, "due-date-hint-1440")

    # When a working day is typed instead, the words go away
    page.fill("#id_tasks-0-due_on", working_day.isoformat())
    assert not hint.is_visible()
    # And a row whose date was never a rest day says nothing
    assert not page.is_visible("#id_tasks-1-due_on-rest-day")
