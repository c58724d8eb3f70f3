"""Every form where staff type a due date — 分解交办 (its rows and the template of rows added on the page), 重新交办,
要求重办 and 申请延期 — carries the rest days ahead with the working day each moves to (民法典 第二百零三条), why it is
a rest day and whether that is provisional, and the sentences to say it in: workbench.js shows them under the field
before anything is saved. The map is read once per page however many rows carry it, and not when a form is saved."""

import json
from datetime import date
from html.parser import HTMLParser
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from services.cases import tasks as task_services
from services.time import calendar
from tests.factories import at, case_at, frozen, task_at
from tracker.models import Case, HolidayOverride, HolidayYear, Task

pytestmark = pytest.mark.django_db
CS, TS = Case.Status, Task.Status

# 2026: 国庆 is 1–7 October, Saturday 10 October is a make-up working day (the State Council's notice).
MONDAY_BEFORE_GOLDEN_WEEK = at("2026-09-28")


class _Inputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inputs: dict[str, dict[str, str]] = {}

    def handle_starttag(self, tag, attrs):
        if tag == "input" and dict(attrs).get("name"):
            self.inputs[dict(attrs)["name"]] = dict(attrs)


def date_inputs(page: str) -> dict[str, dict[str, str]]:
    """The page's date inputs by name, with their attributes (entities decoded), the row template's too."""
    parser = _Inputs()
    parser.feed(page)
    return {name: attrs for name, attrs in parser.inputs.items() if attrs.get("type") == "date"}


def moves_of(attrs: dict[str, str]) -> dict[str, list]:
    return json.loads(attrs["data-rest-days"])


def get_page(client, user, obj, action) -> str:
    client.force_login(user)
    name = "admin:tracker_task_action" if isinstance(obj, Task) else "admin:tracker_case_action"
    response = client.get(reverse(name, args=[obj.pk, action]))
    assert response.status_code == 200
    return response.content.decode()


def test_every_row_of_the_decomposition_says_where_a_rest_day_moves(client, zone):
    with frozen(MONDAY_BEFORE_GOLDEN_WEEK):
        # Given an accepted case, the Monday before golden week
        case = case_at(zone, CS.ACCEPTED)
        # When the concierge opens 分解交办
        inputs = date_inputs(get_page(client, zone.concierge, case, "decompose"))
    # Then the three rows and the template of rows added on the page each carry the map
    assert set(inputs) == {"tasks-0-due_on", "tasks-1-due_on", "tasks-2-due_on", "tasks-__prefix__-due_on"}
    for attrs in inputs.values():
        moves = moves_of(attrs)
        # A day of golden week — a weekend inside it too — moves to Thursday 8 October, firmly
        assert moves["2026-10-03"] == ["2026-10-08", "国庆节", 0]
        assert moves["2026-10-04"] == ["2026-10-08", "国庆节", 0]
        # An ordinary Sunday to the Monday; the make-up Saturday and the working days are not there
        assert moves["2026-10-11"] == ["2026-10-12", "周日", 0]
        assert "2026-10-10" not in moves and "2026-10-09" not in moves
        # Nor the past, nor beyond the latest deadline a task may be given
        assert "2026-09-27" not in moves
        assert max(moves) <= "2027-09-29"
        # A year the library does not know yet: moved as the law says, and said to be provisional
        assert moves["2027-01-01"] == ["2027-01-04", "元旦", 1]
        assert moves["2027-01-02"] == ["2027-01-04", "周六", 1]
        text = json.loads(attrs["data-rest-day-text"])
        assert text["moved"] == "%(day)s是休息日（%(reason)s），期限将顺延至 %(next)s（下一个工作日）"
        assert text["provisional"] == "（%(year)s年节假日安排尚未确认，暂按法定节假日和周末计算）"


def test_an_entered_rest_day_names_its_note_and_a_confirmed_year_is_firm(client, zone):
    with frozen(at("2026-12-03")):
        # Given 2027's Spring Festival entered by an administrator: a bridging Thursday with its note
        HolidayOverride.objects.create(date=date(2027, 2, 11), is_working_day=False, note="春节调休")
        HolidayOverride.objects.create(date=date(2027, 2, 12), is_working_day=False)
        case = case_at(zone, CS.ACCEPTED)
        moves = moves_of(date_inputs(get_page(client, zone.concierge, case, "decompose"))["tasks-0-due_on"])
        # Then the entered day names its note; one entered without a note on a weekday names nothing
        assert moves["2027-02-11"] == ["2027-02-15", "春节调休", 1]
        assert moves["2027-02-12"] == ["2027-02-15", "", 1]
        assert moves["2027-02-06"] == ["2027-02-09", "春节", 1]
        # When the administrator confirms the year, its moves are no longer provisional
        HolidayYear.objects.create(year=2027, completed_by=zone.admin, completed_at=timezone.now())
        moves = moves_of(date_inputs(get_page(client, zone.concierge, case, "decompose"))["tasks-0-due_on"])
    assert moves["2027-02-11"] == ["2027-02-15", "春节调休", 0]
    assert moves["2027-01-01"] == ["2027-01-04", "元旦", 0]


