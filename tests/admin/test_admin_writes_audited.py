"""Every page of the workbench where an administrator edits the zone's people, units, reference data or holidays
saves through a service and leaves an entry in the audit log (审计日志), which administrators alone read and nobody
edits. The pages are found in the admin registry, not listed by hand: a page added later is walked too."""

from datetime import date, datetime

import pytest
from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import ManyToManyRawIdWidget
from django.contrib.auth.models import Group
from django.core.exceptions import FieldDoesNotExist
from django.test import RequestFactory
from django.urls import reverse

from services.roles import Role
from tests.factories import HolidayOverrideFactory, TierFactory
from tracker.admin_site import WorkbenchSite
from tracker.models import AuditEntry, HolidayOverride, TaskForce

pytestmark = pytest.mark.django_db

SUFFIX = "（改）"


def editable_admins(admin_user) -> list:
    """The registered admins of the domain's tables that an administrator may add to or change by the model
    permissions their role carries (not the pages with services of their own and no model permission: case intake,
    API tokens, webhooks)."""
    request = RequestFactory().get("/")
    request.user = admin_user
    found = []
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        if opts.app_label != "tracker":
            continue
        held = {admin_user.has_perm(f"tracker.{op}_{opts.model_name}") for op in ("add", "change")}
        if True not in held:
            continue
        if model_admin.has_change_permission(request) or model_admin.has_add_permission(request):
            found.append(model_admin)
    return found


def post_data(form) -> dict:
    """What the browser sends back for `form` as it was shown."""
    data = {}
    for bound in form:
        if bound.field.disabled:
            continue
        value = bound.value()
        widget = bound.field.widget
        if isinstance(widget, forms.MultiWidget):
            parts = widget.decompress(value) if not isinstance(value, list) else value
            for index, part in enumerate(parts):
                data[f"{bound.html_name}_{index}"] = "" if part is None else str(part)
        elif isinstance(bound.field, forms.BooleanField):
            if value:
                data[bound.html_name] = "on"
        elif isinstance(widget, ManyToManyRawIdWidget):
            data[bound.html_name] = ",".join(str(getattr(item, "pk", item)) for item in value or [])
        elif isinstance(value, list | tuple):
            data[bound.html_name] = [str(getattr(item, "pk", item)) for item in value]
        elif value is None:
            data[bound.html_name] = ""
        elif isinstance(value, datetime | date):
            data[bound.html_name] = value.isoformat()
        else:
            data[bound.html_name] = str(getattr(value, "pk", value))
    return data


def a_valid_change(form, model) -> str | None:
    """The first plain text field of the form, non-unique ones first: the one the walk types into."""
    candidates = []
    for name, field in form.fields.items():
        if type(field) is not forms.CharField or field.disabled or name.startswith("password"):
            continue
        try:
            model_field = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if model_field.choices or (model_field.validators and name == "username"):
            continue
        candidates.append((model_field.unique, name))
    return sorted(candidates)[0][1] if candidates else None


@pytest.fixture
def everything(zone):
    """A row of each table the walk may open."""
    TierFactory(code="gazelle", name="瞪羚")
    HolidayOverrideFactory(date=date(2027, 10, 9), is_working_day=True, note="国庆调休")
    return zone


