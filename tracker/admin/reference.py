"""Reference data and people: editable by administrators only (their groups carry the add/change permissions)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from services.selectors import task_forces_visible_to
from tracker.models import Category, Department, HolidayOverride, TaskForce, Tier, User


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


@admin.register(Department)
class DepartmentAdmin(ReferenceAdmin):
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
