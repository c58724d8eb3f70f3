"""In-app notifications (services/delivery/notifications.py): which steps tell the enterprise, whom, with what words,
written with the step itself; which tell staff (the concierge, the unit given a task), never the one who acted;
the inbox and marking notices read."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from services.cases import steps as case_services
from services.cases import tasks as task_services
from services.cases.tasks import TaskSpec
from services.delivery import notifications
from services.delivery.notifications import mark_read, notice_for, on_case_event, unread_count
from services.errors import IllegalTransition, NotFound
from services.roles import Role
from services.selectors import notifications_visible_to
from tests.factories import EnterpriseUserFactory, UserFactory, case_at, run_case_action, run_task_action
from tracker.models import Case, CaseEvent, Notification

CS = Case.Status
Kind = CaseEvent.Kind
Notice = Notification.Kind

# What the enterprise hears of each step, written out here rather than read back from the code.
EXPECTED_NOTICES = {
    Kind.ACCEPTED: Notice.CASE_ACCEPTED,
    Kind.DECLINED: Notice.CASE_DECLINED,
    Kind.DECOMPOSED: Notice.CASE_DISPATCHED,
    Kind.INFO_REQUESTED: Notice.INFO_REQUESTED,
    Kind.RESOLVED: Notice.CASE_ANSWERED,
    Kind.CALLBACK_CONFIRMED: Notice.CASE_CLOSED,
    Kind.CONCIERGE_CHANGED: Notice.CONCIERGE_CHANGED,
}


def _inbox(user) -> list[tuple[str, int | None, str]]:
    """The user's notices, newest first, as (kind, case id, note)."""
    return [(n.kind, n.case_id, n.note) for n in notifications_visible_to(user)]


@pytest.fixture
def colleague(zone):
    """A second active user of the same enterprise."""
    return EnterpriseUserFactory(username="ent_colleague", enterprise=zone.enterprise)


@pytest.fixture
def former_colleague(zone):
    """A deactivated user of the same enterprise."""
    return EnterpriseUserFactory(username="ent_former", enterprise=zone.enterprise, is_active=False)


@pytest.mark.parametrize("kind", CaseEvent.Kind.values)
def test_each_event_kind_calls_for_its_notice_or_none(kind):
    # Given an event of `kind` that changes the case's state (or adds to it)
    event = CaseEvent(kind=kind, from_status=CS.ACCEPTED, to_status=CS.IN_PROGRESS)
    # When asked what notice it calls for
    # Then it is the one the enterprise should hear, and nothing for internal or its own steps
    assert notice_for(event) == EXPECTED_NOTICES.get(kind)


def test_a_decomposition_of_work_already_under_way_calls_for_no_notice():
    event = CaseEvent(kind=Kind.DECOMPOSED, from_status=CS.IN_PROGRESS, to_status=CS.IN_PROGRESS)
    assert notice_for(event) is None


def test_accepting_a_case_tells_every_active_user_of_its_enterprise_and_nobody_else(zone, colleague, former_colleague):
    # Given a submitted case of an enterprise with two active users and a deactivated one
    case = case_at(zone, CS.SUBMITTED)
    # (submitting tells the enterprise nothing; its concierge hears of the new case)
    assert list(Notification.objects.values_list("recipient", "kind")) == [(zone.concierge.pk, Notice.CASE_SUBMITTED)]
    submitted = Notification.objects.get()

    # When the concierge accepts it
    run_case_action(zone, "accept", case)

    # Then both active users of the enterprise get one "accepted" notice about the case
    assert _inbox(zone.enterprise_user) == [(Notice.CASE_ACCEPTED, case.pk, "")]
    assert _inbox(colleague) == [(Notice.CASE_ACCEPTED, case.pk, "")]
    # And the deactivated user, the other enterprise and the staff get nothing (the concierge who accepted
    # keeps only the news of the submission)
    for user in (former_colleague, zone.other_enterprise_user, zone.leader):
        assert _inbox(user) == []
    assert _inbox(zone.concierge) == [(Notice.CASE_SUBMITTED, case.pk, "")]
    accepted = Notification.objects.exclude(pk=submitted.pk)
    assert accepted.count() == 2
    # And the notice carries the time of the step it reports
    event = case.events.get(kind=Kind.ACCEPTED)
    assert {n.created_at for n in accepted} == {event.created_at}


