"""Reference data and people: editable by administrators only (their groups carry the add/change permissions).

Nothing here writes a row itself: every save and delete goes to a service with the administrator as actor
(services.register.staff, services.register.reference, services.time.holidays), which checks it, writes it and
records it in the audit log (审计日志, read-only here). A service's refusal shows on the field it names.
"""

import contextvars

from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import ManyToManyField
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from services.delivery import egress
from services.errors import InvalidInput, NotPermitted, ServiceError
from services.register import reference, staff
from services.selectors import task_forces_visible_to
from services.time import calendar as calendar_services
from services.time import holidays
from tracker.admin.base import ReadOnlyAdmin, key_or_none
from tracker.models import (
    AuditEntry,
    Category,
    Department,
    HolidayOverride,
    HolidayYear,
    ReferenceChange,
    TaskForce,
    Tier,
    User,
)

# Saves through the services ----------------------------------------------------------------------------------------


class Refused(Exception):
    """A service refused a save (after the form's own checks passed). Raised out of the admin's transaction so that
    nothing of the request is kept; the page is then shown again with the refusal on its fields."""

    def __init__(self, pk, error: ServiceError):
        super().__init__(error.message)
        self.pk, self.error = pk, error


class RefusalsShown:
    """A form that shows again, on the fields it names, a service's refusal at saving time."""

    # Refusals at saving time of the request shown again, by object id (None: an object being added).
    refusals: dict = {}
    # Where a list row shows a refusal that names no field of the row (a list has no place for a row's own errors).
    unplaced_on: str | None = None
    # A service's name for a field this form calls otherwise.
    field_aliases = {"password": "password1"}

    def clean(self):
        cleaned = super().clean()
        refusal = self.refusals.get(self.instance.pk)
        if refusal is not None:
            self.place(refusal)
        return cleaned

    def place(self, error: ServiceError) -> None:
        """A service's refusal on the fields it names; the rest on the form (or, in a list, on `unplaced_on`)."""
        unplaced = []
        for name, messages_ in error.fields.items():
            name = name if name in self.fields else self.field_aliases.get(name, name)
            if name in self.fields:
                for message in messages_:
                    self.add_error(name, message)
            else:
                unplaced += messages_
        if unplaced or not error.fields:
            text = " ".join([error.message, *unplaced])
            self.add_error(self.unplaced_on if self.unplaced_on in self.fields else None, text)


def _with_refusals(request, form_class):
    if not issubclass(form_class, RefusalsShown):
        form_class = type(form_class.__name__, (RefusalsShown, form_class), {"__module__": __name__})
    form_class.refusals = getattr(request, "_service_refusals", {})
    return form_class