def test_every_editable_reference_page_saves_through_a_service_and_is_audited(client, everything):
    zone = everything
    client.force_login(zone.admin)
    admins = editable_admins(zone.admin)
    walked = {model_admin.model._meta.model_name for model_admin in admins}
    # (the walk sees the pages it should, and the workbench's site: a test of the test)
    assert isinstance(admin.site, WorkbenchSite)
    assert {"user", "department", "taskforce", "category", "tier", "holidayoverride", "holidayyear"} <= walked
    request = RequestFactory().get("/")
    request.user = zone.admin
    for model_admin in admins:
        model, opts = model_admin.model, model_admin.model._meta
        before = AuditEntry.objects.count()
        row = model_admin.get_queryset(request).order_by("pk").first()
        if row is not None and model_admin.has_change_permission(request, row):
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk])
        else:
            url, row = reverse(f"admin:{opts.app_label}_{opts.model_name}_add"), None
        page = client.get(url)
        assert page.status_code == 200, url
        form = page.context["adminform"].form
        data = {**post_data(form), "_save": "保存"}
        typed = a_valid_change(form, model) if row is not None else None
        if typed:
            data[typed] = (data[typed] + SUFFIX)[: form.fields[typed].max_length or None]
        response = client.post(url, data)
        errors = response.context["adminform"].form.errors if response.status_code == 200 else None
        assert response.status_code == 302, (url, errors)
        # Then the log gained an entry naming the object, and the save went through
        assert AuditEntry.objects.count() == before + 1, url
        entry = AuditEntry.objects.order_by("-id").first()
        saved = model._default_manager.get(pk=row.pk if row is not None else entry.object_id)
        assert (entry.model, entry.object_id, entry.actor) == (opts.label_lower, str(saved.pk), zone.admin)
        assert entry.object_repr == str(saved)[:200]
        if typed:
            assert getattr(saved, typed) == data[typed], url
            assert entry.changes[typed][1] == data[typed]
        else:
            assert entry.action == "created"


def test_a_non_administrator_is_refused_and_nothing_is_recorded(client, zone):
    url = reverse("admin:tracker_department_change", args=[zone.department.pk])
    data = {"code": "planning", "name": "规划局", "kind": "government", "phone": "", "wecom_webhook_url": ""}
    for user in (zone.leader, zone.concierge, zone.officer):
        client.force_login(user)
        assert client.post(url, {**data, "sort_order": 0, "is_active": "on"}).status_code == 403
    zone.department.refresh_from_db()
    assert zone.department.name == "规划建设局"
    assert not AuditEntry.objects.exists()


def test_a_refusal_of_the_service_shows_on_its_field_and_keeps_nothing(client, zone):
    # Given a department's page, where an enterprise's user is typed in as its head (raw id: the form lets it by)
    client.force_login(zone.admin)
    url = reverse("admin:tracker_department_change", args=[zone.department.pk])
    form = client.get(url).context["adminform"].form
    data = {**post_data(form), "name": "规划局", "head": str(zone.enterprise_user.pk), "_save": "保存"}
    response = client.post(url, data)
    # Then the page comes back with the service's words on the head, and nothing was kept or recorded
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"head": ["须为在职的工作人员"]}
    assert "须为在职的工作人员" in response.content.decode()
    zone.department.refresh_from_db()
    assert (zone.department.name, zone.department.head) == ("规划建设局", None)
    assert not AuditEntry.objects.exists()


def test_a_form_error_writes_nothing(client, zone):
    HolidayOverrideFactory(date=date(2027, 10, 9), is_working_day=True)
    client.force_login(zone.admin)
    response = client.post(
        reverse("admin:tracker_holidayoverride_add"), {"date": "2027-10-09", "note": "重复", "_save": "保存"}
    )
    assert response.status_code == 200 and "date" in response.context["adminform"].form.errors
    assert HolidayOverride.objects.count() == 1
    assert not AuditEntry.objects.exists()


def test_the_category_list_columns_are_audited(client, zone):
    client.force_login(zone.admin)
    data = {"form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", "form-MIN_NUM_FORMS": "0", "form-MAX_NUM_FORMS": ""}
    row = {"id": zone.category.pk, "accept_days": 1, "task_days": 12, "verdict_days": 5}
    data.update({f"form-0-{name}": value for name, value in row.items()}, _save="保存")
    assert client.post(reverse("admin:tracker_category_changelist"), data).status_code == 302
    entry = AuditEntry.objects.get()
    assert (entry.model, entry.object_id, entry.actor) == ("tracker.category", str(zone.category.pk), zone.admin)
    assert entry.changes == {"task_days": ["10 个工作日", "12 个工作日"]}