def test_the_user_who_made_the_change_is_not_told_about_it(zone, colleague):
    # Given a step on the case made by one of the enterprise's own users
    case = case_at(zone, CS.SUBMITTED)
    event = CaseEvent(case=case, kind=Kind.ACCEPTED, actor=zone.enterprise_user, created_at=timezone.now())

    # When its notices are written
    written = on_case_event(event, case)

    # Then only the colleague hears of it
    assert [n.recipient for n in written] == [colleague]
    assert _inbox(zone.enterprise_user) == []


def test_a_step_with_no_actor_tells_every_active_user(zone, colleague):
    case = case_at(zone, CS.SUBMITTED)
    event = CaseEvent(case=case, kind=Kind.ACCEPTED, actor=None, created_at=timezone.now())
    written = on_case_event(event, case)
    assert {n.recipient for n in written} == {zone.enterprise_user, colleague}


def test_the_whole_life_of_a_case_tells_the_enterprise_of_each_step_taken_for_it(zone, colleague):
    # Given a case walked from submission to a close confirmed by phone
    case = case_at(zone, CS.RESOLVED)
    run_case_action(zone, "callback_confirm", case)

    # Then the inbox holds, newest first: closed, answered, dispatched, accepted — and nothing for the
    # submission or the unit's work on its task
    expected = [
        (Notice.CASE_CLOSED, case.pk, ""),
        (Notice.CASE_ANSWERED, case.pk, ""),
        (Notice.CASE_DISPATCHED, case.pk, ""),
        (Notice.CASE_ACCEPTED, case.pk, ""),
    ]
    assert _inbox(zone.enterprise_user) == expected
    assert _inbox(colleague) == expected


def test_the_enterprise_own_verdicts_and_withdrawals_tell_nobody(zone, colleague):
    # Given three resolved cases and a submitted one, with their notices so far
    confirmed, reopened, called_back = (case_at(zone, CS.RESOLVED) for _ in range(3))
    submitted = case_at(zone, CS.SUBMITTED)
    enterprise_notices = Notification.objects.filter(recipient__enterprise=zone.enterprise)
    before = enterprise_notices.count()
    last = Notification.objects.order_by("id").last().pk

    # When the enterprise confirms one, reopens one and withdraws the last, and the concierge records the
    # enterprise's reopen given by phone on the third
    run_case_action(zone, "confirm", confirmed)
    run_case_action(zone, "reopen", reopened)
    run_case_action(zone, "callback_reopen", called_back)
    run_case_action(zone, "withdraw", submitted)

    # Then the enterprise is told nothing
    assert enterprise_notices.count() == before
    # And only the concierge hears of the verdicts the enterprise gave itself (not of the one they recorded)
    # and of the withdrawal
    assert list(Notification.objects.filter(pk__gt=last).order_by("id").values_list("recipient", "kind", "case")) == [
        (zone.concierge.pk, Notice.CASE_CONFIRMED, confirmed.pk),
        (zone.concierge.pk, Notice.CASE_REOPENED, reopened.pk),
        (zone.concierge.pk, Notice.CASE_WITHDRAWN, submitted.pk),
    ]


def test_a_decomposition_that_adds_tasks_after_a_reopen_tells_nobody(zone, colleague):
    # Given a case the enterprise sent back to work after the answer
    case = case_at(zone, CS.RESOLVED)
    run_case_action(zone, "reopen", case)
    before = _inbox(zone.enterprise_user)

    # When the concierge gives one more task
    task_services.decompose_case(
        actor=zone.concierge, case=case, tasks=[TaskSpec(title="核实用电容量", department=zone.other_department)]
    )

    # Then the enterprise is not told the case was dispatched again
    assert _inbox(zone.enterprise_user) == before
    assert [kind for kind, _case, _note in before].count(Notice.CASE_DISPATCHED) == 1