class SavedByService:
    """A ModelAdmin whose saves and deletes go to a service with the signed-in person as actor (`save_by_service`,
    `delete_by_service`): the form's changed fields as values, its many-to-many fields with them, all in the one
    call. Refused at saving time, the whole request is rolled back and the page shown again with the refusal."""

    def save_by_service(self, request, obj, values: dict, related: dict, form):
        """Call the service; `obj` is the row's id, None for a new one. Returns the saved row."""
        raise NotImplementedError

    def delete_by_service(self, request, obj) -> None:
        raise NotImplementedError

    # Django's write paths, each routed to the service

    def form_values(self, form, change: bool) -> tuple[dict, dict]:
        """The values to save: the fields changed (all of them for a new row), plain and many-to-many apart."""
        names = form.changed_data if change else list(form.fields)
        values, related = {}, {}
        for name in names:
            if name not in form.cleaned_data:
                continue
            try:
                field = self.model._meta.get_field(name)
            except FieldDoesNotExist:  # a form's own field (a password's confirmation): the service is told separately
                continue
            if isinstance(field, ManyToManyField):
                related[name] = list(form.cleaned_data[name])
            elif field.concrete and not field.primary_key and field.editable and name != "password":
                values[name] = form.cleaned_data[name]
        return values, related

    def save_model(self, request, obj, form, change):
        values, related = self.form_values(form, change)
        try:
            saved = self.save_by_service(request, obj.pk if change else None, values, related, form)
        except ServiceError as error:
            raise Refused(obj.pk if change else None, error) from error
        for field in self.model._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        # The many-to-many fields went to the service with the row; only inlines (none so far) are left.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        try:
            self.delete_by_service(request, obj)
        except NotPermitted as error:
            raise PermissionDenied(error.message) from error

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def get_form(self, request, obj=None, **kwargs):
        return _with_refusals(request, super().get_form(request, obj, **kwargs))

    def get_changelist_form(self, request, **kwargs):
        form_class = _with_refusals(request, super().get_changelist_form(request, **kwargs))
        form_class.unplaced_on = self.list_editable[0] if self.list_editable else None
        return form_class

    def _shown_again_if_refused(self, view, request, *args):
        """Run `view`; if the service refuses at saving time, everything the request wrote is rolled back (the
        view's own transaction) and the same page is shown again with the refusal on its fields."""
        try:
            return view(request, *args)
        except Refused as refused:
            request._service_refusals = {refused.pk: refused.error}
            return view(request, *args)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._shown_again_if_refused(super().changeform_view, request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        return self._shown_again_if_refused(super().changelist_view, request, extra_context)


class ReferenceAdmin(SavedByService, admin.ModelAdmin):
    """Reference data: administrators edit it; nothing is deleted (cases point at it)."""

    def has_delete_permission(self, request, obj=None):
        return False


# People ------------------------------------------------------------------------------------------------------------

# The person changing a password on the password page (Django's view builds the form without the request).
_password_actor: contextvars.ContextVar = contextvars.ContextVar("password_actor")


class PasswordForm(AdminPasswordChangeForm):
    """Django's password page, saving through services.register.staff.set_password (recorded, never the password)."""

    def save(self, commit=True):
        password = self.cleaned_data["password1"] if self.cleaned_data.get("set_usable_password") else None
        try:
            self.user = staff.set_password(actor=_password_actor.get(), user=self.user.pk, password=password)
        except NotPermitted as error:
            raise PermissionDenied(error.message) from error
        return self.user


@admin.register(User)
class UserAdmin(SavedByService, DjangoUserAdmin):
    list_display = ["username", "full_name", "department", "enterprise", "is_active"]
    list_filter = ["is_active", "is_staff", "groups", "department"]
    list_select_related = ["department", "enterprise"]
    search_fields = ["username", "full_name", "phone", "email"]
    autocomplete_fields = ["department", "enterprise"]
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        (_("单位与身份"), {"fields": ["full_name", "phone", "title", "department", "enterprise"]}),
        (_("提醒方式"), {"fields": ["notify_by_email", "notify_by_wecom"]}),
    ]

    change_password_form = PasswordForm

    def has_delete_permission(self, request, obj=None):
        return False  # people who acted on cases stay on their timelines; deactivate instead

    def save_by_service(self, request, obj, values, related, form):
        if obj is not None:
            return staff.save_user(actor=request.user, user=obj, values=values, **related)
        password = form.cleaned_data.get("password1") if form.cleaned_data.get("set_usable_password", True) else None
        return staff.save_user(actor=request.user, user=None, values=values, password=password, **related)

    def user_change_password(self, request, id, form_url=""):
        token = _password_actor.set(request.user)
        try:
            return super().user_change_password(request, id, form_url)
        finally:
            _password_actor.reset(token)


class DepartmentForm(forms.ModelForm):
    """The robot's address must be a public one (services.delivery.egress); typed without a scheme, https is assumed."""

    wecom_webhook_url = Department._meta.get_field("wecom_webhook_url").formfield(assume_scheme="https")

    def clean_wecom_webhook_url(self):
        url = self.cleaned_data["wecom_webhook_url"]
        if url and (refusal := egress.url_error(url)):
            raise forms.ValidationError(refusal)
        return url


@admin.register(Department)
class DepartmentAdmin(ReferenceAdmin):
    form = DepartmentForm
    list_display = ["name", "code", "kind", "head", "phone", "has_wecom_robot", "is_active"]
    list_filter = ["kind", "is_active"]
    list_select_related = ["head"]
    search_fields = ["name", "code"]
    raw_id_fields = ["head"]

    def save_by_service(self, request, obj, values, related, form):
        return staff.save_department(actor=request.user, department=obj, values=values)

    @admin.display(description=_("企业微信群机器人"), boolean=True)
    def has_wecom_robot(self, department):
        return bool(department.wecom_webhook_url)


# Categories: limits and escalation thresholds saved through services.register.reference -------------------------------

THRESHOLD_HELP = {
    "yellow_after_days": _("事项逾期满这些工作日，报责任部门负责人（黄牌督办）。留空则用系统默认：%(days)d 个工作日"),
    "red_after_days": _(
        "事项逾期满这些工作日，报挂钩领导（红牌督办），须晚于黄牌。留空则用系统默认：%(days)d 个工作日"
    ),
    "accept_escalate_after_days": _(
        "诉求超期未受理、或退回重办后超期未处理满这些工作日，报挂钩领导。留空则用系统默认：%(days)d 个工作日"
    ),
}
# How many changes a category's page lists before linking the full record.
HISTORY_SHOWN = 20


