"""In-app notifications (services/notifications.py): which steps tell the enterprise, whom, with what words,
written with the step itself; the inbox and marking notices read."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from services import cases as case_services
from services import notifications
from services import tasks as task_services
from services.errors import IllegalTransition, NotFound
from services.notifications import mark_read, notice_for, notifications_of, on_case_event, unread_count
from services.tasks import TaskSpec
from tests.factories import EnterpriseUserFactory
from tests.services.helpers import case_at, run_case_action, run_task_action
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
    return [(n.kind, n.case_id, n.note) for n in notifications_of(user)]


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
    assert Notification.objects.count() == 0  # submitting tells nobody

    # When the concierge accepts it
    run_case_action(zone, "accept", case)

    # Then both active users of the enterprise get one "accepted" notice about the case
    assert _inbox(zone.enterprise_user) == [(Notice.CASE_ACCEPTED, case.pk, "")]
    assert _inbox(colleague) == [(Notice.CASE_ACCEPTED, case.pk, "")]
    # And the deactivated user, the other enterprise and the staff get nothing
    for user in (former_colleague, zone.other_enterprise_user, zone.concierge, zone.leader):
        assert _inbox(user) == []
    assert Notification.objects.count() == 2
    # And the notice carries the time of the step it reports
    event = case.events.get(kind=Kind.ACCEPTED)
    assert {n.created_at for n in Notification.objects.all()} == {event.created_at}


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
    before = Notification.objects.count()

    # When the enterprise confirms one, reopens one and withdraws the last, and the concierge records the
    # enterprise's reopen given by phone on the third
    run_case_action(zone, "confirm", confirmed)
    run_case_action(zone, "reopen", reopened)
    run_case_action(zone, "callback_reopen", called_back)
    run_case_action(zone, "withdraw", submitted)

    # Then no notice is written
    assert Notification.objects.count() == before


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
    before = Notification.objects.count()
    task = case.tasks.get()

    # When the task force hands its task back, the concierge re-dispatches it to the planning department, and
    # the department starts and completes it
    run_task_action(zone, "return", task)
    run_task_action(zone, "redispatch", task)
    run_task_action(zone, "start", task, actor=zone.officer)
    run_task_action(zone, "complete", task, actor=zone.officer)

    # Then the enterprise hears nothing of it
    assert Notification.objects.count() == before


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
    mine = list(notifications_of(zone.enterprise_user))
    assert [n.case_id for n in mine] == [second.pk, first.pk]
    return mine


def test_the_inbox_holds_only_the_user_own_notices_newest_first(zone, inbox, django_assert_num_queries):
    # When the enterprise user reads the inbox, with each notice's case
    with django_assert_num_queries(1):
        numbers = [n.case.number for n in notifications_of(zone.enterprise_user)]
    # Then it lists their own two notices, newest first, in one query
    assert numbers == [n.case.number for n in inbox]
    assert unread_count(zone.enterprise_user) == 2
    assert unread_count(zone.other_enterprise_user) == 1


def test_nobody_signed_in_has_no_inbox(zone, inbox):
    assert list(notifications_of(AnonymousUser())) == []
    assert list(notifications_of(None)) == []


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
    theirs = notifications_of(zone.other_enterprise_user).get()

    # When the enterprise user tries to mark it read (or one that does not exist)
    for pk in (theirs.pk, theirs.pk + 1000):
        with pytest.raises(NotFound):
            mark_read(actor=zone.enterprise_user, notification=pk)

    # Then it stays unread, and so do the user's own
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert unread_count(zone.enterprise_user) == 2
