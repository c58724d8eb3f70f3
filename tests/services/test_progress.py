"""Where a case stands, told to the enterprise (services/cases/progress.py): what happens next, by when, and whether
it is late or waits on the enterprise."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from services.cases import tasks as task_services
from services.cases.progress import NextStep, annotate_answer_due, next_step
from services.cases.tasks import TaskSpec
from services.time import calendar
from tests.factories import case_at, run_case_action, run_task_action
from tracker.models import Case

CS = Case.Status
DUE = date(2026, 3, 5)


@pytest.mark.parametrize("today", [DUE - timedelta(days=1), DUE], ids=["before", "on-the-day"])
def test_a_submitted_case_waits_for_acceptance_by_its_due_date(today):
    # Given a submitted case due to be accepted on 5 March
    case = Case(status=CS.SUBMITTED, accept_due_on=DUE)
    # When the enterprise looks at it
    step = next_step(case, today)
    # Then it is told who acts next and by when
    assert step == NextStep("等待服务专员受理，预计 3月5日 前受理", DUE, awaits_enterprise=False, is_overdue=False)


def test_an_in_progress_case_waits_for_the_answer_by_the_latest_task_due_date():
    case = Case(status=CS.IN_PROGRESS)
    step = next_step(case, DUE, answer_due=DUE)
    assert step == NextStep("等待专班办理，预计 3月5日 前答复", DUE, is_overdue=False)


# Thursday 5 March 2026: Friday 6 is one working day later, Monday 9 two, Wednesday 11 four.
@pytest.mark.parametrize(
    ("today", "late"),
    [
        (date(2026, 3, 6), "已超期 1 个工作日"),
        (date(2026, 3, 8), "已超期 1 个工作日"),
        (date(2026, 3, 11), "已超期 4 个工作日"),
    ],
    ids=["friday", "sunday", "wednesday"],
)
def test_a_step_the_zone_is_late_on_says_by_how_many_working_days(db, today, late):
    # Given a case still waiting on the zone past its date
    submitted = Case(status=CS.SUBMITTED, accept_due_on=DUE)
    in_progress = Case(status=CS.IN_PROGRESS)
    # When the enterprise looks at it
    accept, answer = next_step(submitted, today), next_step(in_progress, today, answer_due=DUE)
    # Then it is told plainly that the zone is late, by how many working days — not that the past date is expected
    assert accept == NextStep(f"等待服务专员受理，原定 3月5日 前受理，{late}", DUE, is_overdue=True)
    assert answer == NextStep(f"专班仍在办理，原定 3月5日 前答复，{late}", DUE, is_overdue=True)
    assert "预计" not in accept.text + answer.text


def test_lateness_counts_working_days_across_a_holiday(db):
    # Given an answer due on Thursday 30 April 2026, before the 劳动节 holiday (1–5 May; Saturday 9 May is worked)
    case = Case(status=CS.IN_PROGRESS)
    # When the enterprise looks on Monday 11 May
    step = next_step(case, date(2026, 5, 11), answer_due=date(2026, 4, 30))
    # Then the holiday does not count: 6, 7, 8, 9 and 11 May are the five working days since
    assert step.text == "专班仍在办理，原定 4月30日 前答复，已超期 5 个工作日"


def test_the_day_after_a_friday_deadline_says_it_has_passed(db):
    # Given an acceptance due on Friday 6 March 2026, looked at on Saturday 7 (no working day late yet)
    step = next_step(Case(status=CS.SUBMITTED, accept_due_on=date(2026, 3, 6)), date(2026, 3, 7))
    # Then the past date is not shown as expected: the deadline has passed
    assert step == NextStep("等待服务专员受理，原定 3月6日 前受理，已超过期限", date(2026, 3, 6), is_overdue=True)


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (CS.ACCEPTED, "服务专员已受理，正在分解交办"),
        (CS.CLOSED, "已办结，感谢您的评价"),
        (CS.DECLINED, "不予受理，原因见办理记录"),
        (CS.WITHDRAWN, "您已撤回此诉求"),
    ],
)
def test_a_case_with_no_date_ahead_says_where_it_stands(status, text):
    step = next_step(Case(status=status, accept_due_on=DUE), DUE + timedelta(days=30))
    assert step == NextStep(text)


def test_a_resolved_case_waits_on_the_enterprise_verdict_by_its_due_date():
    # Given an answered case whose verdict is due on 5 March
    case = Case(status=CS.RESOLVED, verdict_due_on=DUE)
    # When the enterprise looks at it
    step = next_step(case, DUE - timedelta(days=2))
    # Then it is asked to confirm or object by then
    assert step == NextStep("已答复，请您在 3月5日 前验收：确认办结或提出意见", DUE, awaits_enterprise=True)
    # And without a verdict date it is asked all the same
    undated = next_step(Case(status=CS.RESOLVED, verdict_due_on=None), DUE)
    assert undated == NextStep("已答复，请您验收：确认办结或提出意见", None, awaits_enterprise=True)


def test_a_real_case_at_each_status_reads_its_own_dates(zone):
    # Given real cases walked through the services
    submitted = case_at(zone, CS.SUBMITTED)
    in_progress = case_at(zone, CS.IN_PROGRESS)
    resolved = case_at(zone, CS.RESOLVED)
    today = timezone.localdate()

    # Then each step's date is the one the case holds: acceptance, its task's deadline, the verdict window
    assert next_step(submitted, today).due_on == submitted.accept_due_on
    assert next_step(in_progress, today).due_on == in_progress.tasks.get().due_on
    assert resolved.verdict_due_on is not None
    assert next_step(resolved, today).due_on == resolved.verdict_due_on
    assert not any(next_step(case, today).is_overdue for case in (submitted, in_progress, resolved))


def test_the_answer_is_expected_by_the_latest_open_task_not_the_done_ones(zone):
    # Given an in-progress case with a task done late in the calendar, and two open ones due earlier
    case = case_at(zone, CS.IN_PROGRESS)
    done = case.tasks.get()
    today = timezone.localdate()
    _early, late = task_services.decompose_case(
        actor=zone.concierge,
        case=case,
        tasks=[
            TaskSpec(title="核实用地红线", task_force=zone.task_force, due_on=today + timedelta(days=3)),
            TaskSpec(title="核实用电容量", department=zone.department, due_on=today + timedelta(days=5)),
        ],
    )
    done.due_on = today + timedelta(days=60)
    done.save(update_fields=["due_on"])
    run_task_action(zone, "start", done)
    run_task_action(zone, "complete", done)

    # When the enterprise looks at it
    step = next_step(Case.objects.get(pk=case.pk), today)

    # Then the answer is expected by the later of the two open tasks
    assert step.due_on == late.due_on == today + timedelta(days=5)
    assert not step.is_overdue
    # And once that one is past, the case is late
    assert next_step(Case.objects.get(pk=case.pk), late.due_on + timedelta(days=1)).is_overdue


def test_with_every_task_done_the_case_waits_for_the_concierge_answer(zone):
    # Given an in-progress case whose only task is done
    case = case_at(zone, CS.IN_PROGRESS)
    task = case.tasks.get()
    run_task_action(zone, "start", task)
    run_task_action(zone, "complete", task)
    # When the enterprise looks at it, long after the task's deadline
    step = next_step(Case.objects.get(pk=case.pk), task.due_on + timedelta(days=30))
    # Then it waits for the concierge, with no date and nothing late
    assert step == NextStep("各事项已办结，等待服务专员答复")


def test_a_reopened_case_with_its_tasks_done_waits_for_the_concierge_by_the_redo_date(zone):
    # Given a case the enterprise sent back, its tasks all done
    case = case_at(zone, CS.RESOLVED)
    run_case_action(zone, "reopen", case)
    case = Case.objects.get(pk=case.pk)
    # When the enterprise looks at it
    step = next_step(case, timezone.localdate())
    # Then it waits for the concierge to take it up again, by the redo deadline
    redo = case.redo_due_on
    assert step == NextStep(f"您已退回重办，服务专员将在 {redo.month}月{redo.day}日 前重新安排办理", redo)
    # And once that date is past, it says how late the concierge is
    late = next_step(case, calendar.add_working_days(redo, 2).date)
    assert late.is_overdue and late.text.endswith("已超期 2 个工作日")
    # And once the concierge has reopened the task, the step is the unit's again
    run_task_action(zone, "reopen", case.tasks.get())
    assert next_step(Case.objects.get(pk=case.pk), timezone.localdate()).text.startswith("等待专班办理")


def test_annotate_answer_due_gives_each_case_the_latest_open_task_due_date(zone):
    # Given a submitted case, an in-progress case with two open tasks, and one whose task is done
    submitted = case_at(zone, CS.SUBMITTED)
    two_open = case_at(zone, CS.IN_PROGRESS)
    first = two_open.tasks.get()
    (later,) = task_services.decompose_case(
        actor=zone.concierge,
        case=two_open,
        tasks=[TaskSpec(title="核实用电容量", department=zone.department, due_on=first.due_on + timedelta(days=7))],
    )
    all_done = case_at(zone, CS.IN_PROGRESS)
    run_task_action(zone, "start", all_done.tasks.get())
    run_task_action(zone, "complete", all_done.tasks.get())

    # When the cases are listed with their answer dates
    due = dict(annotate_answer_due(Case.objects.all()).values_list("pk", "answer_due"))

    # Then each has the latest due date of its open tasks, or none
    assert due == {submitted.pk: None, two_open.pk: later.due_on, all_done.pk: None}


def test_a_list_of_cases_tells_each_next_step_in_one_query(zone, django_assert_num_queries):
    # Given cases at several statuses, two of them in progress (one with its task done)
    case_at(zone, CS.SUBMITTED)
    open_task = case_at(zone, CS.IN_PROGRESS)
    all_done = case_at(zone, CS.IN_PROGRESS)
    run_task_action(zone, "start", all_done.tasks.get())
    run_task_action(zone, "complete", all_done.tasks.get())
    case_at(zone, CS.RESOLVED)
    today = timezone.localdate()

    # When the enterprise's list is read, each case with its next step
    with django_assert_num_queries(1):
        steps = {case.pk: next_step(case, today) for case in annotate_answer_due(Case.objects.order_by("pk"))}

    # Then the two in-progress cases tell their own story without reading their tasks again
    assert steps[open_task.pk].due_on == open_task.tasks.get().due_on
    assert steps[all_done.pk] == NextStep("各事项已办结，等待服务专员答复")
    assert len(steps) == 4
