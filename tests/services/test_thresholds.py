"""Escalation thresholds per category (services/register/reference.py): administrators change a category's limits and
its 督办 thresholds, each change is recorded, and the next reminder sweep and the leader's cards count with them.

The clock is stopped at each moment named. November 2026 is a plain month: Mon 11-02 … Fri 11-06, Mon 11-09 …
Fri 11-13. A task due Tuesday 11-03 is one working day late on Wednesday, three on Friday 11-06, five on Tuesday
11-10, seven on Thursday 11-12.
"""

from datetime import date

import pytest

from services.cases import tasks as task_services
from services.cases.tasks import TaskSpec
from services.errors import InvalidInput, NotPermitted
from services.register import reference
from services.register.reference import change_category_limits
from services.reports.supervision import attention
from services.time import reminders
from tests.factories import CategoryFactory, UserFactory, at, case_at, frozen, make_case, run_case_action
from tracker.models import Case, Category, Notification, ReferenceChange, Reminder, Task

pytestmark = pytest.mark.django_db
CS = Case.Status
Kind = Reminder.Kind


@pytest.fixture(autouse=True)
def defaults(settings):
    """The zone's defaults, written out: yellow after 2 working days overdue, red after 5, escalation after 2."""
    settings.REMINDER_YELLOW_AFTER_DAYS = 2
    settings.REMINDER_RED_AFTER_DAYS = 5
    settings.REMINDER_ACCEPT_ESCALATE_AFTER_DAYS = 2
    settings.REMINDER_DAY_START_HOUR = 9
    settings.REMINDER_DAY_END_HOUR = 18


@pytest.fixture
def people(zone):
    """The planning department has a head (the yellow card's recipient); a second category keeps the defaults."""
    zone.department.head = UserFactory(username="planning_head", department=zone.department)
    zone.department.save(update_fields=["head"])
    zone.other_category = CategoryFactory(code="power", name="配套保障")
    return zone


def given_task(zone, *, due_on: date, category: Category | None = None) -> Task:
    """A case of `category` (the zone's by default) in progress since Monday 11-02, its one task due `due_on`."""
    with frozen(at("2026-11-02")):
        case = make_case(
            status=CS.ACCEPTED,
            enterprise_user=zone.enterprise_user,
            concierge=zone.concierge,
            category=category or zone.category,
            unit=zone.task_force,
            worker=zone.member,
        )
        spec = TaskSpec(title="协调规划许可", task_force=zone.task_force, due_on=due_on)
        (task,) = task_services.decompose_case(actor=zone.concierge, case=case, tasks=[spec])
    return task


def set_limits(zone, moment, category: Category | None = None, **limits) -> Category:
    """An administrator changes the limits of `category` (the zone's by default) at `moment`."""
    with frozen(moment):
        return change_category_limits(actor=zone.admin, category=category or zone.category, **limits)


def sweep_at(moment):
    with frozen(moment):
        return reminders.sweep()


def carded(kind: str) -> set[int]:
    """The tasks that have a reminder of `kind`."""
    return set(Reminder.objects.filter(kind=kind).values_list("task_id", flat=True))


# The next sweep counts with the category's thresholds -----------------------------------------------------------


@pytest.mark.parametrize(("lowered_to", "yellow"), [(4, False), (3, True), (1, True)])
def test_a_task_three_working_days_late_is_yellow_once_its_category_says_three_or_fewer(people, lowered_to, yellow):
    # Given the zone's category gives the yellow card after 5 working days, the other category keeps the default 2
    set_limits(people, at("2026-11-02"), yellow_after_days=5, red_after_days=8)
    task = given_task(people, due_on=date(2026, 11, 3))
    other = given_task(people, due_on=date(2026, 11, 3), category=people.other_category)

    # When the sweep runs on Friday 11-06, three working days late
    sweep_at(at("2026-11-06", 10))

    # Then only the other category's task has its yellow card
    assert carded(Kind.TASK_YELLOW) == {other.pk}

    # When an administrator lowers the category's yellow threshold, and the sweep runs again that morning
    set_limits(people, at("2026-11-06", 11), yellow_after_days=lowered_to)
    sweep_at(at("2026-11-06", 12))

    # Then the task is yellow exactly when three working days reach the new threshold, and told to the head
    assert carded(Kind.TASK_YELLOW) == ({task.pk, other.pk} if yellow else {other.pk})
    told = Notification.objects.filter(kind=Kind.TASK_YELLOW).values_list("task_id", "recipient__username")
    assert set(told) == {(t.pk, "planning_head") for t in ([task, other] if yellow else [other])}


