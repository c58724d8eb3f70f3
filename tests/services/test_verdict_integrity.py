"""Verdicts that mean what they say: a callback (电话回访) before the enterprise's own verdict window has ended
needs whom staff spoke to and what they said, and is kept marked as early; a case sent back (重办) gets the
concierge's own deadline, met by reopening or adding a task or answering again; whoever signs for a task given to
the unit becomes its 承办人; the files sent with a submission are not news of information added."""

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from services.cases import steps as case_services
from services.cases import tasks as task_services
from services.cases.attachments import add_case_information, submit_case_with_files
from services.cases.tasks import TaskSpec
from services.cases.timeline import describe_event
from services.errors import InvalidInput
from services.time import calendar
from services.time.deadlines import annotate_case_deadlines, cases_due_between_q, overdue_cases_q
from tests.factories import after_verdict_window, at, case_at, frozen, run_case_action, snapshot
from tracker.models import Case, CaseEvent, Feedback, Notification, Task

CS = Case.Status
Kind = CaseEvent.Kind
Notice = Notification.Kind


def callback(zone, case, **fields):
    values = {"verdict": "confirm", "rating": 5, "comment": "", "contact_name": "", "contact_phone": ""}
    values.update(fields)
    return case_services.record_callback(actor=zone.concierge, case=case, **values)


# 电话回访 before the window has ended ---------------------------------------------------------------------------


@pytest.mark.parametrize("verdict", ["confirm", "reopen"])
def test_an_early_callback_without_the_contact_and_their_words_is_refused(zone, verdict):
    # Given a case answered minutes ago: the enterprise has days left to give its own verdict
    case = case_at(zone, CS.RESOLVED)
    assert timezone.localdate() <= case.verdict_due_on
    before = snapshot(case)
    # When the concierge records a phone verdict naming nobody and saying nothing
    with pytest.raises(InvalidInput) as refused:
        callback(zone, case, verdict=verdict)
    # Then it is refused, naming the contact, their phone and what they said, and the window's end
    assert {"contact_name", "contact_phone", "comment"} <= set(refused.value.fields)
    assert case.verdict_due_on.isoformat() in str(refused.value)
    # And nothing was written: the case still awaits the enterprise
    assert snapshot(case) == before


def test_an_early_callback_with_only_a_name_still_needs_the_phone_and_the_words(zone):
    case = case_at(zone, CS.RESOLVED)
    with pytest.raises(InvalidInput) as refused:
        callback(zone, case, contact_name="王经理")
    assert set(refused.value.fields) == {"contact_phone", "comment"}


def test_an_early_callback_with_a_number_that_is_no_phone_names_the_phone(zone):
    case = case_at(zone, CS.RESOLVED)
    with pytest.raises(InvalidInput) as refused:
        callback(zone, case, contact_name="王经理", contact_phone="王经理的手机", comment="企业表示满意")
    assert set(refused.value.fields) == {"contact_phone"}
    assert Case.objects.get(pk=case.pk).status == CS.RESOLVED


def test_an_early_callback_with_whom_and_what_they_said_closes_the_case_marked_early(zone):
    # Given a case answered minutes ago
    case = case_at(zone, CS.RESOLVED)
    # When the concierge records the enterprise's phone verdict with the person spoken to and their words
    feedback = callback(
        zone, case, rating=4, comment="王经理表示问题已解决", contact_name="王经理", contact_phone="0512-57001234"
    )
    # Then the case closes, the verdict kept as an early callback with whom it was given
    assert Case.objects.get(pk=case.pk).status == CS.CLOSED
    feedback.refresh_from_db()
    assert (feedback.source, feedback.early, feedback.contact_name, feedback.contact_phone) == (
        Feedback.Source.CALLBACK,
        True,
        "王经理",
        "0512-57001234",
    )
    # And its event records it too, and the timeline says it was early and with whom
    event = case.events.get(kind=Kind.CALLBACK_CONFIRMED)
    assert event.data["early"] is True
    assert (event.data["contact_name"], event.data["contact_phone"]) == ("王经理", "0512-57001234")
    assert (
        describe_event(event) == "张三 在企业验收期限内提前电话回访 王经理（0512-57001234），企业确认办结，评价：满意"
    )