def test_the_unit_internal_steps_tell_nobody(zone):
    # Given a case in progress
    case = case_at(zone, CS.IN_PROGRESS)
    enterprise_notices = Notification.objects.filter(recipient__enterprise__isnull=False)
    before = enterprise_notices.count()
    task = case.tasks.get()

    # When the task force hands its task back, the concierge re-dispatches it to the planning department, and
    # the department starts and completes it
    run_task_action(zone, "return", task)
    run_task_action(zone, "redispatch", task)
    run_task_action(zone, "start", task, actor=zone.officer)
    run_task_action(zone, "complete", task, actor=zone.officer)

    # Then the enterprise hears nothing of it (staff do: see the staff notices below)
    assert enterprise_notices.count() == before


def test_a_decline_reason_and_an_information_request_are_copied_into_the_notice(zone):
    # Given two submitted cases
    declined = case_at(zone, CS.SUBMITTED)
    asked = case_at(zone, CS.SUBMITTED)

    # When the concierge declines one and asks for information on the other
    case_services.decline_case(actor=zone.concierge, case=declined, reason="不属于开发区服务范围")
    case_services.request_case_info(actor=zone.concierge, case=asked, note="请上传规划许可申请表")

    # Then each notice carries the concierge's own words
    assert _inbox(zone.enterprise_user) == [
        (Notice.INFO_REQUESTED, asked.pk, "请上传规划许可申请表"),
        (Notice.CASE_DECLINED, declined.pk, "不属于开发区服务范围"),
    ]


def test_other_notes_stay_out_of_the_notice(zone):
    # Given a case accepted with a note, then answered, then given to another concierge with a note
    case = case_at(zone, CS.SUBMITTED)
    case_services.accept_case(actor=zone.concierge, case=case, note="内部备注：优先处理")
    case_services.resolve_case(actor=zone.concierge, case=case, answer="规划许可已批复，可领取证书。")
    case_services.reassign_concierge(actor=zone.leader, case=case, concierge=zone.backup, note="张三休假")

    # Then the notices say what happened, without the staff's notes or the answer itself
    assert _inbox(zone.enterprise_user) == [
        (Notice.CONCIERGE_CHANGED, case.pk, ""),
        (Notice.CASE_ANSWERED, case.pk, ""),
        (Notice.CASE_ACCEPTED, case.pk, ""),
    ]


def test_a_refused_step_writes_no_notice(zone):
    # Given an accepted case
    case = case_at(zone, CS.ACCEPTED)
    before = Notification.objects.count()

    # When the concierge tries to decline it (only a submitted case can be), or another concierge to resolve it
    with pytest.raises(IllegalTransition):
        run_case_action(zone, "decline", case)
    with pytest.raises(NotFound):
        run_case_action(zone, "resolve", case, actor=zone.other_concierge)

    # Then nobody is told anything
    assert Notification.objects.count() == before


def test_a_step_that_fails_after_its_event_leaves_no_notice(zone, monkeypatch):
    # Given an accepted case, and a fault that strikes after the decomposition's event is written
    case = case_at(zone, CS.ACCEPTED)
    before = Notification.objects.count()
    written = []
    real = notifications.on_case_event

    def spy(event, case):
        notices = real(event, case)
        written.extend(notices)
        return notices

    monkeypatch.setattr(notifications, "on_case_event", spy)

    def broken(task):
        raise RuntimeError("disk full")

    monkeypatch.setattr(task_services, "task_event_data", broken)

    # When the concierge decomposes it
    with pytest.raises(RuntimeError):
        run_case_action(zone, "decompose", case)

    # Then the "dispatched" notice was written along the way, and went with the step that failed
    assert [n.kind for n in written] == [Notice.CASE_DISPATCHED]
    assert Notification.objects.count() == before
    case.refresh_from_db()
    assert case.status == CS.ACCEPTED


# ---- the inbox ---------------------------------------------------------------------------------------------