def test_a_later_red_threshold_holds_the_red_card_back(people):
    # Given the category's red card after 7 working days (the default is 5)
    set_limits(people, at("2026-11-02"), red_after_days=7)
    task = given_task(people, due_on=date(2026, 11, 3))
    other = given_task(people, due_on=date(2026, 11, 3), category=people.other_category)

    # When the sweep runs on Tuesday 11-10, five working days late
    sweep_at(at("2026-11-10"))
    # Then only the task of the category with the default has its red card (to the linked leader)
    assert carded(Kind.TASK_RED) == {other.pk}
    assert carded(Kind.TASK_YELLOW) == {task.pk, other.pk}  # the yellow card keeps the default

    # When it runs on Wednesday (six) and Thursday 11-12 (seven working days late)
    sweep_at(at("2026-11-11"))
    assert carded(Kind.TASK_RED) == {other.pk}
    sweep_at(at("2026-11-12"))

    # Then the red card comes on the seventh working day
    assert carded(Kind.TASK_RED) == {task.pk, other.pk}
    red = Reminder.objects.get(kind=Kind.TASK_RED, task=task)
    assert red.created_at == at("2026-11-12")
    assert list(red.notifications.values_list("recipient__username", flat=True)) == ["leader"]


def test_emptying_a_threshold_brings_back_the_default(people):
    # Given the category's yellow card after 5 working days (red after 8), and a task three working days late on
    # Friday
    set_limits(people, at("2026-11-02"), yellow_after_days=5, red_after_days=8)
    task = given_task(people, due_on=date(2026, 11, 3))
    sweep_at(at("2026-11-06", 10))
    assert carded(Kind.TASK_YELLOW) == set()

    # When an administrator empties the box (a form sends an empty text)
    category = set_limits(people, at("2026-11-06", 11), yellow_after_days="")
    sweep_at(at("2026-11-06", 12))

    # Then the default of 2 applies again
    assert category.yellow_after_days is None
    assert carded(Kind.TASK_YELLOW) == {task.pk}


def test_a_late_acceptance_escalates_by_its_category(people):
    # Given the zone's category escalates a late acceptance after 1 working day (the default is 2)
    set_limits(people, at("2026-11-02"), accept_escalate_after_days=1)
    with frozen(at("2026-11-02")):
        quick = case_at(people, CS.SUBMITTED)
        default = make_case(
            status=CS.SUBMITTED,
            enterprise_user=people.enterprise_user,
            concierge=people.concierge,
            category=people.other_category,
            unit=people.task_force,
            worker=people.member,
        )
    assert quick.accept_due_on == default.accept_due_on == date(2026, 11, 3)

    # When the sweep runs on Wednesday, one working day late
    sweep_at(at("2026-11-04"))

    # Then the linked leader hears of the case of the quicker category only
    escalated = Reminder.objects.filter(kind=Kind.ACCEPT_ESCALATED)
    assert list(escalated.values_list("case_id", flat=True)) == [quick.pk]
    assert set(Reminder.objects.filter(kind=Kind.ACCEPT_OVERDUE).values_list("case_id", flat=True)) == {
        quick.pk,
        default.pk,
    }


def test_a_case_sent_back_escalates_by_its_category(people):
    # Given the category escalates after 3 working days, and a case sent back on Tuesday 11-03, to be taken up by
    # Wednesday
    set_limits(people, at("2026-11-02"), accept_escalate_after_days=3)
    with frozen(at("2026-11-02")):
        case = case_at(people, CS.RESOLVED)
    with frozen(at("2026-11-03")):
        run_case_action(people, "reopen", case)

    # When the sweep runs on Friday (two working days late) and Monday 11-09 (three)
    sweep_at(at("2026-11-06"))
    assert not Reminder.objects.filter(kind=Kind.REDO_ESCALATED).exists()
    sweep_at(at("2026-11-09"))

    # Then the escalation came on Monday, not Friday as the default would have it
    assert Reminder.objects.get(kind=Kind.REDO_ESCALATED).created_at == at("2026-11-09")


# The leader's cards ----------------------------------------------------------------------------------------------


