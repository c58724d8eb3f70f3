"""Cases in the workbench: the concierge's queue, the case page with its buttons, decomposition, the ledger."""

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from services import calendar
from services import cases as case_services
from services import tasks as task_services
from services.deadlines import (
    annotate_case_deadlines,
    cases_due_between_q,
    is_task_overdue,
    overdue_cases_q,
    rest_of_week,
)
from services.ledger import case_ledger
from services.permissions import case_actions_for
from services.roles import Role
from services.selectors import case_timeline, cases_visible_to, my_cases_q
from services.timeline import describe_event
from tracker.admin.base import (
    TEXTAREA,
    ActionForm,
    DateField,
    ObjectAction,
    ObjectActionsMixin,
    ReadOnlyInline,
    ScopedAdmin,
    StaffChoiceField,
    TextFilter,
    UnitForm,
    expected_version,
    place_row_error,
)
from tracker.admin.display import status_badge
from tracker.models import Attachment, Case, Feedback, Task

CS = Case.Status


# ---- list filters ------------------------------------------------------------------------------------------


class QueueFilter(admin.SimpleListFilter):
    title = _("队列")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("mine", _("我挂钩的"))]

    def queryset(self, request, queryset):
        if self.value() == "mine":
            return queryset.filter(my_cases_q(request.user))
        return queryset


