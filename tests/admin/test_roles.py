"""Role groups carry exactly the permissions docs/states-and-roles.md gives, and the admin honours them."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from services.register.reference import ensure_role_groups
from services.roles import Role

pytestmark = pytest.mark.django_db

CONTEXT = {
    f"tracker.view_{m}"
    for m in [
        "category",
        "department",
        "taskforce",
        "tier",
        "holidayoverride",
        "holidayyear",
        "enterprise",
        "project",
        "case",
        "task",
        "extension",
        "caseevent",
        "attachment",
    ]
}


def _permissions(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_each_role_group_has_exactly_its_permissions():
    ensure_role_groups()
    extra = {"tracker.view_feedback", "tracker.view_visit"}
    assert _permissions(Role.CONCIERGE) == CONTEXT | extra | {"tracker.add_visit"}
    assert _permissions(Role.TASK_FORCE_MEMBER) == CONTEXT
    assert _permissions(Role.DEPARTMENT_OFFICER) == CONTEXT
    # Leaders and administrators read who changed a zone-wide rule (设置变更记录); nobody writes those records by hand
    records = {"tracker.view_referencechange"}
    assert _permissions(Role.LEADER) == CONTEXT | extra | records | {"tracker.view_user", "tracker.add_visit"}
    admin = _permissions(Role.ADMINISTRATOR)
    assert records <= admin
    assert not {p for p in admin if p.endswith("_referencechange") and not p.startswith("tracker.view_")}
    editable = ["category", "department", "taskforce", "tier", "holidayoverride", "enterprise", "project", "user"]
    assert {f"tracker.{op}_{m}" for m in editable for op in ("add", "change")} <= admin
    # Nothing is deleted but a holiday entry and a year's confirmation (which reopens that year)
    deletable = {"tracker.delete_holidayoverride", "tracker.delete_holidayyear"}
    assert {p for p in admin if p.startswith("tracker.delete_")} == deletable
    assert not {p for p in admin if p.endswith(("_case", "_task", "_caseevent")) and "view_" not in p}
    assert _permissions(Role.INTEGRATION) == set()
    # Running it again changes nothing
    ensure_role_groups()
    assert _permissions(Role.TASK_FORCE_MEMBER) == CONTEXT


def test_reference_data_is_editable_by_administrators_only(client, zone):
    url = reverse("admin:tracker_category_change", args=[zone.category.pk])
    data = {"code": "land", "name": "用地空间", "accept_days": 1, "task_days": 7, "verdict_days": 5, "sort_order": 0}
    data["is_active"] = "on"
    data["description"] = ""
    for user in (zone.concierge, zone.leader, zone.officer):
        client.force_login(user)
        page = client.get(url)
        assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
        assert client.post(url, data).status_code == 403
    zone.category.refresh_from_db()
    assert zone.category.task_days == 10
    client.force_login(zone.admin)
    assert client.post(url, data).status_code == 302
    zone.category.refresh_from_db()
    assert zone.category.task_days == 7


def test_task_units_cannot_open_visits_or_verdicts(client, zone):
    client.force_login(zone.officer)
    assert client.get(reverse("admin:tracker_visit_changelist")).status_code == 403
    assert client.get(reverse("admin:tracker_feedback_changelist")).status_code == 403
    client.force_login(zone.concierge)
    assert client.get(reverse("admin:tracker_visit_changelist")).status_code == 200


def test_only_administrators_manage_the_periodic_work(client, zone):
    # Given the periodic tasks as `manage.py seed` creates them
    from django_celery_beat.models import PeriodicTask

    from services.time.schedules import ensure_periodic_tasks

    ensure_periodic_tasks()
    task = PeriodicTask.objects.get(task="tracker.tasks.deliver_due_webhooks")
    url = reverse("admin:django_celery_beat_periodictask_change", args=[task.pk])
    # Then an administrator may open and change them, and nobody else sees them
    admin = _permissions(Role.ADMINISTRATOR)
    assert {"django_celery_beat.view_periodictask", "django_celery_beat.change_periodictask"} <= admin
    assert not {p for p in admin if p.startswith("django_celery_beat.delete_")}
    client.force_login(zone.admin)
    assert client.get(url).status_code == 200
    for user in (zone.concierge, zone.leader, zone.officer):
        client.force_login(user)
        assert client.get(url).status_code in (302, 403)


def test_administrators_see_sign_in_locks_and_lift_them(client, zone, settings):
    # Given a username locked after too many failed logins on the portal
    from axes.models import AccessAttempt

    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        client.post(reverse("portal:login"), {"username": "ent_user", "password": "wrong"})
    attempt = AccessAttempt.objects.get(username="ent_user")
    # Then an administrator finds it in the admin and may delete it (which unlocks the username); others may not
    client.force_login(zone.admin)
    assert client.get(reverse("admin:axes_accessattempt_changelist")).status_code == 200
    assert (
        client.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}).status_code == 302
    )
    assert not AccessAttempt.objects.exists()
    client.force_login(zone.leader)
    assert client.get(reverse("admin:axes_accessattempt_changelist")).status_code == 403
