"""Reference data and people: editable by administrators only (their groups carry the add/change permissions)."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from services.delivery import egress
from services.errors import InvalidInput, ServiceError
from services.register import reference
from services.selectors import task_forces_visible_to
from services.time import calendar as calendar_services
from services.time import holidays
from tracker.admin.base import ReadOnlyAdmin, key_or_none
from tracker.models import Category, Department, HolidayOverride, HolidayYear, ReferenceChange, TaskForce, Tier, User


class ReferenceAdmin(admin.ModelAdmin):
    """Reference data: administrators edit it; nothing is deleted (cases point at it)."""

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
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

    def has_delete_permission(self, request, obj=None):
        return False  # people who acted on cases stay on their timelines; deactivate instead


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


class LimitsRefused(Exception):
    """The service refused a category's limits at saving time (after the form's own check passed: another
    administrator's change in between). Raised out of the admin's transaction so that nothing is kept."""

    def __init__(self, pk: int | None, error: ServiceError):
        super().__init__(error.message)
        self.pk, self.error = pk, error


class CategoryForm(forms.ModelForm):
    """A category's limits and thresholds, checked as the service that saves them checks them; the thresholds say
    what an empty box means today. Used for the object page and for the list's editable columns."""

    # Refusals at saving time of the request shown again, by category id (None: a category being added).
    refusals: dict[int | None, ServiceError] = {}
    # Where a list row shows a refusal that names no field of the row (a list has no place for a row's own errors).
    unplaced_on: str | None = None

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
        cleaned = super().clean()
        refusal = self.refusals.get(self.instance.pk)
        if refusal is not None:
            self.place(refusal)
        elif not any(name in self.errors for name in reference.CATEGORY_LIMIT_FIELDS):
            limits = {name: cleaned.get(name) for name in reference.CATEGORY_LIMIT_FIELDS if name in self.fields}
            try:
                reference.check_category_limits(category=self.instance, limits=limits)
            except InvalidInput as error:
                self.place(error)
        return cleaned

    def place(self, error: ServiceError) -> None:
        """A service's refusal on the fields it names; the rest on the form (or, in a list, on `unplaced_on`)."""
        unplaced = []
        for name, messages in error.fields.items():
            if name in self.fields:
                for message in messages:
                    self.add_error(name, message)
            else:
                unplaced += messages
        if unplaced or not error.fields:
            text = " ".join([error.message, *unplaced])
            self.add_error(self.unplaced_on if self.unplaced_on in self.fields else None, text)


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

    def _with_refusals(self, request, form_class):
        form_class.refusals = getattr(request, "_category_refusals", {})
        return form_class

    def get_form(self, request, obj=None, change=False, **kwargs):
        return self._with_refusals(request, super().get_form(request, obj, change, **kwargs))

    def get_changelist_form(self, request, **kwargs):
        kwargs.setdefault("form", CategoryForm)
        form_class = self._with_refusals(request, super().get_changelist_form(request, **kwargs))
        form_class.unplaced_on = self.list_editable[0]
        return form_class

    def save_model(self, request, obj, form, change):
        limits = {name: form.cleaned_data[name] for name in reference.CATEGORY_LIMIT_FIELDS if name in form.fields}
        if change:
            others = [name for name in form.changed_data if name not in limits]
            if others:
                obj.save(update_fields=others)
        else:
            # Created with the model's limits, then given the form's by the service, which records them.
            for name in limits:
                setattr(obj, name, Category._meta.get_field(name).get_default())
            obj.save()
        try:
            saved = reference.change_category_limits(actor=request.user, category=obj.pk, **limits)
        except ServiceError as error:
            raise LimitsRefused(obj.pk if change else None, error) from error
        for name in limits:
            setattr(obj, name, getattr(saved, name))

    def _shown_again_if_refused(self, view, request, *args):
        """Run `view`; if the service refuses at saving time, everything the request wrote is rolled back (the
        view's own transaction) and the same page is shown again with the refusal on its fields."""
        try:
            return view(request, *args)
        except LimitsRefused as refused:
            request._category_refusals = {refused.pk: refused.error}
            return view(request, *args)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id is not None:
            extra_context = {**(extra_context or {}), **self._history_context(request, object_id)}
        view = super().changeform_view
        return self._shown_again_if_refused(view, request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        return self._shown_again_if_refused(super().changelist_view, request, extra_context)

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


@admin.register(Tier)
class TierAdmin(ReferenceAdmin):
    list_display = ["name", "code", "sort_order"]


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


@admin.register(HolidayOverride)
class HolidayOverrideAdmin(admin.ModelAdmin):
    """Next year's holidays and make-up working days, entered when the State Council publishes them."""

    list_display = ["date", "is_working_day", "note"]
    list_filter = ["is_working_day"]
    date_hierarchy = "date"


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