def test_an_early_callback_that_reopens_says_so_on_the_timeline(zone):
    case = case_at(zone, CS.RESOLVED)
    run_case_action(zone, "callback_reopen", case)
    event = case.events.get(kind=Kind.CALLBACK_REOPENED)
    assert Feedback.objects.get(case=case).early is True
    assert describe_event(event) == (
        "张三 在企业验收期限内提前电话回访 王经理（0512-57001234），企业要求重办：电话回访，企业认为问题仍未解决"
    )


def test_on_the_last_day_of_the_window_a_callback_is_still_early(zone):
    # Given a case whose verdict window ends today
    case = case_at(zone, CS.RESOLVED)
    # When the concierge records a phone verdict naming nobody, at 17:00 that day
    with frozen(at(case.verdict_due_on, 17)), pytest.raises(InvalidInput) as refused:
        callback(zone, case)
    # Then it is refused: the enterprise may still answer today
    assert "contact_name" in refused.value.fields


def test_after_the_window_the_contact_is_optional_and_kept_when_given(zone):
    # Given two cases whose enterprise let the verdict window pass
    silent, named = case_at(zone, CS.RESOLVED), case_at(zone, CS.RESOLVED)
    with after_verdict_window(silent):
        # When the concierge records one verdict without a contact, the other with one
        plain = callback(zone, silent, rating=5)
        with_contact = callback(zone, named, rating=4, contact_name="李总", contact_phone="13812345678")
    # Then both are accepted, neither early, the contact kept where given
    assert (plain.early, plain.contact_name) == (False, "")
    assert (with_contact.early, with_contact.contact_name, with_contact.contact_phone) == (
        False,
        "李总",
        "13812345678",
    )
    plain_event = silent.events.get(kind=Kind.CALLBACK_CONFIRMED)
    named_event = named.events.get(kind=Kind.CALLBACK_CONFIRMED)
    assert plain_event.data["early"] is False
    assert describe_event(plain_event) == "张三 电话回访，企业确认办结，评价：非常满意"
    assert describe_event(named_event) == "张三 电话回访 李总（13812345678），企业确认办结，评价：满意"


def test_the_enterprises_own_verdict_is_never_early(zone):
    case = case_at(zone, CS.RESOLVED)
    feedback = case_services.confirm_case(actor=zone.enterprise_user, case=case, rating=5)
    assert (feedback.early, feedback.contact_name) == (False, "")
    assert "early" not in case.events.get(kind=Kind.CONFIRMED).data


# The concierge's deadline after 重办 ---------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["reopen", "callback_reopen"])
def test_a_case_sent_back_gets_the_concierges_redo_deadline(zone, action):
    # Given a case answered on Monday 2 November 2026, its one task done
    with frozen(at("2026-11-02")):
        case = case_at(zone, CS.RESOLVED)
    # When it is sent back on Friday 6 November (by the enterprise, or on a callback)
    with frozen(at("2026-11-06")):
        run_case_action(zone, action, case)
    case.refresh_from_db()
    # Then the concierge must take it up within the category's acceptance days, in working days: Monday
    assert case.status == CS.IN_PROGRESS
    assert case.redo_due_on == calendar.add_working_days(date(2026, 11, 6), zone.category.accept_days).date
    assert case.redo_due_on == date(2026, 11, 9)
    assert (
        case.events.get(kind=Kind.REOPENED if action == "reopen" else Kind.CALLBACK_REOPENED).data["redo_due_on"]
        == "2026-11-09"
    )


def sent_back(zone) -> Case:
    case = case_at(zone, CS.RESOLVED)
    run_case_action(zone, "reopen", case)
    return Case.objects.get(pk=case.pk)


def test_reopening_a_task_meets_the_redo_deadline(zone):
    case = sent_back(zone)
    task_services.reopen_task(actor=zone.concierge, task=case.tasks.get(), note="请按企业意见重办")
    assert Case.objects.get(pk=case.pk).redo_due_on is None


def test_adding_a_task_meets_the_redo_deadline(zone):
    case = sent_back(zone)
    task_services.decompose_case(
        actor=zone.concierge, case=case, tasks=[TaskSpec(title="现场核查", department=zone.department)]
    )
    assert Case.objects.get(pk=case.pk).redo_due_on is None


def test_answering_again_meets_the_redo_deadline(zone):
    case = sent_back(zone)
    case_services.resolve_case(actor=zone.concierge, case=case, answer="经再次核实，证书已寄出。")
    case = Case.objects.get(pk=case.pk)
    assert (case.status, case.redo_due_on) == (CS.RESOLVED, None)