class CategoryForm(RefusalsShown, forms.ModelForm):
    """A category's limits and thresholds, checked as the service that saves them checks them; the thresholds say
    what an empty box means today. Used for the object page and for the list's editable columns."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        low, high = reference.LIMIT_BOUNDS
        for name in reference.CATEGORY_LIMIT_FIELDS:
            if name in self.fields:
                self.fields[name].widget.attrs.update(min=low, max=high)
        for name, text in THRESHOLD_HELP.items():
            if name in self.fields:
                self.fields[name].help_text = text % {"days": reference.default_threshold(name)}

    def clean(self):
        cleaned = super().clean()  # shows a refusal at saving time again
        if self.refusals.get(self.instance.pk) is None and not any(
            name in self.errors for name in reference.CATEGORY_LIMIT_FIELDS
        ):
            limits = {name: cleaned.get(name) for name in reference.CATEGORY_LIMIT_FIELDS if name in self.fields}
            try:
                reference.check_category_limits(category=self.instance, limits=limits)
            except InvalidInput as error:
                self.place(error)
        return cleaned


@admin.register(Category)
class CategoryAdmin(ReferenceAdmin):
    """Administrators set each category's limits and escalation thresholds; every change is saved by
    services.register.reference (which checks it and records it) and listed on the category's page."""

    form = CategoryForm
    list_display = [
        "name",
        "code",
        "accept_days",
        "task_days",
        "verdict_days",
        "thresholds_display",
        "is_active",
        "sort_order",
    ]
    list_editable = ["accept_days", "task_days", "verdict_days"]
    fieldsets = [
        (None, {"fields": ["code", "name", "description", "sort_order", "is_active"]}),
        (
            _("时限（工作日）"),
            {
                "fields": ["accept_days", "task_days", "verdict_days"],
                "description": _("修改后新定的期限按新时限计算，已定的期限不变。"),
            },
        ),
        (
            _("督办（逾期工作日）"),
            {
                "fields": ["yellow_after_days", "red_after_days", "accept_escalate_after_days"],
                "description": _("修改后，下一轮提醒和领导首页的红黄牌即按新规则计算。"),
            },
        ),
    ]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and reference.may_change_category_limits(request.user)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and reference.may_change_category_limits(request.user)

    @admin.display(description=_("督办（逾期工作日）"))
    def thresholds_display(self, category):
        applied = reference.thresholds_of(category)
        parts = []
        for label, name, days in (
            (gettext("黄牌"), "yellow_after_days", applied.yellow),
            (gettext("红牌"), "red_after_days", applied.red),
            (gettext("未受理"), "accept_escalate_after_days", applied.accept_escalate),
        ):
            default = getattr(category, name) is None
            parts.append(f"{label} {days}" + (gettext("（默认）") if default else ""))
        return " · ".join(parts)

    def get_changelist_form(self, request, **kwargs):
        kwargs.setdefault("form", CategoryForm)
        return super().get_changelist_form(request, **kwargs)

    def save_by_service(self, request, obj, values, related, form):
        """The category's own fields by `save_category` (a new one is created with the model's limits), then its
        limits, all of them, by `change_category_limits`, which records them against what they were."""
        limits = {name: form.cleaned_data[name] for name in reference.CATEGORY_LIMIT_FIELDS if name in form.fields}
        others = {name: value for name, value in values.items() if name not in limits}
        if obj is None or others:
            obj = reference.save_category(actor=request.user, category=obj, values=others).pk
        return reference.change_category_limits(actor=request.user, category=obj, **limits)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id is not None:
            extra_context = {**(extra_context or {}), **self._history_context(request, object_id)}
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _history_context(self, request, object_id) -> dict:
        """The category's change record, for whoever may read the records (administrators and leaders)."""
        if not request.user.has_perm("tracker.view_referencechange"):
            return {}
        pk = key_or_none(Category._meta.pk, object_id)
        if pk is None:
            return {}
        changes = list(reference.category_changes(pk)[: HISTORY_SHOWN + 1])
        context = {"limit_changes": changes[:HISTORY_SHOWN]}
        if len(changes) > HISTORY_SHOWN and self.admin_site.offers(request, ReferenceChange):
            query = f"?model={Category._meta.label_lower}&object_id={pk}"
            context["all_changes_url"] = reverse("admin:tracker_referencechange_changelist") + query
        return context