@pytest.fixture
def inbox(zone):
    """Two cases accepted: two unread notices for the enterprise user (newest first), one for the other
    enterprise's user."""
    first = case_at(zone, CS.ACCEPTED)
    second = case_at(zone, CS.ACCEPTED)
    other = case_services.submit_case(
        actor=zone.other_enterprise_user,
        enterprise=zone.other_enterprise,
        category=zone.category,
        title="用电增容",
        description="新厂房需要增加用电容量。",
    )
    case_services.accept_case(actor=zone.other_concierge, case=other)
    mine = list(notifications_visible_to(zone.enterprise_user))
    assert [n.case_id for n in mine] == [second.pk, first.pk]
    return mine


def test_the_inbox_holds_only_the_user_own_notices_newest_first(zone, inbox, django_assert_num_queries):
    # When the enterprise user reads the inbox, with each notice's case
    with django_assert_num_queries(1):
        numbers = [n.case.number for n in notifications_visible_to(zone.enterprise_user)]
    # Then it lists their own two notices, newest first, in one query
    assert numbers == [n.case.number for n in inbox]
    assert unread_count(zone.enterprise_user) == 2
    assert unread_count(zone.other_enterprise_user) == 1


def test_nobody_signed_in_has_no_inbox(zone, inbox):
    assert list(notifications_visible_to(AnonymousUser())) == []
    assert list(notifications_visible_to(None)) == []


def test_marking_one_notice_read_leaves_the_others_unread(zone, inbox):
    # Given two unread notices
    newest, oldest = inbox

    # When the user opens the older one
    changed = mark_read(actor=zone.enterprise_user, notification=oldest.pk)

    # Then it alone is read
    assert changed == 1
    oldest.refresh_from_db()
    newest.refresh_from_db()
    assert oldest.read_at is not None and newest.read_at is None
    assert unread_count(zone.enterprise_user) == 1
    # And opening it again changes nothing and keeps the first reading time
    first_read = oldest.read_at
    assert mark_read(actor=zone.enterprise_user, notification=oldest) == 0
    oldest.refresh_from_db()
    assert oldest.read_at == first_read


def test_marking_all_read_reads_only_the_user_own_notices(zone, inbox):
    # Given one of two notices already read
    mark_read(actor=zone.enterprise_user, notification=inbox[0])

    # When the user marks all read
    changed = mark_read(actor=zone.enterprise_user)

    # Then the one still unread is counted, and the other enterprise's notice stays unread
    assert changed == 1
    assert unread_count(zone.enterprise_user) == 0
    assert unread_count(zone.other_enterprise_user) == 1


def test_another_person_notice_does_not_exist_for_the_user(zone, inbox):
    # Given a notice of the other enterprise's user
    theirs = notifications_visible_to(zone.other_enterprise_user).get()

    # When the enterprise user tries to mark it read (or one that does not exist)
    for pk in (theirs.pk, theirs.pk + 1000):
        with pytest.raises(NotFound):
            mark_read(actor=zone.enterprise_user, notification=pk)

    # Then it stays unread, and so do the user's own
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert unread_count(zone.enterprise_user) == 2


# ---- staff notices: what the loop gives each person to do ---------------------------------------------------


def _news_since(last: int) -> list[tuple[str, str, str]]:
    """The notices written after notice `last`, oldest first, as (recipient's username, kind, note)."""
    written = Notification.objects.filter(pk__gt=last).select_related("recipient").order_by("id")
    return [(n.recipient.username, n.kind, n.note) for n in written]


def _last() -> int:
    return Notification.objects.order_by("id").values_list("pk", flat=True).last() or 0


@pytest.fixture
def force_lead(zone):
    """The task force gets a lead, besides its member."""
    lead = UserFactory(username="force_lead", full_name="专班负责人", department=zone.department)
    zone.task_force.lead = lead
    zone.task_force.save(update_fields=["lead"])
    return lead


def _submit(zone, actor=None) -> Case:
    return case_services.submit_case(
        actor=actor or zone.enterprise_user,
        enterprise=zone.enterprise,
        category=zone.category,
        title="用电增容咨询",
        description="新厂房需要增加用电容量。",
        channel=None if actor is None else Case.Channel.HOTLINE,
    )


