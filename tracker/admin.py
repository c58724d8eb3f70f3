"""A minimal admin for looking at the data. Case data is read-only here: every change goes through
`services/` (the staff workbench with transition buttons is built on top of this). Reference data is
editable by administrators."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from services.selectors import cases_visible_to, enterprises_visible_to, projects_visible_to, tasks_visible_to
from services.timeline import describe_event
from tracker.models import (
    Attachment,
    Case,
    CaseEvent,
    Category,
    Department,
    Enterprise,
    Extension,
    Feedback,
    HolidayOverride,
    Project,
    Task,
    TaskForce,
    Tier,
    User,
    Visit,
)

admin.site.site_header = _("保姆式挂钩服务 · 工作台")
admin.site.site_title = _("保姆式挂钩服务")
admin.site.index_title = _("工作台")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shows records; changes happen only through the services."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ScopedAdmin(ReadOnlyAdmin):
    """Lists only what the signed-in person may see (services.selectors); anything else is "not found"."""

    def visible(self, user):
        """Rows of models hanging off a case: those of cases the user may see."""
        return self.model.objects.filter(case__in=cases_visible_to(user).values("pk"))

    def get_queryset(self, request):
        queryset = self.visible(request.user)
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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
    ]


@admin.register(Department)
class DepartmentAdmin(ReferenceAdmin):
    list_display = ["name", "code", "kind", "head", "phone", "is_active"]
    list_filter = ["kind", "is_active"]
    list_select_related = ["head"]
    search_fields = ["name", "code"]
    raw_id_fields = ["head"]


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


@admin.register(HolidayOverride)
class HolidayOverrideAdmin(admin.ModelAdmin):
    list_display = ["date", "is_working_day", "note"]
    list_filter = ["is_working_day"]
    date_hierarchy = "date"


@admin.register(Enterprise)
class EnterpriseAdmin(ScopedAdmin):
    list_display = ["name", "uscc", "uscc_checksum_ok", "industry", "park", "concierge", "linked_leader"]
    list_filter = ["industry", "is_key", "uscc_checksum_ok", "tiers"]
    list_select_related = ["concierge", "linked_leader"]
    search_fields = ["name", "uscc"]

    def visible(self, user):
        return enterprises_visible_to(user)


@admin.register(Project)
class ProjectAdmin(ScopedAdmin):
    list_display = ["name", "enterprise", "total_investment", "stage", "level", "concierge"]
    list_filter = ["stage", "level"]
    list_select_related = ["enterprise", "concierge"]
    search_fields = ["name", "enterprise__name"]

    def visible(self, user):
        return projects_visible_to(user)


class TaskInline(ReadOnlyInline):
    model = Task
    fields = ["title", "task_force", "department", "assignee", "due_on", "status", "result"]


class FeedbackInline(ReadOnlyInline):
    model = Feedback
    fields = ["created_at", "source", "verdict", "rating", "comment", "recorded_by"]


class EventInline(ReadOnlyInline):
    model = CaseEvent
    fields = ["created_at", "sentence", "note"]
    ordering = ["created_at", "id"]
    verbose_name_plural = _("时间线")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    @admin.display(description=_("经过"))
    def sentence(self, event):
        return describe_event(event)


@admin.register(Case)
class CaseAdmin(ScopedAdmin):
    list_display = ["number", "title", "enterprise", "category", "status", "concierge", "submitted_at"]
    list_filter = ["status", "category", "channel", "urgency"]
    list_select_related = ["enterprise", "category", "concierge"]
    search_fields = ["number", "title", "enterprise__name", "enterprise__uscc"]
    date_hierarchy = "submitted_at"
    inlines = [TaskInline, FeedbackInline, EventInline]

    def visible(self, user):
        return cases_visible_to(user)


@admin.register(Task)
class TaskAdmin(ScopedAdmin):
    list_display = ["title", "case", "task_force", "department", "assignee", "due_on", "status"]
    list_filter = ["status", "department"]
    list_select_related = ["case", "task_force", "department", "assignee"]
    search_fields = ["title", "case__number"]

    def visible(self, user):
        return tasks_visible_to(user)


@admin.register(CaseEvent)
class CaseEventAdmin(ScopedAdmin):
    list_display = ["created_at", "case", "kind", "actor", "from_status", "to_status"]
    list_filter = ["kind"]
    list_select_related = ["case", "actor"]
    search_fields = ["case__number"]


@admin.register(Feedback)
class FeedbackAdmin(ScopedAdmin):
    list_display = ["case", "verdict", "rating", "source", "recorded_by", "created_at"]
    list_filter = ["verdict", "rating", "source"]
    list_select_related = ["case", "recorded_by"]


@admin.register(Extension)
class ExtensionAdmin(ScopedAdmin):
    list_display = ["task", "previous_due_on", "requested_due_on", "status", "requested_by", "decided_by"]
    list_filter = ["status"]
    list_select_related = ["task", "requested_by", "decided_by"]

    def visible(self, user):
        return Extension.objects.filter(task__in=tasks_visible_to(user).values("pk"))


@admin.register(Attachment)
class AttachmentAdmin(ScopedAdmin):
    list_display = ["original_name", "case", "content_type", "size", "uploaded_by", "created_at"]
    list_select_related = ["case", "uploaded_by"]
    exclude = ["file"]


@admin.register(Visit)
class VisitAdmin(ScopedAdmin):
    list_display = ["enterprise", "visited_on", "concierge", "people_met"]
    list_select_related = ["enterprise", "concierge"]
    search_fields = ["enterprise__name"]
    date_hierarchy = "visited_on"

    def visible(self, user):
        return Visit.objects.filter(enterprise__in=enterprises_visible_to(user).values("pk"))
