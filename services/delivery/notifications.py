"""In-app notifications: what an enterprise hears about its cases, and what staff hear about their work.

A notice is written by `services.cases.transitions.record_event`, in the transaction of the change it reports: to
every active user of the case's enterprise, or to the staff the step concerns (the concierge, the unit given a task),
never to the one who made the change. The pushes (email, WeCom) each recipient chose are written with it
(`services.delivery.pushes`). Reminders write their notices in `services.time.reminders`. Reading is a selector;
marking read is the only change a notice ever sees.
"""

from django.db import transaction
from django.utils import timezone

from services.delivery import pushes, recipients
from services.errors import NotFound
from services.selectors import notifications_visible_to
from tracker.models import Case, CaseEvent, Notification, Task, User

Kind = CaseEvent.Kind
Notice = Notification.Kind

# The events an enterprise is told about, and the notice each becomes.
ENTERPRISE_NOTICES: dict[str, str] = {
    Kind.ACCEPTED: Notice.CASE_ACCEPTED,
    Kind.DECLINED: Notice.CASE_DECLINED,
    Kind.DECOMPOSED: Notice.CASE_DISPATCHED,
    Kind.INFO_REQUESTED: Notice.INFO_REQUESTED,
    Kind.RESOLVED: Notice.CASE_ANSWERED,
    Kind.CALLBACK_CONFIRMED: Notice.CASE_CLOSED,
    Kind.CONCIERGE_CHANGED: Notice.CONCIERGE_CHANGED,
}


# The events staff are told about, the notice each becomes, and who hears it.
CONCIERGE = "concierge"
NEW_CONCIERGE = "new_concierge"
TASK_UNIT = "task_unit"
DEADLINE_HOLDERS = "deadline_holders"  # who a moved deadline binds: a task's workers, else the concierge
LINKED_LEADER = "linked_leader"
OPEN_TASK_UNITS = "open_task_units"  # the concierge and the workers of every task the units hold
STAFF_NOTICES: dict[str, tuple[str, str]] = {
    Kind.SUBMITTED: (Notice.CASE_SUBMITTED, CONCIERGE),
    Kind.TASK_CREATED: (Notice.TASK_ASSIGNED, TASK_UNIT),
    Kind.TASK_REDISPATCHED: (Notice.TASK_ASSIGNED, TASK_UNIT),
    Kind.TASK_REOPENED: (Notice.TASK_ASSIGNED, TASK_UNIT),
    Kind.TASK_COMPLETED: (Notice.TASK_FINISHED, CONCIERGE),
    Kind.TASK_RETURNED: (Notice.TASK_RETURNED, CONCIERGE),
    Kind.INFO_ADDED: (Notice.INFO_ADDED, CONCIERGE),
    Kind.REOPENED: (Notice.CASE_REOPENED, CONCIERGE),
    Kind.CONFIRMED: (Notice.CASE_CONFIRMED, CONCIERGE),
    Kind.WITHDRAWN: (Notice.CASE_WITHDRAWN, CONCIERGE),
    Kind.TASK_CANCELLED: (Notice.TASK_CANCELLED, TASK_UNIT),
    Kind.CONCIERGE_CHANGED: (Notice.CASE_ASSIGNED, NEW_CONCIERGE),
    Kind.EXTENSION_REQUESTED: (Notice.EXTENSION_REQUESTED, LINKED_LEADER),
    Kind.DEADLINE_RESCHEDULED: (Notice.DEADLINE_MOVED, DEADLINE_HOLDERS),
    Kind.CLOCK_PAUSED: (Notice.CLOCK_PAUSED, OPEN_TASK_UNITS),
    Kind.CLOCK_RESUMED: (Notice.CLOCK_RESUMED, OPEN_TASK_UNITS),
}
# Notices that carry the note of their event (a reason, a request) to the reader.
WITH_NOTE = frozenset(
    {
        Notice.CASE_DECLINED,
        Notice.INFO_REQUESTED,
        Notice.TASK_RETURNED,
        Notice.CASE_REOPENED,
        Notice.CASE_WITHDRAWN,
        Notice.TASK_ASSIGNED,  # a redispatch's or reopen's instructions
        Notice.CASE_ASSIGNED,
        Notice.EXTENSION_REQUESTED,
        Notice.DEADLINE_MOVED,  # "2027-02-09 → 2027-02-10"
    }
)


def _concierges(case: Case) -> list[User]:
    concierge = recipients.concierge(case)
    return [concierge] if concierge else []