def test_a_submission_tells_the_enterprise_concierge(zone):
    # Given an enterprise with a concierge and a backup concierge
    last = _last()
    # When its user submits a case
    case = _submit(zone)
    # Then the concierge alone is told a new case waits to be accepted (the backup hears of it if it is late)
    assert _news_since(last) == [("concierge", Notice.CASE_SUBMITTED, "")]
    assert Notification.objects.get(pk__gt=last).case == case


def test_a_submission_the_concierge_makes_for_the_enterprise_tells_the_enterprise_and_nobody_on_staff(zone):
    # Given the concierge takes an issue down by phone
    last = _last()
    # When they submit it on the enterprise's behalf
    case = _submit(zone, actor=zone.concierge)
    # Then nobody on staff is told (the only person concerned made the step), but the enterprise learns that a
    # case was filed for it
    assert _news_since(last) == [("ent_user", Notice.CASE_FILED, "")]
    assert Notification.objects.get(pk__gt=last).case == case


def test_a_task_for_a_task_force_tells_its_lead_and_members(zone, force_lead):
    # Given an accepted case
    case = case_at(zone, CS.ACCEPTED)
    last = _last()
    # When the concierge gives a task to the task force
    task_services.decompose_case(
        actor=zone.concierge, case=case, tasks=[TaskSpec(title="核实用地红线", task_force=zone.task_force)]
    )
    # Then its lead and its member are each told of the new task; the enterprise hears the case was dispatched
    news = _news_since(last)
    assert [n for n in news if n[1] == Notice.TASK_ASSIGNED] == [
        ("force_lead", Notice.TASK_ASSIGNED, ""),
        ("member", Notice.TASK_ASSIGNED, ""),
    ]
    assert [n for n in news if n[1] != Notice.TASK_ASSIGNED] == [("ent_user", Notice.CASE_DISPATCHED, "")]
    assert {n.task.title for n in Notification.objects.filter(kind=Notice.TASK_ASSIGNED)} == {"核实用地红线"}


def test_a_task_for_a_department_tells_its_active_officers(zone):
    # Given an accepted case, and the planning department with a second officer and a former one
    case = case_at(zone, CS.ACCEPTED)
    UserFactory(username="officer2", department=zone.department, roles=[Role.DEPARTMENT_OFFICER])
    UserFactory(username="officer_gone", department=zone.department, roles=[Role.DEPARTMENT_OFFICER], is_active=False)
    UserFactory(username="planner", department=zone.department)  # works there, not an officer
    last = _last()
    # When the concierge gives a task to the department, nobody named
    task_services.decompose_case(
        actor=zone.concierge, case=case, tasks=[TaskSpec(title="核实用地红线", department=zone.department)]
    )
    # Then each of its active officers is told, and nobody else on staff
    assigned = [n for n in _news_since(last) if n[1] == Notice.TASK_ASSIGNED]
    assert sorted(assigned) == [("officer", Notice.TASK_ASSIGNED, ""), ("officer2", Notice.TASK_ASSIGNED, "")]


def test_a_task_for_a_named_person_tells_only_them(zone, force_lead):
    # Given an accepted case
    case = case_at(zone, CS.ACCEPTED)
    last = _last()
    # When the concierge gives a task to the task force, naming its member
    task_services.decompose_case(
        actor=zone.concierge,
        case=case,
        tasks=[TaskSpec(title="核实用地红线", task_force=zone.task_force, assignee=zone.member)],
    )
    # Then the member alone is told; the lead is not
    assert [n for n in _news_since(last) if n[1] == Notice.TASK_ASSIGNED] == [("member", Notice.TASK_ASSIGNED, "")]