def _returned(zone):
    task = task_at(zone, TS.RETURNED)
    return zone.concierge, task, "redispatch", "due_on"


def _done(zone):
    task = task_at(zone, TS.DONE)
    return zone.concierge, task, "reopen", "due_on"


def _in_progress(zone):
    task = task_at(zone, TS.IN_PROGRESS)
    return zone.member, task, "extend", "requested_due_on"


@pytest.mark.parametrize("given", [_returned, _done, _in_progress], ids=["redispatch", "reopen", "extend"])
def test_the_task_forms_say_where_a_rest_day_moves(client, zone, given):
    with frozen(MONDAY_BEFORE_GOLDEN_WEEK):
        # Given a task at the step where its form asks for a date (重新交办, 要求重办, 申请延期)
        user, task, action, field = given(zone)
        # When the person who may take that step opens the form
        inputs = date_inputs(get_page(client, user, task, action))
    # Then its date input carries the moves
    moves = moves_of(inputs[field])
    assert moves["2026-10-03"] == ["2026-10-08", "国庆节", 0]
    assert moves["2026-10-11"] == ["2026-10-12", "周日", 0]
    assert "2026-10-10" not in moves
    assert "期限将顺延至" in inputs[field]["data-rest-day-text"]


def test_the_services_move_a_rest_day_where_the_page_said(client, zone):
    with frozen(MONDAY_BEFORE_GOLDEN_WEEK):
        # Given the decomposition page's word for 3 October
        case = case_at(zone, CS.ACCEPTED)
        said = moves_of(date_inputs(get_page(client, zone.concierge, case, "decompose"))["tasks-0-due_on"])
        # When a task is given out due that day
        task_services.decompose_case(
            actor=zone.concierge,
            case=case,
            tasks=[task_services.TaskSpec(title="核实用地红线", task_force=zone.task_force, due_on=date(2026, 10, 3))],
        )
    # Then it is due where the page said it would move
    assert Task.objects.get(case=case, title="核实用地红线").due_on.isoformat() == said["2026-10-03"][0]


def test_the_map_is_read_once_per_page_and_not_when_the_form_is_saved(client, zone):
    case = case_at(zone, CS.ACCEPTED)
    client.force_login(zone.concierge)
    url = reverse("admin:tracker_case_action", args=[case.pk, "decompose"])
    with mock.patch("services.time.calendar.rest_days_ahead", wraps=calendar.rest_days_ahead) as read:
        # When the page with its three rows and its row template is shown
        assert client.get(url).status_code == 200
        # Then the rest days were read once
        assert read.call_count == 1
        # And a valid decomposition saved reads none
        due = calendar.add_working_days(timezone.localdate(), 3).date.isoformat()
        data = {"version": case.version, "tasks-TOTAL_FORMS": "1", "tasks-INITIAL_FORMS": "0"}
        data.update({"tasks-0-title": "核实用地红线", "tasks-0-task_force": zone.task_force.pk, "tasks-0-due_on": due})
        assert client.post(url, data).status_code == 302
        assert read.call_count == 1


def test_the_reasons_follow_the_language(client, zone, settings):
    with frozen(MONDAY_BEFORE_GOLDEN_WEEK):
        # Given the workbench in English
        case = case_at(zone, CS.ACCEPTED)
        client.force_login(zone.concierge)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        page = client.get(reverse("admin:tracker_case_action", args=[case.pk, "decompose"])).content.decode()
    # Then a festival is named in English
    attrs = date_inputs(page)["tasks-0-due_on"]
    assert moves_of(attrs)["2026-10-03"] == ["2026-10-08", "National Day", 0]
    # And the sentences keep their placeholders whatever their words
    text = json.loads(attrs["data-rest-day-text"])
    assert all(placeholder in text["moved"] for placeholder in ("%(day)s", "%(reason)s", "%(next)s"))