def test_roles_members_and_passwords_on_their_pages_are_audited(client, zone):
    client.force_login(zone.admin)
    # A person given the leader's role
    url = reverse("admin:tracker_user_change", args=[zone.concierge.pk])
    form = client.get(url).context["adminform"].form
    leaders = Group.objects.get(name=Role.LEADER)
    data = {**post_data(form), "groups": [str(g.pk) for g in zone.concierge.groups.all()] + [str(leaders.pk)]}
    assert client.post(url, {**data, "_save": "保存"}).status_code == 302
    assert AuditEntry.objects.get().changes == {"groups": [["服务专员"], ["服务专员", "领导"]]}
    # Their password set on its page: recorded as changed, never the password
    password_url = reverse("admin:auth_user_password_change", args=[zone.concierge.pk])
    typed = {"password1": "Kunshan-2027-safe", "password2": "Kunshan-2027-safe", "usable_password": "true"}
    assert client.post(password_url, typed).status_code == 302
    zone.concierge.refresh_from_db()
    assert zone.concierge.check_password("Kunshan-2027-safe")
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry.changes == {"password": ["", "已修改密码"]}
    # A new person: recorded, without the password
    add = {"username": "newofficer", "usable_password": "true", "password1": "Kunshan-2027-safe"}
    response = client.post(reverse("admin:tracker_user_add"), {**add, "password2": "Kunshan-2027-safe"})
    assert response.status_code == 302
    created = AuditEntry.objects.order_by("-id").first()
    assert created.action == "created" and created.object_repr == "newofficer"
    assert created.changes["password"] == ["", "已修改密码"]
    assert "Kunshan" not in str(created.changes)
    # A task force's members
    url = reverse("admin:tracker_taskforce_change", args=[zone.task_force.pk])
    form = client.get(url).context["adminform"].form
    data = {**post_data(form), "members": f"{zone.member.pk},{zone.officer.pk}", "_save": "保存"}  # a raw-id box
    assert client.post(url, data).status_code == 302
    assert set(TaskForce.objects.get().members.all()) == {zone.member, zone.officer}
    assert AuditEntry.objects.order_by("-id").first().changes == {"members": [["周八"], ["周八", "赵六"]]}


def test_deleting_a_holiday_entry_is_audited(client, zone):
    override = HolidayOverrideFactory(date=date(2027, 10, 9), is_working_day=True, note="国庆调休")
    client.force_login(zone.admin)
    delete = reverse("admin:tracker_holidayoverride_delete", args=[override.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not HolidayOverride.objects.exists()
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.object_repr) == ("deleted", "2027-10-09 国庆调休")


# The log's page -----------------------------------------------------------------------------------------------------


def test_the_audit_log_is_read_by_administrators_only_and_never_edited(client, zone):
    client.force_login(zone.admin)
    url = reverse("admin:tracker_department_change", args=[zone.department.pk])
    form = client.get(url).context["adminform"].form
    assert client.post(url, {**post_data(form), "phone": "0512-57771234", "_save": "保存"}).status_code == 302
    entry = AuditEntry.objects.get()
    listing = reverse("admin:tracker_auditentry_changelist")
    # An administrator finds it in the menu, filters it by model and actor, and searches it by the object's name
    assert listing in client.get(reverse("admin:index") + "?all=1").content.decode()
    page = client.get(listing).content.decode()
    assert "审计日志" in page and "规划建设局" in page and "联系电话：— → 0512-57771234" in page
    filtered = client.get(listing, {"model": "tracker.department", "actor": zone.admin.pk, "q": "规划"})
    assert list(filtered.context["cl"].result_list) == [entry]
    assert not client.get(listing, {"q": "供电"}).context["cl"].result_list
    assert client.get(listing, {"at__year": entry.at.year}).status_code == 200
    detail = client.get(reverse("admin:tracker_auditentry_change", args=[entry.pk]))
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
    # Nobody adds, changes or deletes an entry
    assert client.get(reverse("admin:tracker_auditentry_add")).status_code == 403
    change = reverse("admin:tracker_auditentry_change", args=[entry.pk])
    assert client.post(change, {"object_repr": "x"}).status_code == 403
    assert client.post(reverse("admin:tracker_auditentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.get().object_repr == "规划建设局"
    # Other roles do not read it
    for user in (zone.leader, zone.concierge, zone.officer):
        client.force_login(user)
        assert client.get(listing).status_code == 403
        assert client.get(change).status_code in (302, 403)