def test_the_leaders_cards_follow_the_category_thresholds(people):
    # Given two tasks three working days late on Friday 11-06: one of a category giving the yellow card after 4
    # working days, one of a category with the defaults (yellow 2, red 5)
    set_limits(people, at("2026-11-02"), yellow_after_days=4)
    task = given_task(people, due_on=date(2026, 11, 3))
    other = given_task(people, due_on=date(2026, 11, 3), category=people.other_category)
    friday = date(2026, 11, 6)

    def cards() -> dict[str, tuple[int, set[int]]]:
        figures = attention(people.leader, friday)
        return {card: (figures[card][0], {t.pk for t in figures[card][1]}) for card in ("red", "yellow")}

    # Then the leader sees only the other one yellow
    assert cards() == {"red": (0, set()), "yellow": (1, {other.pk})}

    # When the category's yellow card comes after 3 working days
    set_limits(people, at("2026-11-06", 9), yellow_after_days=3)
    # Then both are yellow
    assert cards() == {"red": (0, set()), "yellow": (2, {task.pk, other.pk})}

    # When its red card comes after 3 working days too (and the yellow after 2)
    set_limits(people, at("2026-11-06", 10), yellow_after_days=2, red_after_days=3)
    # Then that task is red and no longer yellow
    assert cards() == {"red": (1, {task.pk}), "yellow": (1, {other.pk})}


def test_a_paused_case_carries_no_card(people):
    # Given two tasks five working days late on Tuesday 11-10, one of them on a case that is paused (挂起)
    task = given_task(people, due_on=date(2026, 11, 3))
    other = given_task(people, due_on=date(2026, 11, 3))
    Case.objects.filter(pk=task.case_id).update(clock_paused_at=at("2026-11-04"))
    # Then the leader sees the other one only
    figures = attention(people.leader, date(2026, 11, 10))
    assert (figures["red"][0], [t.pk for t in figures["red"][1]]) == (1, [other.pk])
    assert figures["yellow"][0] == 0


# Each change recorded -----------------------------------------------------------------------------------------------


def test_each_changed_field_is_recorded_with_who_and_from_what_to_what(people):
    # Given the category as seeded: accept in 1, tasks in 10, verdict in 5 working days; no thresholds of its own
    category = people.category

    # When an administrator sets yellow 3 and red 6, tasks in 12 days, and sends the acceptance limit unchanged
    with frozen(at("2026-11-04", 15, 30)):
        saved = change_category_limits(
            actor=people.admin, category=category, accept_days=1, task_days=12, yellow_after_days=3, red_after_days=6
        )

    # Then the category has them
    category.refresh_from_db()
    assert (category.task_days, category.yellow_after_days, category.red_after_days) == (12, 3, 6)
    assert saved.pk == category.pk
    # And one record per field that changed — not the unchanged one — with who, when, and old → new in words
    rows = ReferenceChange.objects.order_by("id")
    assert [(r.field, r.field_label, r.old_value, r.new_value) for r in rows] == [
        ("task_days", "办理时限（工作日）", "10 个工作日", "12 个工作日"),
        ("yellow_after_days", "黄牌督办（逾期工作日）", "系统默认（2 个工作日）", "3 个工作日"),
        ("red_after_days", "红牌督办（逾期工作日）", "系统默认（5 个工作日）", "6 个工作日"),
    ]
    assert {(r.actor_id, r.model, r.object_id, r.object_repr) for r in rows} == {
        (people.admin.pk, "tracker.category", category.pk, "用地空间")
    }
    assert {r.created_at for r in rows} == {at("2026-11-04", 15, 30)}

    # When the same values are sent again: nothing is recorded
    change_category_limits(actor=people.admin, category=category.pk, task_days=12, yellow_after_days=3)
    assert ReferenceChange.objects.count() == 3

    # When the yellow threshold is emptied: the record says what empty means
    change_category_limits(actor=people.admin, category=category, yellow_after_days=None)
    last = ReferenceChange.objects.order_by("id").last()
    assert (last.old_value, last.new_value) == ("3 个工作日", "系统默认（2 个工作日）")
    assert reference.category_changes(category).first().field == "yellow_after_days"  # newest first


