"""Confirming a year's holiday schedule counts its open deadlines again (services/time/reschedule.py,
docs/states-and-roles.md).

chinesecalendar 1.11 knows nothing of 2027, so until an administrator confirms it a 2027 deadline counts only the
statutory holidays and weekends: Spring Festival is 除夕 Fri 02-05 to 初三 Mon 02-08, and Tue 02-09 is a working day
by law alone. The notice used here makes Tue 02-09 a bridging rest day and Sat 02-20 a make-up working day (调休);
for National Day, Sat 09-25 a make-up working day. The clock is stopped (time-machine) at each moment named.
"""

from datetime import date

import chinese_calendar
import pytest

from services.cases import steps as case_services
from services.cases import tasks as task_services
from services.cases.tasks import TaskSpec
from services.cases.timeline import describe_event
from services.roles import Role
from services.time import holidays, reminders, reschedule
from services.time.reschedule import RescheduleResult
from tests.factories import HolidayOverrideFactory, UserFactory, at, case_at, frozen, task_at
from tracker.models import Case, CaseEvent, HolidayYear, Notification, Reminder, Task

pytestmark = pytest.mark.django_db

CS = Case.Status
MOVED = CaseEvent.Kind.DEADLINE_RESCHEDULED


@pytest.fixture(autouse=True)
def eager_celery(settings):
    """Tasks run in the caller's thread, as soon as the confirmation commits; their errors surface."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_TASK_EAGER_PROPAGATES = True
    settings.REMINDER_DAY_START_HOUR = 9
    settings.REMINDER_DAY_END_HOUR = 18


@pytest.fixture
def short_limits(zone):
    """Tasks due in 3 working days, acceptance in 1, the verdict in 5: counts that cross Spring Festival."""
    zone.category.task_days, zone.category.accept_days, zone.category.verdict_days = 3, 1, 5
    zone.category.save(update_fields=["task_days", "accept_days", "verdict_days"])
    return zone


def test_2027_is_a_year_the_library_does_not_know():
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 4))


def enter_spring_festival_notice() -> None:
    HolidayOverrideFactory(date=date(2027, 2, 9), is_working_day=False, note="春节")
    HolidayOverrideFactory(date=date(2027, 2, 20), is_working_day=True, note="春节调休上班")


def confirm_2027(zone, capture, moment) -> None:
    """The administrator confirms 2027 at `moment`; the recount runs once the confirmation commits."""
    with frozen(moment), capture(execute=True):
        holidays.mark_year_complete(actor=zone.admin, year=2027, note="国办发明电〔2026〕X号")


def given_task(zone, made, **spec) -> Task:
    with frozen(made):
        case = case_at(zone, CS.ACCEPTED)
        (task,) = task_services.decompose_case(
            actor=zone.concierge, case=case, tasks=[TaskSpec(title="落实用地指标", task_force=zone.task_force, **spec)]
        )
    return Task.objects.get(pk=task.pk)


def told(kind: str) -> list[str]:
    return sorted(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


def test_each_step_that_sets_a_task_deadline_keeps_what_it_counts(zone):
    # 2026, as the library knows it: 10-01..07 National Day, Sat 10-10 worked
    # Given a returned task re-dispatched on Mon 2026-09-28 with a date typed on Sun 10-04 (moved to Thu 10-08)
    with frozen(at("2026-09-28")):
        returned = task_at(zone, Task.Status.RETURNED)
        task_services.redispatch_task(
            actor=zone.concierge, task=returned, department=zone.department, due_on=date(2026, 10, 4)
        )
    # Then it counts 3 working days from that day: 09-29, 09-30, 10-08
    redispatched = Task.objects.get(pk=returned.pk)
    assert (redispatched.due_on, redispatched.due_counted_from, redispatched.due_working_days) == (
        date(2026, 10, 8),
        date(2026, 9, 28),
        3,
    )
    # Given a done task sent back on Thu 2026-11-05 without a date: the category's 10 working days
    with frozen(at("2026-11-05")):
        done = task_at(zone, Task.Status.DONE)
        task_services.reopen_task(actor=zone.concierge, task=done, note="企业不满意，请重办")
    reopened = Task.objects.get(pk=done.pk)
    assert (reopened.due_on, reopened.due_counted_from, reopened.due_working_days) == (
        date(2026, 11, 19),
        date(2026, 11, 5),
        10,
    )
    # Given an extension to Fri 11-27 asked on Mon 11-09 and approved on Wed 11-11
    with frozen(at("2026-11-09")):
        working = task_at(zone, Task.Status.IN_PROGRESS)
        extension = task_services.request_extension(
            actor=zone.member, task=working, requested_due_on=date(2026, 11, 27), reason="等待批复"
        )
    with frozen(at("2026-11-11")):
        task_services.approve_extension(actor=zone.leader, extension=extension, note="同意")
    # Then it counts from the decision: 11-12 to 11-27, 12 working days
    extended = Task.objects.get(pk=working.pk)
    assert (extended.due_on, extended.due_counted_from, extended.due_working_days) == (
        date(2026, 11, 27),
        date(2026, 11, 11),
        12,
    )


def test_a_task_counted_across_a_bridging_day_moves_by_it_and_its_reminder_is_sent_again(
    short_limits, django_capture_on_commit_callbacks
):
    zone = short_limits
    zone.task_force.members.add(UserFactory(username="member2", roles=[Role.TASK_FORCE_MEMBER]))
    # Given a task given on Tue 2027-02-02 for 3 working days: by law alone 02-03, 02-04 and then Tue 02-09
    task = given_task(zone, at("2027-02-02"))
    assert (task.due_on, task.due_is_provisional) == (date(2027, 2, 9), True)
    assert (task.due_counted_from, task.due_working_days) == (date(2027, 2, 2), 3)
    # and on Thu 02-04 its workers were reminded that it is due on the next working day
    with frozen(at("2027-02-04", 10)):
        reminders.sweep()
    assert told(Reminder.Kind.TASK_DUE_TOMORROW) == ["member", "member2"]

    # When an administrator enters the notice (02-09 a bridging rest day) and confirms 2027
    with frozen(at("2027-02-04", 14)):
        enter_spring_festival_notice()
    confirm_2027(zone, django_capture_on_commit_callbacks, at("2027-02-04", 15))

    # Then the task is due a working day later, and firm
    moved = Task.objects.get(pk=task.pk)
    assert (moved.due_on, moved.due_is_provisional, moved.version) == (date(2027, 2, 10), False, task.version + 1)
    # with one event on its case's timeline, in words
    (event,) = CaseEvent.objects.filter(kind=MOVED)
    assert (event.case_id, event.task_id, event.actor) == (task.case_id, task.pk, None)
    assert {k: event.data[k] for k in ("field", "from", "to", "year")} == {
        "field": "due_on",
        "from": "2027-02-09",
        "to": "2027-02-10",
        "year": 2027,
    }
    assert describe_event(event) == "按 2027 年节假日安排，“落实用地指标”的办理期限由 2027-02-09 调整为 2027-02-10"
    # and one notice for each of its workers, none for anyone else
    assert told(Notification.Kind.DEADLINE_MOVED) == ["member", "member2"]
    assert {n.note for n in Notification.objects.filter(kind=Notification.Kind.DEADLINE_MOVED)} == {
        "2027-02-09 → 2027-02-10"
    }

    # And the next sweeps remind the workers again, once, of the new deadline
    for minute in (0, 5):
        with frozen(at("2027-02-04", 16, minute)):
            reminders.sweep()
    reminder_log = sorted(Reminder.objects.values_list("kind", "deadline"))
    assert reminder_log == [
        (Reminder.Kind.TASK_DUE_TOMORROW, date(2027, 2, 9)),
        (Reminder.Kind.TASK_DUE_TOMORROW, date(2027, 2, 10)),
    ]
    again = Notification.objects.filter(reminder__deadline=date(2027, 2, 10))
    assert sorted(again.values_list("recipient__username", flat=True)) == ["member", "member2"]

    # And counting again changes nothing and writes nothing
    notices, version = Notification.objects.count(), Case.objects.get(pk=task.case_id).version
    with frozen(at("2027-02-04", 17)):
        assert reschedule.reschedule_year(year=2027) == RescheduleResult(year=2027, cases=0, moved=0, flagged=0)
    assert Task.objects.get(pk=task.pk).version == moved.version
    assert CaseEvent.objects.filter(kind=MOVED).count() == 1
    assert (Notification.objects.count(), Case.objects.get(pk=task.case_id).version) == (notices, version)


def _submitted(zone) -> Case:
    return case_services.submit_case(
        actor=zone.enterprise_user,
        enterprise=zone.enterprise,
        category=zone.category,
        title="新厂房用地指标",
        description="扩产需要新增用地。",
    )


def _sent_back(zone) -> Case:
    case = case_at(zone, CS.RESOLVED)
    case_services.reopen_case(actor=zone.enterprise_user, case=case, reason="答复未解决实际问题")  # the verdict
    return case


@pytest.mark.parametrize(
    ("make", "field"),
    [(_submitted, "accept_due_on"), (_sent_back, "redo_due_on")],
    ids=["acceptance", "redo"],
)
def test_a_case_deadline_of_the_concierge_moves_and_the_concierge_is_told(short_limits, make, field):
    zone = short_limits
    # Given on Thu 2027-02-04 a case whose concierge has 1 working day: by law alone Tue 02-09
    with frozen(at("2027-02-04")):
        case = make(zone)
    case = Case.objects.get(pk=case.pk)
    assert getattr(case, field) == date(2027, 2, 9)
    # When the notice is entered and 2027 confirmed, and the recount is run
    with frozen(at("2027-02-04", 15)):
        enter_spring_festival_notice()
        holidays.mark_year_complete(actor=zone.admin, year=2027)
        result = reschedule.reschedule_year(year=2027)
    # Then the deadline is the next working day after the holiday, with one event, and the concierge is told
    assert result == RescheduleResult(year=2027, cases=1, moved=1, flagged=0)
    moved = Case.objects.get(pk=case.pk)
    assert getattr(moved, field) == date(2027, 2, 10)
    assert moved.version == case.version + 1
    (event,) = moved.events.filter(kind=MOVED)
    assert (event.task_id, event.data["field"], event.data["from"], event.data["to"]) == (
        None,
        field,
        "2027-02-09",
        "2027-02-10",
    )
    assert told(Notification.Kind.DEADLINE_MOVED) == ["concierge"]


def test_the_enterprises_verdict_deadline_moves_and_the_enterprise_is_told(short_limits):
    zone = short_limits
    # Given a case answered on Tue 2027-02-02: 5 working days for the verdict, by law alone to Thu 02-11
    with frozen(at("2027-02-02")):
        case = case_at(zone, CS.RESOLVED)
    assert case.verdict_due_on == date(2027, 2, 11)
    # When 2027 is confirmed with 02-09 a rest day
    with frozen(at("2027-02-04", 15)):
        enter_spring_festival_notice()
        holidays.mark_year_complete(actor=zone.admin, year=2027)
        reschedule.reschedule_year(year=2027)
    # Then the enterprise has a day more, and its users (not staff) are told
    moved = Case.objects.get(pk=case.pk)
    assert moved.verdict_due_on == date(2027, 2, 12)
    sentence = describe_event(moved.events.get(kind=MOVED))
    assert sentence == "按 2027 年节假日安排，验收期限由 2027-02-11 调整为 2027-02-12"
    assert told(Notification.Kind.DEADLINE_MOVED) == ["ent_user"]


def test_a_deadline_kept_without_its_count_only_moves_off_a_day_now_at_rest(short_limits):
    zone = short_limits
    # Given two older tasks that do not say what they count, due Tue 02-09 and Thu 02-04
    on_the_bridge = given_task(zone, at("2027-02-02"))
    before_it = given_task(zone, at("2027-02-02"), due_on=date(2027, 2, 4))
    Task.objects.update(due_counted_from=None, due_working_days=None)
    assert Task.objects.get(pk=before_it.pk).due_is_provisional is True  # its count crossed nothing yet known
    # When 2027 is confirmed with 02-09 a rest day
    with frozen(at("2027-02-03", 15)):
        enter_spring_festival_notice()
        holidays.mark_year_complete(actor=zone.admin, year=2027)
        result = reschedule.reschedule_year(year=2027)
    # Then the one due on the new rest day runs to the next working day, with its event
    moved = Task.objects.get(pk=on_the_bridge.pk)
    assert (moved.due_on, moved.due_is_provisional) == (date(2027, 2, 10), False)
    assert [e.task_id for e in CaseEvent.objects.filter(kind=MOVED)] == [on_the_bridge.pk]
    # and the other keeps its date, now firm, with no event and the same version (an open form stays valid)
    kept = Task.objects.get(pk=before_it.pk)
    assert (kept.due_on, kept.due_is_provisional, kept.version) == (date(2027, 2, 4), False, before_it.version)
    assert result == RescheduleResult(year=2027, cases=2, moved=1, flagged=1)


def test_a_make_up_working_saturday_pulls_a_deadline_earlier(short_limits):
    zone = short_limits
    zone.category.task_days = 2
    zone.category.save(update_fields=["task_days"])
    # Given a task given on Thu 2027-09-23 for 2 working days: by law alone Fri 09-24 and Mon 09-27
    task = given_task(zone, at("2027-09-23"))
    assert task.due_on == date(2027, 9, 27)
    # When the notice makes Sat 09-25 a working day (调休上班 for National Day) and 2027 is confirmed
    with frozen(at("2027-09-23", 15)):
        HolidayOverrideFactory(date=date(2027, 9, 25), is_working_day=True, note="国庆节调休上班")
        for day in (4, 5, 6, 7):
            HolidayOverrideFactory(date=date(2027, 10, day), is_working_day=False, note="国庆节")
        holidays.mark_year_complete(actor=zone.admin, year=2027)
        reschedule.reschedule_year(year=2027)
    # Then the second working day is the Saturday
    moved = Task.objects.get(pk=task.pk)
    assert (moved.due_on, moved.due_is_provisional) == (date(2027, 9, 25), False)
    assert CaseEvent.objects.get(kind=MOVED).data["to"] == "2027-09-25"
    assert told(Notification.Kind.DEADLINE_MOVED) == ["member"]


def test_a_year_reopened_moves_nothing_and_only_its_deadlines_are_provisional_again(
    short_limits, django_capture_on_commit_callbacks
):
    zone = short_limits
    # Given a task moved to Wed 02-10 when 2027 was confirmed
    task = given_task(zone, at("2027-02-02"))
    with frozen(at("2027-02-03", 14)):
        enter_spring_festival_notice()
    confirm_2027(zone, django_capture_on_commit_callbacks, at("2027-02-03", 15))
    assert Task.objects.get(pk=task.pk).due_on == date(2027, 2, 10)
    events = CaseEvent.objects.count()
    # When the administrator reopens the year (deletes the confirmation): nothing is triggered
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        HolidayYear.objects.filter(year=2027).delete()
    assert callbacks == []
    # and a recount of the reopened year moves nothing, writes no event, and marks the deadline provisional again
    with frozen(at("2027-02-03", 16)):
        result = reschedule.reschedule_year(year=2027)
    reopened = Task.objects.get(pk=task.pk)
    assert (reopened.due_on, reopened.due_is_provisional) == (date(2027, 2, 10), True)
    assert result == RescheduleResult(year=2027, cases=1, moved=0, flagged=1)
    assert CaseEvent.objects.count() == events


def test_finding_what_to_move_takes_the_same_queries_for_any_number_of_items(
    short_limits, django_assert_max_num_queries
):
    zone = short_limits
    # Given many open tasks and cases whose 2027 deadlines are already counted under the confirmed notice
    with frozen(at("2027-02-02", 9)):
        enter_spring_festival_notice()
        holidays.mark_year_complete(actor=zone.admin, year=2027)
    for _ in range(4):
        given_task(zone, at("2027-02-02"))
        with frozen(at("2027-02-02")):
            _submitted(zone)
    # When they are counted again
    # Then two queries load the calendar and two find that nothing moves: none per item
    with frozen(at("2027-02-03")), django_assert_max_num_queries(4):
        result = reschedule.reschedule_year(year=2027)
    assert result == RescheduleResult(year=2027, cases=0, moved=0, flagged=0)


def test_the_command_runs_the_recount_again_and_says_what_it_did(db):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("reschedule_deadlines", "2027", stdout=out)
    assert out.getvalue().strip() == "2027: 0 deadlines moved, 0 provisional flags changed, in 0 cases"


def test_older_deadlines_left_on_a_rest_day_of_a_known_year_move_when_the_command_runs(zone):
    # Given an older task (kept without its count) due on Sat 2026-12-05, as dates were kept before they moved
    task = given_task(zone, at("2026-11-23"), due_on=date(2026, 12, 7))
    Task.objects.filter(pk=task.pk).update(due_on=date(2026, 12, 5), due_counted_from=None, due_working_days=None)
    # When the recount runs for 2026, a year the library knows (no administrator confirms it)
    with frozen(at("2026-12-01", 9)):
        result = reschedule.reschedule_year(year=2026)
    # Then the task is due on the next working day, Mon 12-07, with its event
    assert Task.objects.get(pk=task.pk).due_on == date(2026, 12, 7)
    assert (result.moved, CaseEvent.objects.filter(kind=MOVED, task=task).count()) == (1, 1)