@admin.register(ReferenceChange)
class ReferenceChangeAdmin(ReadOnlyAdmin):
    """设置变更记录: who changed which zone-wide rule, when, from what to what. Append-only: nobody adds, changes
    or deletes a record here (administrators and leaders read it)."""

    list_display = ["created_at", "object_link", "field_label", "change_display", "actor"]
    list_filter = ["field_label"]
    list_select_related = ["actor"]
    search_fields = ["object_repr", "field_label", "actor__username", "actor__full_name"]
    date_hierarchy = "created_at"
    fields = ["created_at", "object_link", "field_label", "old_value", "new_value", "actor"]
    readonly_fields = fields

    @admin.display(description=_("对象"), ordering="object_repr")
    def object_link(self, change):
        if change.model == Category._meta.label_lower:
            url = reverse("admin:tracker_category_change", args=[change.object_id])
            return format_html('<a href="{}">{}</a>', url, change.object_repr)
        return change.object_repr

    @admin.display(description=_("变更"))
    def change_display(self, change):
        return f"{change.old_value} → {change.new_value}"

    def object_title(self, change):
        return f"{change.object_repr} · {change.field_label}"


# The audit log (审计日志) -------------------------------------------------------------------------------------------


def _model_of(label: str):
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _field_label(model, name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name) if model is not None else name
    except FieldDoesNotExist:  # a field since removed: the log keeps its name
        return name


def _shown(value) -> str:
    if isinstance(value, list):
        return "、".join(map(str, value)) or "—"
    return str(value) if value not in ("", None) else "—"


class AuditModelFilter(admin.SimpleListFilter):
    title = _("对象类型")
    parameter_name = "model"

    def lookups(self, request, model_admin):
        labels = AuditEntry.objects.order_by("model").values_list("model", flat=True).distinct()
        return [(label, _model_of(label)._meta.verbose_name if _model_of(label) else label) for label in labels]

    def queryset(self, request, queryset):
        return queryset.filter(model=self.value()) if self.value() else queryset


class AuditActorFilter(admin.SimpleListFilter):
    """The people who appear in the log (not every account of the zone)."""

    title = _("操作人")
    parameter_name = "actor"

    def lookups(self, request, model_admin):
        actors = User.objects.filter(pk__in=AuditEntry.objects.values("actor")).order_by("username")
        return [(str(user.pk), user.display_name) for user in actors]

    def queryset(self, request, queryset):
        pk = key_or_none(AuditEntry._meta.get_field("actor"), self.value()) if self.value() else None
        return queryset.filter(actor_id=pk) if pk is not None else queryset


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """审计日志: who added, changed or deleted a person, a department, a task force, a category, a tier or a holiday
    entry, when, and each field's old and new value. Append-only: read by administrators, never written here."""

    list_display = ["at", "object_link", "model_display", "action", "changes_display", "actor"]
    list_filter = [AuditModelFilter, "action", AuditActorFilter]
    list_select_related = ["actor"]
    search_fields = ["object_repr"]
    search_help_text = _("按对象名称搜索")
    date_hierarchy = "at"
    fields = ["at", "actor", "model_display", "object_link", "action", "changes_table"]
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(description=_("对象类型"), ordering="model")
    def model_display(self, entry):
        model = _model_of(entry.model)
        return model._meta.verbose_name if model is not None else entry.model

    @admin.display(description=_("对象"), ordering="object_repr")
    def object_link(self, entry):
        model = _model_of(entry.model)
        if model is not None and entry.action != AuditEntry.Action.DELETED:
            try:
                url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[entry.object_id])
            except NoReverseMatch:
                return entry.object_repr
            return format_html('<a href="{}">{}</a>', url, entry.object_repr)
        return entry.object_repr

    def _lines(self, entry) -> list[tuple[str, str, str]]:
        model = _model_of(entry.model)
        return [
            (_field_label(model, name), _shown(old), _shown(new)) for name, (old, new) in (entry.changes or {}).items()
        ]

    @admin.display(description=_("变更内容"))
    def changes_display(self, entry):
        return "；".join(f"{label}：{old} → {new}" for label, old, new in self._lines(entry)) or "—"

    @admin.display(description=_("变更内容"))
    def changes_table(self, entry):
        rows = format_html_join("", "<tr><th>{}</th><td>{}</td><td>{}</td></tr>", self._lines(entry))
        head = format_html("<tr><th>{}</th><th>{}</th><th>{}</th></tr>", _("字段"), _("原值"), _("新值"))
        return format_html('<table class="audit-changes">{}{}</table>', head, rows)

    def object_title(self, entry):
        return f"{entry.object_repr} · {entry.get_action_display()}"