@pytest.mark.parametrize("who", ["concierge", "leader", "officer", "member"])
def test_only_administrators_change_a_categorys_limits(people, who):
    # When anyone but an administrator tries
    with pytest.raises(NotPermitted):
        change_category_limits(actor=getattr(people, who), category=people.category, task_days=3, yellow_after_days=1)
    # Then nothing changed and nothing was recorded
    people.category.refresh_from_db()
    assert (people.category.task_days, people.category.yellow_after_days) == (10, None)
    assert not ReferenceChange.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("yellow_after_days", "abc", "请填写整数"),
        ("yellow_after_days", 0, "请填写 1 至 60 之间的整数"),
        ("red_after_days", 61, "请填写 1 至 60 之间的整数"),
        ("accept_escalate_after_days", -1, "请填写 1 至 60 之间的整数"),
        ("accept_escalate_after_days", "9" * 5000, "请填写 1 至 60 之间的整数"),
        ("task_days", None, "此项不能为空"),
        ("task_days", "  ", "此项不能为空"),
        ("verdict_days", 2.5, "请填写整数"),
        ("accept_days", True, "请填写整数"),
        ("accept_days", "３", "请填写整数"),  # a full-width digit is not what the form's number box sends
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_changes(people, field, value, message):
    # When an administrator sends a bad value, with a good one beside it
    good = "task_days" if field != "task_days" else "verdict_days"
    with pytest.raises(InvalidInput) as refused:
        change_category_limits(actor=people.admin, category=people.category, **{field: value, good: 7})
    # Then the refusal names the field, and nothing changed or was recorded
    assert refused.value.fields == {field: [message]}
    category = Category.objects.get(pk=people.category.pk)
    assert (category.accept_days, category.task_days, category.verdict_days) == (1, 10, 5)
    assert (category.yellow_after_days, category.red_after_days, category.accept_escalate_after_days) == (None,) * 3
    assert not ReferenceChange.objects.exists()


def test_every_bad_field_is_named_at_once(people):
    with pytest.raises(InvalidInput) as refused:
        change_category_limits(
            actor=people.admin, category=people.category, accept_days=0, task_days="十", red_after_days=99
        )
    assert set(refused.value.fields) == {"accept_days", "task_days", "red_after_days"}


@pytest.mark.parametrize(
    ("stored", "limits", "named"),
    [
        ({}, {"yellow_after_days": 5, "red_after_days": 5}, "red_after_days"),
        # red left empty means the default 5: a yellow card after 6 would come after it
        ({}, {"yellow_after_days": 6}, "yellow_after_days"),
        # (a form sends both: the one that changed is named)
        ({}, {"yellow_after_days": 6, "red_after_days": None}, "yellow_after_days"),
        (
            {"yellow_after_days": 3, "red_after_days": 6},
            {"yellow_after_days": 3, "red_after_days": 3},
            "red_after_days",
        ),
        # yellow left empty means the default 2
        ({}, {"red_after_days": 2}, "red_after_days"),
        # the category's own yellow of 4 stands when only red is sent
        ({"yellow_after_days": 4}, {"red_after_days": 3}, "red_after_days"),
    ],
)
def test_the_red_card_must_come_after_the_yellow_one(people, stored, limits, named):
    Category.objects.filter(pk=people.category.pk).update(**stored)
    with pytest.raises(InvalidInput) as refused:
        change_category_limits(actor=people.admin, category=people.category, **limits)
    assert list(refused.value.fields) == [named]
    assert "红牌督办应晚于黄牌督办" in refused.value.fields[named][0]
    assert not ReferenceChange.objects.exists()


def test_text_from_a_form_is_read_as_whole_days(people):
    # A number typed with spaces, an empty threshold (the default), a later red against the default yellow
    category = change_category_limits(
        actor=people.admin, category=people.category, task_days=" 15 ", red_after_days="3", yellow_after_days=""
    )
    assert (category.task_days, category.red_after_days, category.yellow_after_days) == (15, 3, None)
    assert reference.thresholds_of(category) == reference.Thresholds(yellow=2, red=3, accept_escalate=2)


def test_a_missing_category_is_not_found(people):
    from services.errors import NotFound

    with pytest.raises(NotFound):
        change_category_limits(actor=people.admin, category=10**6, task_days=3)


# Reading every category's thresholds ------------------------------------------------------------------------------


def test_every_categorys_thresholds_are_read_in_one_query(people, django_assert_num_queries, settings):
    # Given categories with their own thresholds, some in part, and the rest with none
    for n in range(5):
        CategoryFactory(code=f"c{n}", yellow_after_days=3 + n, red_after_days=None if n % 2 else 10)
    settings.REMINDER_RED_AFTER_DAYS = 9
    # When they are read
    with django_assert_num_queries(1):
        thresholds = reference.category_thresholds()
    # Then each has its own value or the default
    assert len(thresholds) == Category.objects.count() == 7
    assert thresholds[people.category.pk] == reference.Thresholds(yellow=2, red=9, accept_escalate=2)
    c1 = Category.objects.get(code="c1")
    assert thresholds[c1.pk] == reference.Thresholds(yellow=4, red=9, accept_escalate=2)
    assert thresholds[Category.objects.get(code="c2").pk] == reference.Thresholds(yellow=5, red=10, accept_escalate=2)
