"""In-app notifications: what an enterprise hears about its cases.

A notice is written by `states.record_event`, in the transaction of the change it reports, to every active
user of the case's enterprise except the one who made the change. Reading is a selector; marking read is the
only change a notice ever sees.
"""

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from services.errors import NotFound
from tracker.models import Case, CaseEvent, Notification, User

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


def notice_for(event: CaseEvent) -> str | None:
    """The notice kind `event` calls for, if any. A decomposition that adds tasks to work already under way
    (after a reopen) is not news to the enterprise."""
    if event.kind == Kind.DECOMPOSED and event.from_status == event.to_status:
        return None
    return ENTERPRISE_NOTICES.get(event.kind)


def on_case_event(event: CaseEvent, case: Case) -> list[Notification]:
    """Write the notices `event` calls for. Called by `record_event`, inside the transaction of the change."""
    kind = notice_for(event)
    if kind is None:
        return []
    recipients = User.objects.filter(enterprise_id=case.enterprise_id, is_active=True)
    if event.actor_id:
        recipients = recipients.exclude(pk=event.actor_id)
    note = event.note if kind in (Notice.CASE_DECLINED, Notice.INFO_REQUESTED) else ""
    return Notification.objects.bulk_create(
        Notification(recipient_id=pk, kind=kind, case=case, note=note, created_at=event.created_at)
        for pk in recipients.values_list("pk", flat=True)
    )


def notifications_of(user: User) -> QuerySet[Notification]:
    """The user's inbox, newest first, with the case each notice is about."""
    if not user or not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user).select_related("case").order_by("-created_at", "-id")


def unread_count(user: User) -> int:
    return notifications_of(user).filter(read_at__isnull=True).count()


def mark_read(*, actor: User, notification: Notification | int | None = None) -> int:
    """Mark one of the actor's notices read (or, without one, all of them); returns how many changed.
    Another person's notice does not exist for the actor."""
    unread = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    with transaction.atomic():
        if notification is not None:
            pk = notification.pk if isinstance(notification, Notification) else notification
            if not Notification.objects.filter(recipient=actor, pk=pk).exists():
                raise NotFound()
            unread = unread.filter(pk=pk)
        return unread.update(read_at=timezone.now())


def mark_case_read(*, actor: User, case: Case) -> int:
    """Mark the actor's unread notices about `case` read (they opened the case); returns how many changed."""
    return Notification.objects.filter(recipient=actor, case=case, read_at__isnull=True).update(read_at=timezone.now())