def test_a_concierge_who_gives_a_task_to_their_own_task_force_is_not_told(zone):
    # Given the concierge is also a member of the task force
    zone.task_force.members.add(zone.concierge)
    case = case_at(zone, CS.ACCEPTED)
    last = _last()
    # When they give it a task
    run_case_action(zone, "decompose", case)
    # Then the other member is told, and they are not
    assert [n for n in _news_since(last) if n[1] == Notice.TASK_ASSIGNED] == [("member", Notice.TASK_ASSIGNED, "")]


def test_a_returned_task_tells_the_concierge_with_the_reason(zone):
    # Given a task the task force has not started
    task = case_at(zone, CS.IN_PROGRESS).tasks.get()
    last = _last()
    # When the member hands it back
    run_task_action(zone, "return", task)
    # Then the concierge is told, in the member's own words; the enterprise hears nothing
    assert _news_since(last) == [("concierge", Notice.TASK_RETURNED, "不属于本单位职责")]


def test_a_redispatched_task_tells_the_new_unit_not_the_old(zone, force_lead):
    # Given a task the task force handed back
    task = case_at(zone, CS.IN_PROGRESS).tasks.get()
    run_task_action(zone, "return", task)
    last = _last()
    # When the concierge gives it to the planning department
    run_task_action(zone, "redispatch", task)
    # Then the department's officer is told it has a task, with the concierge's instructions; the task force is
    # not told again
    assert _news_since(last) == [("officer", Notice.TASK_ASSIGNED, "请规划建设局牵头")]


def test_a_completed_task_tells_the_concierge(zone):
    # Given a task the member has started
    task = case_at(zone, CS.IN_PROGRESS).tasks.get()
    run_task_action(zone, "start", task)
    last = _last()
    # When they complete it
    run_task_action(zone, "complete", task)
    # Then the concierge is told it is done (its result is read on the case, not copied into the notice);
    # starting it told nobody
    assert _news_since(last) == [("concierge", Notice.TASK_FINISHED, "")]


def test_a_case_concierge_hears_of_its_tasks_not_the_enterprise_concierge(zone):
    # Given a case handed to the backup concierge by a leader
    task = case_at(zone, CS.IN_PROGRESS).tasks.get()
    case_services.reassign_concierge(actor=zone.leader, case=task.case, concierge=zone.backup, note="张三休假")
    last = _last()
    # When the member completes the task
    run_task_action(zone, "start", task)
    run_task_action(zone, "complete", task)
    # Then the case's own concierge is told, not the enterprise's usual one
    assert _news_since(last) == [("backup", Notice.TASK_FINISHED, "")]


def test_the_enterprise_reopening_a_case_tells_the_concierge_why(zone):
    # Given a resolved case
    case = case_at(zone, CS.RESOLVED)
    last = _last()
    # When the enterprise rejects the answer with a reason
    run_case_action(zone, "reopen", case)
    # Then the concierge is told, with the enterprise's reason
    assert _news_since(last) == [("concierge", Notice.CASE_REOPENED, "答复未解决实际问题")]


def test_a_reopened_task_tells_its_unit_again(zone):
    # Given a case sent back to work, with its task done
    case = case_at(zone, CS.RESOLVED)
    run_case_action(zone, "reopen", case)
    task = case.tasks.get()
    last = _last()
    # When the concierge reopens the task
    run_task_action(zone, "reopen", task)
    # Then the task force's member is told it has the task again, and why
    assert _news_since(last) == [("member", Notice.TASK_ASSIGNED, "企业不满意，请重办")]


def test_the_enterprise_confirming_tells_the_concierge(zone):
    case = case_at(zone, CS.RESOLVED)
    last = _last()
    run_case_action(zone, "confirm", case)
    assert _news_since(last) == [("concierge", Notice.CASE_CONFIRMED, "")]