@admin.register(Tier)
class TierAdmin(ReferenceAdmin):
    list_display = ["name", "code", "sort_order"]

    def save_by_service(self, request, obj, values, related, form):
        return reference.save_tier(actor=request.user, tier=obj, values=values)


@admin.register(TaskForce)
class TaskForceAdmin(ReferenceAdmin):
    list_display = ["name", "lead_department", "lead", "is_standing", "is_active"]
    list_filter = ["is_standing", "is_active"]
    list_select_related = ["lead_department", "lead"]
    filter_horizontal = ["assisting_departments"]
    raw_id_fields = ["members", "lead", "case"]
    search_fields = ["name"]

    def get_queryset(self, request):
        # A case's own task force carries the enterprise's name: shown only to those who may see the case.
        return super().get_queryset(request).filter(pk__in=task_forces_visible_to(request.user).values("pk"))

    def save_by_service(self, request, obj, values, related, form):
        return staff.save_task_force(actor=request.user, task_force=obj, values=values, **related)


@admin.register(HolidayOverride)
class HolidayOverrideAdmin(SavedByService, admin.ModelAdmin):
    """Next year's holidays and make-up working days, entered when the State Council publishes them."""

    list_display = ["date", "is_working_day", "note"]
    list_filter = ["is_working_day"]
    date_hierarchy = "date"

    def save_by_service(self, request, obj, values, related, form):
        return holidays.save_holiday_override(actor=request.user, override=obj, values=values)

    def delete_by_service(self, request, obj):
        holidays.delete_holiday_override(actor=request.user, override=obj.pk)


class HolidayYearForm(forms.ModelForm):
    class Meta:
        model = HolidayYear
        fields = ["year", "note"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("year") is not None:
            try:
                holidays.check_year_complete(year=cleaned["year"], note=cleaned.get("note", ""))
            except InvalidInput as error:
                for field, messages in error.fields.items():
                    for message in messages:
                        self.add_error(field if field in self.fields else None, message)
        return cleaned


@admin.register(HolidayYear)
class HolidayYearAdmin(admin.ModelAdmin):
    """An administrator confirms a year's holiday schedule once its notice is entered in 节假日调整: from then on
    its deadlines are firm. Until then the year's statutory holidays count by law, and its deadlines are provisional."""

    form = HolidayYearForm
    list_display = ["year", "note", "completed_by", "completed_at"]
    list_select_related = ["completed_by"]

    def get_readonly_fields(self, request, obj=None):
        return ["year", "note", "completed_by", "completed_at"] if obj is not None else []

    def get_fields(self, request, obj=None):
        return ["year", "note"] if obj is None else ["year", "note", "completed_by", "completed_at"]

    def has_change_permission(self, request, obj=None):
        return False  # a confirmation is not edited: delete it to reopen the year, then confirm again

    def _year_shown(self, request, obj) -> int:
        if obj is not None:
            return obj.year
        today = timezone.localdate()
        try:
            return int(request.POST.get("year") or request.GET.get("year") or "")
        except ValueError:
            return today.year + 1 if today.month >= 11 else today.year

    def get_changeform_initial_data(self, request):
        return {"year": self._year_shown(request, None)}

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        obj = self.get_object(request, object_id) if object_id else None
        year = self._year_shown(request, obj)
        context = {
            **(extra_context or {}),
            "title": _("确认全年节假日安排") if obj is None else _("%(year)d 年节假日安排") % {"year": year},
            "show_save_and_add_another": False,
            "show_save_and_continue": False,
        }
        if 2000 <= year <= 2100:  # the schedule of a year the lunar calendar can compute
            context["schedule_year"] = year
            context["schedule"] = calendar_services.year_schedule(year)
        return super().changeform_view(request, object_id, form_url, context)

    def save_model(self, request, obj, form, change):
        saved = holidays.mark_year_complete(
            actor=request.user, year=form.cleaned_data["year"], note=form.cleaned_data.get("note", "")
        )
        obj.pk, obj.completed_by, obj.completed_at = saved.pk, saved.completed_by, saved.completed_at

    def delete_model(self, request, obj):
        """Reopens the year (recorded): its deadlines are provisional again until it is confirmed anew."""
        try:
            holidays.reopen_year(actor=request.user, year=obj.pk)
        except NotPermitted as error:
            raise PermissionDenied(error.message) from error

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)
