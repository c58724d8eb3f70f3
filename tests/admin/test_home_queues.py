"""Each person's home shows open work first (issue 14): overdue, then due soonest, then newest; closed cases only
through a filter; leaders see extensions to decide and red and yellow cards before the figures; the step most
likely next is the one primary button."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from services.cases import tasks as task_services
from services.time import calendar
from tests.factories import case_at
from tracker.models import Case, Extension, Task

pytestmark = pytest.mark.django_db
CS = Case.Status


def _rows(page: str) -> list[str]:
    """The case numbers of a case list, in the order shown."""
    return re.findall(r"field-number_display[^>]*>\s*<a [^>]*>(GX-\d{4}-\d{6})", page)


def _home(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("admin:index"), follow=True)
    assert response.status_code == 200
    return response.content.decode()


def test_the_concierges_home_lists_open_work_overdue_first_and_no_closed_case(client, zone):
    # Given a case closed today (the newest), an open case due in a week, and an older one overdue
    overdue = case_at(zone, CS.IN_PROGRESS, title="旧厂房消防验收")
    Task.objects.filter(case=overdue).update(due_on=timezone.localdate() - timedelta(days=10))
    later = case_at(zone, CS.IN_PROGRESS, title="员工子女入学")
    Task.objects.filter(case=later).update(due_on=timezone.localdate() + timedelta(days=7))
    soon = case_at(zone, CS.SUBMITTED, title="用电增容")  # to be accepted within a working day
    closed = case_at(zone, CS.CLOSED, title="已经办完的诉求")
    # When the concierge opens the workbench
    page = _home(client, zone.concierge)
    rows = _rows(page)
    # Then the overdue case is row one, then the soonest deadline, and the closed case is not there at all
    assert rows[0] == overdue.number
    assert rows.index(soon.number) < rows.index(later.number)
    assert closed.number not in rows
    # And the closed case is one filter away
    client.force_login(zone.concierge)
    finished = client.get(reverse("admin:tracker_case_changelist") + "?queue=mine&state=finished").content.decode()
    assert _rows(finished) == [closed.number]


def test_a_queue_without_the_state_filter_still_puts_closed_cases_last(client, zone):
    closed = case_at(zone, CS.CLOSED, title="已经办完的诉求")
    open_case = case_at(zone, CS.SUBMITTED, title="还在等受理")
    Case.objects.filter(pk=open_case.pk).update(submitted_at=closed.submitted_at - timedelta(days=30))
    client.force_login(zone.concierge)
    rows = _rows(client.get(reverse("admin:tracker_case_changelist") + "?queue=mine").content.decode())
    assert rows == [open_case.number, closed.number]


def test_the_plain_case_list_is_newest_first(client, zone):
    first = case_at(zone, CS.SUBMITTED, title="第一件")
    second = case_at(zone, CS.CLOSED, title="第二件")
    client.force_login(zone.leader)
    rows = _rows(client.get(reverse("admin:tracker_case_changelist")).content.decode())
    assert rows == [second.number, first.number]


def _overdue_by(task: Task, working_days: int) -> None:
    """Make `task` overdue by exactly `working_days` working days as of today."""
    day, counted = timezone.localdate(), 0
    while counted < working_days:
        if calendar.is_working_day(day):
            counted += 1
        day -= timedelta(days=1)
    Task.objects.filter(pk=task.pk).update(due_on=day)


def test_the_leaders_home_shows_extensions_and_cards_before_the_figures(client, zone):
    # Given a task overdue long enough for a red card, one for a yellow card, and an extension waiting
    red = case_at(zone, CS.IN_PROGRESS, title="红牌的诉求").tasks.get()
    _overdue_by(red, 6)
    yellow = case_at(zone, CS.IN_PROGRESS, title="黄牌的诉求").tasks.get()
    _overdue_by(yellow, 3)
    asking = case_at(zone, CS.IN_PROGRESS, title="要延期的诉求").tasks.get()
    task_services.request_extension(
        actor=zone.member, task=asking, requested_due_on=asking.due_on + timedelta(days=30), reason="等待省厅批复"
    )
    # When the leader opens the workbench
    page = _home(client, zone.leader)
    # Then the three panels come first, each with its item, before the dashboard's figures
    attention = page.index('class="attention"')
    assert attention < page.index('class="cards"')
    extension = Extension.objects.get()
    assert reverse("admin:tracker_extension_change", args=[extension.pk]) in page[attention:]
    red_panel = page[page.index("attention-red") : page.index("attention-yellow")]
    assert reverse("admin:tracker_task_change", args=[red.pk]) in red_panel
    assert reverse("admin:tracker_task_change", args=[yellow.pk]) not in red_panel
    yellow_panel = page[page.index("attention-yellow") : page.index('class="cards"')]
    assert reverse("admin:tracker_task_change", args=[yellow.pk]) in yellow_panel
    # And a concierge's dashboard has no such panels (they decide no extensions)
    assert 'class="attention"' not in _dashboard(client, zone.concierge)


def _dashboard(client, user) -> str:
    client.force_login(user)
    return client.get(reverse("admin:dashboard")).content.decode()


def test_the_task_list_filters_red_and_yellow_cards(client, zone):
    red = case_at(zone, CS.IN_PROGRESS, title="红牌").tasks.get()
    _overdue_by(red, 5)
    yellow = case_at(zone, CS.IN_PROGRESS, title="黄牌").tasks.get()
    _overdue_by(yellow, 2)
    fresh = case_at(zone, CS.IN_PROGRESS, title="刚逾期").tasks.get()
    _overdue_by(fresh, 1)
    client.force_login(zone.leader)
    url = reverse("admin:tracker_task_changelist")

    def listed(card):
        page = client.get(url, {"deadline": card}).content.decode()
        return {t.pk for t in (red, yellow, fresh) if reverse("admin:tracker_task_change", args=[t.pk]) in page}

    assert listed("red") == {red.pk}
    assert listed("yellow") == {yellow.pk}


def _buttons(page: str) -> list[tuple[str, str]]:
    """(action, classes) of the action bar's buttons, in page order."""
    bar = page[page.index('class="action-bar"') :]
    bar = bar[: bar.index("</section>")]
    return [(m[1], m[0]) for m in re.findall(r'class="button action-button ([a-z ]*)" data-action="([a-z_-]+)"', bar)]


def test_the_likely_next_step_is_the_one_primary_button_and_destructive_ones_come_last(client, zone):
    case = case_at(zone, CS.SUBMITTED)
    client.force_login(zone.concierge)
    page = client.get(reverse("admin:tracker_case_change", args=[case.pk])).content.decode()
    buttons = _buttons(page)
    assert buttons[0] == ("accept", "primary")
    assert [name for name, style in buttons if "primary" in style] == ["accept"]
    assert buttons[-1] == ("decline", "danger")


def test_a_leader_sees_the_extension_decision_before_the_tasks_other_buttons(client, zone):
    task = case_at(zone, CS.IN_PROGRESS).tasks.get()
    task_services.request_extension(
        actor=zone.member, task=task, requested_due_on=task.due_on + timedelta(days=30), reason="等待省厅批复"
    )
    client.force_login(zone.leader)
    page = client.get(reverse("admin:tracker_task_change", args=[task.pk])).content.decode()
    approve = page.index('data-action="extension-approve"')
    assert approve < page.index('class="action-bar"')
    assert 'class="button action-button primary" data-action="extension-approve"' in page