class DeadlineFilter(admin.SimpleListFilter):
    title = _("期限")
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return [("overdue", _("已逾期")), ("today", _("今天到期")), ("week", _("本周到期"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "overdue":
            return queryset.filter(overdue_cases_q(today))
        if self.value() == "today":
            return queryset.filter(cases_due_between_q(today, today))
        if self.value() == "week":
            return queryset.filter(cases_due_between_q(*rest_of_week(today)))
        return queryset


class EnterpriseFilter(TextFilter):
    title = _("企业")
    parameter_name = "enterprise"

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        if value.isdigit() and len(value) < 18:
            return queryset.filter(enterprise_id=int(value))
        if value:
            return queryset.filter(Q(enterprise__name__icontains=value) | Q(enterprise__uscc=value.upper()))
        return queryset


class ProjectFilter(TextFilter):
    title = _("投资项目")
    parameter_name = "project"

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        if value.isdigit():
            return queryset.filter(project_id=int(value))
        if value:
            return queryset.filter(project__name__icontains=value)
        return queryset


# ---- action forms ------------------------------------------------------------------------------------------


class ReasonForm(ActionForm):
    reason = forms.CharField(label=_("理由"), widget=TEXTAREA, required=False)


class NoteForm(ActionForm):
    note = forms.CharField(label=_("补充内容"), widget=TEXTAREA, required=False)


class RequestInfoForm(ActionForm):
    note = forms.CharField(
        label=_("需要企业补充的内容"),
        widget=TEXTAREA,
        required=False,
        help_text=_("企业将在门户收到通知，看到这段话"),
    )


class AnswerForm(ActionForm):
    answer = forms.CharField(label=_("办结答复"), widget=forms.Textarea(attrs={"rows": 8, "cols": 80}), required=False)


class CallbackForm(ActionForm):
    verdict = forms.ChoiceField(label=_("企业意见"), choices=Feedback.Verdict.choices, widget=forms.RadioSelect)
    rating = forms.TypedChoiceField(
        label=_("满意度"),
        choices=[("", "—"), *Feedback.Rating.choices],
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_("确认办结时必填"),
    )
    comment = forms.CharField(label=_("回访记录"), widget=TEXTAREA, required=False, help_text=_("退回重办时必填"))


class ReassignForm(ActionForm):
    concierge = StaffChoiceField(label=_("新的服务专员"), role=Role.CONCIERGE)
    note = forms.CharField(label=_("说明"), widget=TEXTAREA, required=False)


class TaskSpecForm(UnitForm):
    """One task of a decomposition. A row left as offered is skipped."""

    title = forms.CharField(label=_("事项"), max_length=200, required=False)
    due_on = DateField(label=_("办理期限"), required=False)
    description = forms.CharField(label=_("要求"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    field_order = ["title", "task_force", "department", "assignee", "due_on", "description"]


TaskSpecFormSet = forms.formset_factory(TaskSpecForm, extra=3)


class DecomposeForm(ActionForm):
    """Several tasks at once; each due date is pre-filled from the category's working-day limit."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        data = args[0] if args else None
        due = calendar.add_working_days(timezone.localdate(), self.obj.category.task_days)
        self.default_due = due
        self.tasks = TaskSpecFormSet(data, prefix="tasks", initial=[{"due_on": due.date}] * 3)

    def changed_forms(self) -> list[forms.Form]:
        return [f for f in self.tasks.forms if f.has_changed()]

    def is_valid(self):
        return super().is_valid() & self.tasks.is_valid()

    def clean(self):
        cleaned = super().clean()
        if self.tasks.is_valid():
            cleaned["tasks"] = [task_services.TaskSpec(**f.cleaned_data) for f in self.changed_forms()]
        return cleaned

    def place_service_error(self, field: str, errors: list[str]) -> bool:
        """`tasks[i].title` names the i-th task given, i.e. the i-th row filled in."""
        if field == "tasks":
            for message in errors:
                self.add_error(None, message)
            return True
        return place_row_error(self.changed_forms(), "tasks", field, errors) or super().place_service_error(
            field, errors
        )


# ---- the admin ---------------------------------------------------------------------------------------------


CASE_ACTIONS = {
    action.name: action
    for action in [
        ObjectAction(
            "accept",
            _("受理"),
            lambda actor, case, data: case_services.accept_case(
                actor=actor, case=case, expected_version=expected_version(data)
            ),
            _("已受理"),
            style="primary",
        ),
        ObjectAction(
            "decompose",
            _("分解交办"),
            lambda actor, case, data: task_services.decompose_case(
                actor=actor, case=case, tasks=data["tasks"], expected_version=expected_version(data)
            ),
            _("已交办"),
            form=DecomposeForm,
            style="primary",
        ),
        ObjectAction(
            "resolve",
            _("办结答复"),
            lambda actor, case, data: case_services.resolve_case(
                actor=actor, case=case, answer=data["answer"], expected_version=expected_version(data)
            ),
            _("已答复，等待企业验收"),
            form=AnswerForm,
            style="primary",
        ),
        ObjectAction(
            "callback",
            _("电话回访"),
            lambda actor, case, data: case_services.record_callback(
                actor=actor,
                case=case,
                verdict=data["verdict"],
                rating=data["rating"],
                comment=data["comment"],
                expected_version=expected_version(data),
            ),
            _("已记录回访结果"),
            form=CallbackForm,
        ),
        ObjectAction(
            "add_info",
            _("补充材料"),
            lambda actor, case, data: case_services.add_case_info(actor=actor, case=case, note=data["note"]),
            _("已补充"),
            form=NoteForm,
        ),
        ObjectAction(
            "request_info",
            _("请企业补充材料"),
            lambda actor, case, data: case_services.request_case_info(actor=actor, case=case, note=data["note"]),
            _("已通知企业补充材料"),
            form=RequestInfoForm,
        ),
        ObjectAction(
            "reassign",
            _("变更服务专员"),
            lambda actor, case, data: case_services.reassign_concierge(
                actor=actor, case=case, concierge=data["concierge"], note=data["note"]
            ),
            _("已变更服务专员"),
            form=ReassignForm,
        ),
        ObjectAction(
            "decline",
            _("不予受理"),
            lambda actor, case, data: case_services.decline_case(
                actor=actor, case=case, reason=data["reason"], expected_version=expected_version(data)
            ),
            _("已不予受理"),
            form=ReasonForm,
            style="danger",
        ),
    ]
}


class TaskInline(ReadOnlyInline):
    model = Task
    fields = ["title_link", "unit", "assignee", "due_on", "status_badge", "result"]
    verbose_name_plural = _("交办事项")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("task_force", "department", "assignee")

    @admin.display(description=_("事项"))
    def title_link(self, task):
        return format_html('<a href="{}">{}</a>', reverse("admin:tracker_task_change", args=[task.pk]), task.title)

    @admin.display(description=_("承办单位"))
    def unit(self, task):
        return task_services.unit_name(task.task_force, task.department)

    @admin.display(description=_("状态"))
    def status_badge(self, task):
        return status_badge(task, overdue=is_task_overdue(task, timezone.localdate()))


class FeedbackInline(ReadOnlyInline):
    model = Feedback
    fields = ["created_at", "source", "verdict", "rating", "comment", "recorded_by"]
    verbose_name_plural = _("企业评价")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recorded_by")


@admin.register(Case)
class CaseAdmin(ObjectActionsMixin, ScopedAdmin):
    list_display = [
        "number_display",
        "title",
        "enterprise",
        "category",
        "status_display",
        "urgency_display",
        "next_due_display",
        "concierge",
        "submitted_at",
    ]
    list_display_links = ["number_display", "title"]
    list_filter = [
        QueueFilter,
        "status",
        DeadlineFilter,
        "category",
        "urgency",
        "channel",
        EnterpriseFilter,
        ProjectFilter,
    ]
    list_select_related = ["enterprise", "category", "concierge"]
    list_per_page = 50
    search_fields = ["number", "title", "enterprise__name", "=enterprise__uscc"]
    search_help_text = _("按诉求编号、标题、企业名称或统一社会信用代码搜索")
    show_full_result_count = False
    inlines = [TaskInline, FeedbackInline]
    fieldsets = [
        (None, {"fields": ["number", "title", "description", "category", "urgency", "channel", "status"]}),
        (_("办理"), {"fields": ["concierge", "submitted_by", "submitted_at", "accept_due_on", "accepted_at"]}),
        (_("答复与验收"), {"fields": ["answer", "resolved_at", "verdict_due_on", "closed_at"]}),
    ]
    object_actions = CASE_ACTIONS
    change_form_template = "admin/tracker/case/change_form.html"
    change_list_template = "admin/tracker/case/change_list.html"

    def visible(self, user):
        return annotate_case_deadlines(cases_visible_to(user), timezone.localdate())

    def get_ordering(self, request):
        return ["-urgency_rank", "-submitted_at", "-id"]

    def actions_for(self, request, obj):
        return case_actions_for(request.user, obj)

    def get_urls(self):
        return [
            path("export/", self.admin_site.admin_view(self.export_view), name="tracker_case_export"),
            *super().get_urls(),
        ]

    def export_view(self, request):
        """The current filtered list (every page of it) as an Excel ledger."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
            cases = changelist.get_queryset(request)
        except IncorrectLookupParameters:
            # As the list itself answers unknown filters: back to it, with Django's "?e=1" notice.
            return HttpResponseRedirect(reverse("admin:tracker_case_changelist") + "?e=1")
        today = timezone.localdate()
        response = HttpResponse(
            case_ledger(cases, today=today),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        filename = f"ledger-{today:%Y%m%d}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    @admin.display(description=_("诉求编号"), ordering="number")
    def number_display(self, case):
        if getattr(case, "is_overdue", False):
            return format_html('{} <span class="badge badge-overdue">{}</span>', case.number, _("逾期"))
        return case.number

    @admin.display(description=_("状态"), ordering="status")
    def status_display(self, case):
        return status_badge(case)

    @admin.display(description=_("紧急程度"), ordering="urgency_rank")
    def urgency_display(self, case):
        if case.urgency == Case.Urgency.NORMAL:
            return case.get_urgency_display()
        return format_html('<span class="badge badge-{}">{}</span>', case.urgency, case.get_urgency_display())

    @admin.display(description=_("下一期限"), ordering="next_due")
    def next_due_display(self, case):
        due = getattr(case, "next_due", None)
        if due is None:
            return "—"
        css = "overdue" if due < timezone.localdate() else ""
        return format_html('<span class="{}">{}</span>', css, due.strftime("%Y-%m-%d"))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        case = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if case is not None:
            extra_context.update(self.case_page_context(request, case))
        return super().change_view(request, object_id, form_url, extra_context)

    def case_page_context(self, request, case) -> dict:
        events = list(case_timeline(case))
        return {
            "case": case,
            "buttons": self.action_buttons(request, case),
            "timeline": [(event, describe_event(event)) for event in events],
            "attachments": list(Attachment.objects.filter(case=case).select_related("uploaded_by")),
        }

    def action_context(self, action, request, obj, form):
        return {"case": obj}
