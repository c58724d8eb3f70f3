"""Paused clocks (挂起, services/cases/clocks.py): asking the enterprise for information stops the case's clocks; its
answer, the concierge or a leader starts them again, and every running deadline keeps the working days it had."""

from datetime import date

import pytest
from django.db import connection

from services.cases import attachments as attachment_services
from services.cases import steps as case_services
from services.cases import tasks as task_services
from services.cases.clocks import long_pauses_q
from services.cases.progress import next_step
from services.cases.tasks import TaskSpec
from services.cases.timeline import describe_event
from services.errors import IllegalTransition, NotFound
from services.permissions import case_actions_for
from services.time.deadlines import annotate_case_deadlines, overdue_cases_q, overdue_tasks_q
from tests.factories import at, case_at, frozen, pdf, race
from tracker.models import Case, CaseEvent, ClockPause, Notification, Task

CS = Case.Status
Kind = CaseEvent.Kind


def _ask(zone, case, *, day="2026-11-02", pause=True):
    with frozen(at(day, 11)):
        return case_services.request_case_info(
            actor=zone.concierge, case=case, note="请提供用地红线图和厂房平面图", pause=pause
        )


def _answer(zone, case, day):
    with frozen(at(day, 15)):
        return case_services.add_case_info(actor=zone.enterprise_user, case=case, note="已上传红线图")


@pytest.fixture
def working(zone):
    """A case in progress since Monday 2026-11-02 with one task due in 10 working days (Monday 2026-11-16)."""
    with frozen(at("2026-11-02", 9)):
        case = case_at(zone, CS.IN_PROGRESS)
    task = case.tasks.get()
    assert task.due_on == date(2026, 11, 16)
    return case


def test_a_pause_of_three_working_days_moves_every_deadline_by_three(zone, working):
    with frozen(at("2026-11-02", 9, 30)):
        (second,) = task_services.decompose_case(
            actor=zone.concierge,
            case=working,
            tasks=[TaskSpec(title="核实消防验收", department=zone.department, due_on=date(2026, 11, 20))],
        )
    _ask(zone, working)
    paused = Case.objects.get(pk=working.pk)
    assert paused.clock_paused_at is not None
    pause = ClockPause.objects.get(case=working)
    assert (pause.paused_by, pause.reason, pause.ended_at) == (zone.concierge, "请提供用地红线图和厂房平面图", None)

    _answer(zone, working, "2026-11-05")  # Monday to Thursday: three working days

    case = Case.objects.get(pk=working.pk)
    assert case.clock_paused_at is None
    due = dict(case.tasks.values_list("title", "due_on"))
    assert due == {"协调规划许可": date(2026, 11, 19), "核实消防验收": date(2026, 11, 25)}
    pause.refresh_from_db()
    assert (pause.working_days, pause.end_reason, pause.ended_by) == (
        3,
        ClockPause.EndedBy.ANSWERED,
        zone.enterprise_user,
    )
    resumed = case.events.get(kind=Kind.CLOCK_RESUMED)
    assert resumed.data["days"] == 3
    assert {(m["title"], m["from"], m["to"]) for m in resumed.data["moved"]} == {
        ("协调规划许可", "2026-11-16", "2026-11-19"),
        ("核实消防验收", "2026-11-20", "2026-11-25"),
    }
    second.refresh_from_db()
    assert second.due_working_days == 14 + 3  # what the deadline counts keeps the pause's days


def test_the_units_and_the_concierge_hear_of_the_pause_and_of_the_new_deadlines(zone, working):
    _ask(zone, working)
    assert set(
        Notification.objects.filter(kind=Notification.Kind.CLOCK_PAUSED).values_list("recipient", flat=True)
    ) == {
        zone.member.pk,
        zone.task_force.lead_id,
    } - {None}
    _answer(zone, working, "2026-11-05")
    told = set(Notification.objects.filter(kind=Notification.Kind.CLOCK_RESUMED).values_list("recipient", flat=True))
    assert zone.member.pk in told and zone.concierge.pk in told
    assert zone.enterprise_user.pk not in told  # the enterprise answered: it is the news, not told of it


def test_a_case_waiting_for_acceptance_keeps_its_acceptance_days(zone):
    with frozen(at("2026-11-02", 9)):
        case = case_at(zone, CS.SUBMITTED)
    assert case.accept_due_on == date(2026, 11, 3)
    _ask(zone, case)
    _answer(zone, case, "2026-11-04")
    case.refresh_from_db()
    assert case.accept_due_on == date(2026, 11, 5)
    assert case.deadline_working_days == zone.category.accept_days + 2


def test_while_paused_nothing_is_overdue_or_coming_due(zone, working):
    _ask(zone, working)
    late = date(2026, 12, 1)
    assert not Case.objects.filter(overdue_cases_q(late)).exists()
    assert not Task.objects.filter(overdue_tasks_q(late)).exists()
    listed = annotate_case_deadlines(Case.objects.filter(pk=working.pk), late).get()
    assert (listed.is_overdue, listed.next_due) == (False, None)
    _answer(zone, working, "2026-11-05")
    assert Case.objects.filter(overdue_cases_q(late)).exists()


def test_asking_without_pausing_leaves_the_clocks_running(zone, working):
    _ask(zone, working, pause=False)
    assert Case.objects.get(pk=working.pk).clock_paused_at is None
    assert not ClockPause.objects.exists()
    _answer(zone, working, "2026-11-05")
    assert working.tasks.get().due_on == date(2026, 11, 16)


def test_asking_again_while_paused_keeps_the_first_pause(zone, working):
    _ask(zone, working)
    _ask(zone, working, day="2026-11-03")
    assert ClockPause.objects.filter(case=working).count() == 1
    assert working.events.filter(kind=Kind.INFO_REQUESTED).count() == 2