def test_information_the_enterprise_adds_tells_the_concierge_once_while_unread(zone, colleague):
    # Given a case being worked on
    case = case_at(zone, CS.IN_PROGRESS)
    last = _last()

    # When the enterprise adds information twice, and a colleague once more, before the concierge reads any
    case_services.add_case_info(actor=zone.enterprise_user, case=case, note="补充营业执照")
    case_services.add_case_info(actor=zone.enterprise_user, case=case, note="补充用地红线图")
    case_services.add_case_info(actor=colleague, case=case, note="补充环评批复")
    # Then the concierge has one notice of it
    assert _news_since(last) == [("concierge", Notice.INFO_ADDED, "")]

    # When the concierge opens the case, and the enterprise adds more
    notifications.mark_case_read(actor=zone.concierge, case=case)
    case_services.add_case_info(actor=zone.enterprise_user, case=case, note="补充规划许可申请表")
    # Then that is news again
    assert _news_since(last) == [("concierge", Notice.INFO_ADDED, "")] * 2
    assert unread_count(zone.concierge) == 1


def test_information_added_to_another_case_is_news_of_its_own(zone):
    # Given two cases, and an unread notice of information added to the first
    first, second = case_at(zone, CS.IN_PROGRESS), case_at(zone, CS.IN_PROGRESS)
    case_services.add_case_info(actor=zone.enterprise_user, case=first, note="补充营业执照")
    last = _last()
    # When the enterprise adds information to the second
    case_services.add_case_info(actor=zone.enterprise_user, case=second, note="补充用地红线图")
    # Then the concierge is told of it too
    assert list(Notification.objects.filter(pk__gt=last).values_list("kind", "case")) == [
        (Notice.INFO_ADDED, second.pk)
    ]


def test_information_staff_add_tells_nobody(zone):
    # Given a case being worked on
    case = case_at(zone, CS.IN_PROGRESS)
    last = _last()
    # When the concierge or a leader notes information on it
    case_services.add_case_info(actor=zone.concierge, case=case, note="电话核实：企业已取得环评批复")
    case_services.add_case_info(actor=zone.leader, case=case, note="请加快办理")
    # Then nobody is told
    assert _news_since(last) == []


def test_deactivated_staff_are_not_told(zone, force_lead):
    # Given the task force's lead has left
    force_lead.is_active = False
    force_lead.save(update_fields=["is_active"])
    case = case_at(zone, CS.ACCEPTED)
    last = _last()
    # When the task force is given a task
    run_case_action(zone, "decompose", case)
    # Then only its active member is told
    assert [n for n in _news_since(last) if n[1] == Notice.TASK_ASSIGNED] == [("member", Notice.TASK_ASSIGNED, "")]


def test_a_withdrawal_tells_the_concierge_and_the_units_whose_tasks_are_cancelled(zone):
    # Given a case in progress with one task at the task force
    case = case_at(zone, CS.IN_PROGRESS)
    last = Notification.objects.order_by("id").last().pk
    # When the enterprise withdraws it with a reason
    case_services.withdraw_case(actor=zone.enterprise_user, case=case, reason="已自行解决")
    # Then the concierge hears why, and the task force's member that the task is cancelled
    new = Notification.objects.filter(pk__gt=last)
    assert list(new.filter(recipient=zone.concierge).values_list("kind", "note")) == [
        (Notice.CASE_WITHDRAWN, "已自行解决")
    ]
    assert list(new.filter(recipient=zone.member).values_list("kind", flat=True)) == [Notice.TASK_CANCELLED]


def test_a_reassigned_case_tells_its_new_concierge(zone):
    case = case_at(zone, CS.SUBMITTED)
    case_services.reassign_concierge(actor=zone.leader, case=case, concierge=zone.other_concierge, note="请接手")
    notice = Notification.objects.get(recipient=zone.other_concierge)
    assert (notice.kind, notice.case_id, notice.note) == (Notice.CASE_ASSIGNED, case.pk, "请接手")


def test_an_extension_request_tells_the_linked_leader(zone):
    case = case_at(zone, CS.IN_PROGRESS)
    task = case.tasks.get()
    task_services.request_extension(
        actor=zone.member, task=task, requested_due_on=task.due_on + timedelta(days=14), reason="需补充勘测"
    )
    notice = Notification.objects.get(recipient=zone.leader, kind=Notice.EXTENSION_REQUESTED)
    assert (notice.case_id, notice.task_id, notice.note) == (case.pk, task.pk, "需补充勘测")