def test_the_redo_deadline_is_the_cases_next_deadline_and_makes_it_overdue_once_past(zone):
    # Given a case sent back, all its tasks done
    case = sent_back(zone)
    redo = case.redo_due_on

    def listed(today):
        return annotate_case_deadlines(Case.objects.filter(pk=case.pk), today).get()

    # When it is listed before the redo date
    # Then its next deadline is the redo date, not overdue, and due in a span that holds it
    assert (listed(redo).next_due, listed(redo).is_overdue) == (redo, False)
    assert Case.objects.filter(cases_due_between_q(redo, redo), pk=case.pk).exists()
    # When the day after passes with nothing done, it is overdue (and in the overdue lists)
    after = redo + timedelta(days=1)
    assert listed(after).is_overdue
    assert Case.objects.filter(overdue_cases_q(after), pk=case.pk).exists()
    # And once the concierge has reopened the task, the task's own deadline is the next one
    (task,) = case.tasks.all()
    task_services.reopen_task(actor=zone.concierge, task=task, note="请重办")
    task.refresh_from_db()
    assert (listed(after).next_due, listed(after).is_overdue) == (task.due_on, False)


# 承办人 after signing -------------------------------------------------------------------------------------------


def given_to_the_unit(zone, **unit) -> Task:
    case = case_at(zone, CS.ACCEPTED)
    (task,) = task_services.decompose_case(
        actor=zone.concierge, case=case, tasks=[TaskSpec(title="协调规划许可", **unit)]
    )
    assert task.assignee is None
    return task


@pytest.mark.parametrize(
    ("unit", "signer"),
    [("task_force", "member"), ("department", "officer")],
)
def test_whoever_signs_for_a_task_given_to_the_unit_becomes_its_assignee(zone, unit, signer):
    # Given a task given to a task force or department as a whole: no 承办人 yet
    task = given_to_the_unit(zone, **{unit: getattr(zone, "task_force" if unit == "task_force" else "department")})
    # When a person of the unit signs for it
    task_services.start_task(actor=getattr(zone, signer), task=task)
    # Then the task is theirs, and the timeline keeps who took it
    task.refresh_from_db()
    assert (task.status, task.assignee) == (Task.Status.IN_PROGRESS, getattr(zone, signer))
    assert task.events.get(kind=Kind.TASK_STARTED).data["assignee"] == getattr(zone, signer).display_name


def test_signing_keeps_the_assignee_the_concierge_named(zone):
    case = case_at(zone, CS.ACCEPTED)
    (task,) = task_services.decompose_case(
        actor=zone.concierge,
        case=case,
        tasks=[TaskSpec(title="协调规划许可", department=zone.department, assignee=zone.officer)],
    )
    task_services.start_task(actor=zone.admin, task=task)
    task.refresh_from_db()
    assert task.assignee == zone.officer


def test_an_administrator_signing_in_the_units_place_does_not_become_its_assignee(zone):
    task = given_to_the_unit(zone, department=zone.department)
    task_services.start_task(actor=zone.admin, task=task)
    task.refresh_from_db()
    assert (task.status, task.assignee) == (Task.Status.IN_PROGRESS, None)


# No "企业补充了材料" for the files of a submission -------------------------------------------------------------


def pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "application/pdf")


def test_files_sent_with_a_submission_are_not_news_of_information_added(zone, private_media):
    # When the enterprise submits a case with two files
    case = submit_case_with_files(
        actor=zone.enterprise_user,
        enterprise=zone.enterprise,
        category=zone.category,
        title="厂房扩建审批进度咨询",
        description="规划许可尚未批复。",
        uploads=[pdf("营业执照.pdf"), pdf("用地红线图.pdf")],
    )
    # Then the concierge hears of the new case only, with its files on it
    assert list(Notification.objects.values_list("recipient", "kind")) == [(zone.concierge.pk, Notice.CASE_SUBMITTED)]
    assert case.attachments.count() == 2
    # And files the enterprise adds afterwards are news again
    add_case_information(actor=zone.enterprise_user, case=case, uploads=[pdf("环评批复.pdf")])
    assert Notification.objects.filter(recipient=zone.concierge, kind=Notice.INFO_ADDED).count() == 1