def test_a_leader_resumes_a_long_pause(zone, working):
    _ask(zone, working)
    case = Case.objects.get(pk=working.pk)
    assert "resume_clock" in case_actions_for(zone.leader, case)
    assert "resume_clock" not in case_actions_for(zone.enterprise_user, case)
    assert Case.objects.filter(long_pauses_q(date(2026, 11, 17))).filter(pk=case.pk).exists()
    assert not Case.objects.filter(long_pauses_q(date(2026, 11, 13))).exists()
    with frozen(at("2026-11-17", 10)):
        case_services.resume_case_clock(actor=zone.leader, case=case, note="等待过久，先行办理")
    case.refresh_from_db()
    assert case.clock_paused_at is None
    assert working.tasks.get().due_on == date(2026, 12, 1)  # the 16th + 11 working days
    event = case.events.get(kind=Kind.CLOCK_RESUMED)
    assert describe_event(event).startswith(
        "吴主任 恢复计时（挂起 11 个工作日），期限顺延：协调规划许可 由 2026-11-16 至 2026-12-01"
    )


def test_resuming_a_running_clock_is_refused_and_the_enterprise_cannot(zone, working):
    with pytest.raises(IllegalTransition):
        case_services.resume_case_clock(actor=zone.concierge, case=working)
    _ask(zone, working)
    with pytest.raises((NotFound, case_services.NotPermitted)):
        case_services.resume_case_clock(actor=zone.enterprise_user, case=working)
    assert Case.objects.get(pk=working.pk).clock_paused_at is not None


def test_a_task_given_during_the_pause_moves_only_by_the_days_it_lived(zone, working):
    _ask(zone, working)
    with frozen(at("2026-11-04", 9)):
        (late_task,) = task_services.decompose_case(
            actor=zone.concierge,
            case=working,
            tasks=[TaskSpec(title="补充环评意见", department=zone.department, due_on=date(2026, 11, 20))],
        )
    _answer(zone, working, "2026-11-05")
    late_task.refresh_from_db()
    assert late_task.due_on == date(2026, 11, 23)  # one working day lived paused (the 5th)


def test_files_alone_from_the_enterprise_end_the_pause(zone, working):
    _ask(zone, working)
    with frozen(at("2026-11-03", 15)):
        attachment_services.add_case_information(actor=zone.enterprise_user, case=working, uploads=[pdf()])
    case = Case.objects.get(pk=working.pk)
    assert case.clock_paused_at is None
    assert case.tasks.get().due_on == date(2026, 11, 17)


def test_a_staff_note_does_not_end_the_pause(zone, working):
    _ask(zone, working)
    with frozen(at("2026-11-03", 15)):
        case_services.add_case_info(actor=zone.concierge, case=working, note="已电话提醒企业")
    assert Case.objects.get(pk=working.pk).clock_paused_at is not None


def test_withdrawing_ends_the_pause_without_moving_anything(zone, working):
    _ask(zone, working)
    with frozen(at("2026-11-05", 15)):
        case_services.withdraw_case(actor=zone.enterprise_user, case=working, reason="已自行解决")
    pause = ClockPause.objects.get(case=working)
    assert (pause.end_reason, pause.working_days) == (ClockPause.EndedBy.CLOSED, 3)
    assert Case.objects.get(pk=working.pk).clock_paused_at is None
    assert working.events.get(kind=Kind.CLOCK_RESUMED).data["moved"] == []


def test_the_enterprise_reads_that_its_answer_is_awaited(zone, working):
    _ask(zone, working)
    step = next_step(Case.objects.get(pk=working.pk), date(2026, 11, 3))
    assert step.text == "等待您补充材料，办理时限已暂停"
    assert step.awaits_enterprise
    pause_event = working.events.get(kind=Kind.CLOCK_PAUSED)
    assert describe_event(pause_event) == "张三 将诉求挂起，办理时限暂停，等待企业补充材料"


def test_a_pause_and_its_end_are_each_one_event_in_the_same_transaction_as_the_request(zone, working):
    before = Case.objects.get(pk=working.pk).version
    _ask(zone, working)
    case = Case.objects.get(pk=working.pk)
    kinds = list(case.events.order_by("-id").values_list("kind", flat=True)[:2])
    assert kinds == [Kind.CLOCK_PAUSED, Kind.INFO_REQUESTED]
    assert case.version == before + 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks and real concurrency")
@pytest.mark.django_db(transaction=True)
def test_the_enterprise_answering_while_a_leader_resumes_moves_each_deadline_once(zone):
    # Given a case paused on Mon 2026-11-02 with one task due 11-16
    with frozen(at("2026-11-02", 9)):
        case = case_at(zone, CS.IN_PROGRESS)
    _ask(zone, case)
    # When, on Thu 11-05, the enterprise answers and a leader resumes the clock at the same moment
    with frozen(at("2026-11-05", 15)):
        outcomes = race(
            lambda: case_services.add_case_info(actor=zone.enterprise_user, case=case.pk, note="已上传红线图"),
            lambda: case_services.resume_case_clock(actor=zone.leader, case=case.pk, note="先行办理"),
        )
    # Then the answer is kept; either the leader resumed first, or was told there was nothing left to resume
    assert not isinstance(outcomes[0], Exception), outcomes[0]
    assert isinstance(outcomes[1], Case | IllegalTransition), outcomes[1]
    # And the pause ended once, the task moved by the three working days once
    assert ClockPause.objects.filter(case=case).count() == 1
    assert CaseEvent.objects.filter(case=case, kind=Kind.CLOCK_RESUMED).count() == 1
    assert Task.objects.get(case=case).due_on == date(2026, 11, 19)