def _staff_recipients(event: CaseEvent, case: Case) -> tuple[str, list[User]] | None:
    spec = STAFF_NOTICES.get(event.kind)
    if spec is None:
        return None
    kind, who = spec
    if kind == Notice.INFO_ADDED:
        # The enterprise's own additions concern the concierge; staff notes do not, nor the files sent with the
        # submission (the new case is the news), and several files sent at once are one piece of news while the
        # first notice is unread.
        actor = event.actor
        if actor is None or actor.enterprise_id != case.enterprise_id or (event.data or {}).get("with_submission"):
            return None
        unread = Notification.objects.filter(case=case, kind=kind, read_at__isnull=True)
        people = [u for u in _concierges(case) if not unread.filter(recipient=u).exists()]
        return kind, people
    if who == DEADLINE_HOLDERS:  # the verdict deadline binds the enterprise (`notice_for`), the others staff
        if event.task_id:
            return kind, recipients.task_workers(event.task)
        return kind, [] if (event.data or {}).get("field") == "verdict_due_on" else _concierges(case)
    if who == CONCIERGE:
        return kind, _concierges(case)
    if who == NEW_CONCIERGE:
        return kind, list(User.objects.filter(pk=(event.data or {}).get("to_id")))
    if who == OPEN_TASK_UNITS:
        working = [Task.Status.PENDING, Task.Status.IN_PROGRESS]  # with a unit (a returned task is not)
        tasks = (
            case.tasks.filter(status__in=working)
            .select_related(*recipients.TASK_RELATED)
            .prefetch_related(*recipients.TASK_PREFETCH)
        )
        people = [person for task in tasks for person in recipients.task_workers(task)]
        return kind, list({person.pk: person for person in [*_concierges(case), *people]}.values())
    if who == LINKED_LEADER:
        leader = recipients.linked_leader(case)
        return kind, [leader] if leader else []
    return kind, recipients.task_workers(event.task)


def notice_for(event: CaseEvent) -> str | None:
    """The notice kind `event` calls for, if any. A decomposition that adds tasks to work already under way
    (after a reopen) is not news to the enterprise; a case it did not submit itself (staff registered a call or
    a visit, the hotline passed it on) is."""
    if event.kind == Kind.DECOMPOSED and event.from_status == event.to_status:
        return None
    if event.kind == Kind.DEADLINE_RESCHEDULED:  # of the deadlines a holiday schedule moves, the verdict is theirs
        return Notice.DEADLINE_MOVED if (event.data or {}).get("field") == "verdict_due_on" else None
    if event.kind == Kind.SUBMITTED:
        return Notice.CASE_FILED if event.actor is not None and not event.actor.enterprise_id else None
    return ENTERPRISE_NOTICES.get(event.kind)


def on_case_event(event: CaseEvent, case: Case) -> list[Notification]:
    """Write the notices `event` calls for, and their pushes. Called by `record_event`, inside the transaction
    of the change."""
    addressed: list[tuple[str, int]] = []
    kind = notice_for(event)
    if kind is not None:
        users = recipients.enterprise_users([case.enterprise_id])
        addressed += [(kind, pk) for pk in users.values_list("pk", flat=True)]
    staff = _staff_recipients(event, case)
    if staff is not None:
        addressed += [(staff[0], user.pk) for user in staff[1] if user.is_active]
    notices = [
        Notification(
            recipient_id=pk,
            kind=kind,
            case=case,
            task=event.task,
            note=event.note if kind in WITH_NOTE else "",
            created_at=event.created_at,
        )
        for kind, pk in dict.fromkeys(addressed)
        if pk != event.actor_id
    ]
    if not notices:
        return []
    Notification.objects.bulk_create(notices)
    pushes.pushes_for_notices(notices, now=event.created_at)
    return notices


def unread_count(user: User) -> int:
    return notifications_visible_to(user).filter(read_at__isnull=True).count()


def mark_read(*, actor: User, notification: Notification | int | None = None) -> int:
    """Mark one of the actor's notices read (or, without one, all of them); returns how many changed.
    Another person's notice does not exist for the actor."""
    inbox = notifications_visible_to(actor)
    unread = inbox.filter(read_at__isnull=True)
    with transaction.atomic():
        if notification is not None:
            pk = notification.pk if isinstance(notification, Notification) else notification
            if not inbox.filter(pk=pk).exists():
                raise NotFound()
            unread = unread.filter(pk=pk)
        return unread.update(read_at=timezone.now())


def mark_case_read(*, actor: User, case: Case) -> int:
    """Mark the actor's unread notices about `case` read (they opened the case); returns how many changed."""
    return notifications_visible_to(actor).filter(case=case, read_at__isnull=True).update(read_at=timezone.now())


def set_channels(*, actor: User, email: bool, wecom: bool) -> User:
    """The actor chooses how they are reached besides in-app notices: by email, by WeCom (staff whose department
    has a group robot). Anyone may change their own choice, and only their own."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=actor.pk)
        user.notify_by_email, user.notify_by_wecom = bool(email), bool(wecom)
        user.save(update_fields=["notify_by_email", "notify_by_wecom"])
    actor.notify_by_email, actor.notify_by_wecom = user.notify_by_email, user.notify_by_wecom
    return user
