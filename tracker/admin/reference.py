"""Reference data and people: editable by administrators only (their groups carry the add/change permissions)."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from services import calendar as calendar_services
from services import egress
from services.errors import InvalidInput
from services.selectors import task_forces_visible_to
from tracker.models import Category, Department, HolidayOverride, HolidayYear, TaskForce, Tier, User


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
    """The robot's address must be a public one (services.egress); typed without a scheme, https is assumed."""

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


@admin.register(Category)
class CategoryAdmin(ReferenceAdmin):
    list_display = ["name", "code", "accept_days", "task_days", "verdict_days", "is_active", "sort_order"]
    list_editable = ["accept_days", "task_days", "verdict_days"]


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
                calendar_services.check_year_complete(year=cleaned["year"], note=cleaned.get("note", ""))
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
        saved = calendar_services.mark_year_complete(
            actor=request.user, year=form.cleaned_data["year"], note=form.cleaned_data.get("note", "")
        )
        obj.pk, obj.completed_by, obj.completed_at = saved.pk, saved.completed_by, saved.completed_at
