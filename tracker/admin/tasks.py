"""Tasks in the workbench: the task units' queue, the task page with its buttons, and extension decisions."""

from datetime import timedelta

from django import forms
from django.contrib import admin
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from services.cases import tasks as task_services
from services.cases.timeline import describe_event
from services.permissions import extension_actions_for, task_actions_for
from services.reports.stats import task_department_expression, tasks_completed_on_time_q
from services.reports.supervision import carded_tasks_q
from services.selectors import extensions_visible_to, my_tasks_q, task_forces_visible_to, tasks_visible_to
from services.states import OPEN_TASK_STATES, WORKING_TASK_STATES
from services.time import calendar
from services.time.deadlines import is_task_overdue, overdue_tasks_q, rest_of_week, tasks_due_between_q
from services.time.reminders import EscalationDates
from tracker.admin.base import (
    TEXTAREA,
    ActionForm,
    DateField,
    ObjectAction,
    ObjectActionsMixin,
    ScopedAdmin,
    expected_version,
    key_or_none,
)
from tracker.admin.decompose import UnitForm
from tracker.admin.display import status_badge
from tracker.admin.due_dates import hint_rest_days
from tracker.admin.uploads import StaffFilesField
from tracker.models import Department, Extension, Task

TS = Task.Status


class TaskQueueFilter(admin.SimpleListFilter):
    title = _("队列")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("mine", _("交给我或本单位的"))]

    def queryset(self, request, queryset):
        if self.value() == "mine":
            return queryset.filter(my_tasks_q(request.user))
        return queryset


class TaskStateFilter(admin.SimpleListFilter):
    title = _("办理情况")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", _("未办结")), ("finished", _("已办结或撤销"))]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(status__in=OPEN_TASK_STATES)
        if self.value() == "finished":
            return queryset.exclude(status__in=OPEN_TASK_STATES)
        return queryset


class TaskDeadlineFilter(admin.SimpleListFilter):
    title = _("期限")
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return [
            ("overdue", _("已逾期")),
            ("today", _("今天到期")),
            ("tomorrow", _("明天到期")),
            ("week", _("本周到期")),
            ("yellow", _("黄牌督办")),
            ("red", _("红牌督办")),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() in ("yellow", "red"):
            return queryset.filter(carded_tasks_q(self.value(), EscalationDates.on(today)))
        if self.value() == "overdue":
            return queryset.filter(overdue_tasks_q(today))
        if self.value() == "today":
            return queryset.filter(tasks_due_between_q(today, today))
        if self.value() == "tomorrow":
            tomorrow = today + timedelta(days=1)
            return queryset.filter(tasks_due_between_q(tomorrow, tomorrow))
        if self.value() == "week":
            return queryset.filter(tasks_due_between_q(*rest_of_week(today)))
        return queryset


class TimelinessFilter(admin.SimpleListFilter):
    title = _("按时办结")
    parameter_name = "timeliness"

    def lookups(self, request, model_admin):
        return [("on_time", _("按期办结")), ("late", _("超期办结"))]

    def queryset(self, request, queryset):
        if self.value() == "on_time":
            return queryset.filter(tasks_completed_on_time_q())
        if self.value() == "late":
            return queryset.filter(status=TS.DONE).exclude(tasks_completed_on_time_q())
        return queryset


class UnitDepartmentFilter(admin.SimpleListFilter):
    """The department answerable for a task: its own, or its task force's lead department."""

    title = _("责任部门")
    parameter_name = "unit_department"

    def lookups(self, request, model_admin):
        return [(str(d.pk), d.name) for d in Department.objects.filter(is_active=True).order_by("sort_order", "name")]

    def queryset(self, request, queryset):
        department = key_or_none(Department._meta.pk, self.value())
        if department is not None:
            return queryset.alias(unit_department=task_department_expression()).filter(unit_department=department)
        return queryset


class TaskForceFilter(admin.SimpleListFilter):
    """The task force a task was given to, among those the user may see (a case's own task force names its
    enterprise)."""

    title = _("专班")
    parameter_name = "task_force"

    def lookups(self, request, model_admin):
        task_forces = task_forces_visible_to(request.user).order_by("name", "pk")
        return [(str(pk), name) for pk, name in task_forces.values_list("pk", "name")]

    def queryset(self, request, queryset):
        task_force = key_or_none(Task._meta.get_field("task_force"), self.value())
        if task_force is not None:
            return queryset.filter(task_force_id=task_force)
        return queryset


class ResultForm(ActionForm):
    result = forms.CharField(label=_("办理结果"), widget=TEXTAREA, required=False)
    files = StaffFilesField(label=_("办理文件"), who_sees=_("如复函、承诺函、批复文件。"))
    files_seen_by = forms.ChoiceField(
        label=_("文件可见范围"),
        choices=[("staff", _("仅工作人员（服务专员据此答复企业）")), ("enterprise", _("企业也可在门户中查看"))],
        initial="staff",
        required=False,
        widget=forms.RadioSelect,
        help_text=_("内部意见、工作材料请保持默认（仅工作人员）"),
    )


class TaskReasonForm(ActionForm):
    reason = forms.CharField(label=_("理由"), widget=TEXTAREA, required=False)


class ReturnForm(TaskReasonForm):
    files = StaffFilesField(label=_("说明材料"), who_sees=_("退回的说明材料仅工作人员可见，企业看不到。"))


class ExtendForm(ActionForm):
    requested_due_on = DateField(label=_("申请延期至"), required=False)
    reason = forms.CharField(label=_("延期理由"), widget=TEXTAREA, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        hint_rest_days(self.fields["requested_due_on"])


class RedispatchForm(UnitForm, ActionForm):
    due_on = DateField(label=_("办理期限"), required=False, help_text=_("已按类别办理时限填好，可修改"))
    note = forms.CharField(label=_("说明"), widget=TEXTAREA, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        hint_rest_days(self.fields["due_on"])


class ReopenTaskForm(ActionForm):
    note = forms.CharField(label=_("重办要求"), widget=TEXTAREA, required=False)
    due_on = DateField(
        label=_("新的期限"),
        required=False,
        help_text=_("已按类别办理时限填好，可修改"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        hint_rest_days(self.fields["due_on"])


TASK_ACTIONS = {
    action.name: action
    for action in [
        ObjectAction(
            "start",
            _("签收"),
            lambda actor, task, data: task_services.start_task(
                actor=actor, task=task, expected_version=expected_version(data)
            ),
            _("已签收，开始办理"),
            style="primary",
        ),
        ObjectAction(
            "complete",
            _("办结"),
            lambda actor, task, data: task_services.complete_task(
                actor=actor,
                task=task,
                result=data["result"],
                files=data["files"],
                staff_only=data["files_seen_by"] != "enterprise",
                expected_version=expected_version(data),
            ),
            _("已办结"),
            form=ResultForm,
            style="primary",
        ),
        ObjectAction(
            "extend",
            _("申请延期"),
            lambda actor, task, data: task_services.request_extension(
                actor=actor, task=task, requested_due_on=data["requested_due_on"], reason=data["reason"]
            ),
            _("延期申请已提交，等待领导审批"),
            form=ExtendForm,
        ),
        ObjectAction(
            "return",
            _("退回"),
            lambda actor, task, data: task_services.return_task(
                actor=actor,
                task=task,
                reason=data["reason"],
                files=data["files"],
                expected_version=expected_version(data),
            ),
            _("已退回服务专员"),
            form=ReturnForm,
            style="danger",
        ),
        ObjectAction(
            "redispatch",
            _("重新交办"),
            lambda actor, task, data: task_services.redispatch_task(
                actor=actor,
                task=task,
                task_force=data["task_force"],
                department=data["department"],
                assignee=data["assignee"],
                due_on=data["due_on"],
                note=data["note"],
                expected_version=expected_version(data),
            ),
            _("已重新交办"),
            form=RedispatchForm,
            style="primary",
        ),
        ObjectAction(
            "reopen",
            _("要求重办"),
            lambda actor, task, data: task_services.reopen_task(
                actor=actor,
                task=task,
                note=data["note"],
                due_on=data["due_on"],
                expected_version=expected_version(data),
            ),
            _("已要求重办"),
            form=ReopenTaskForm,
        ),
        ObjectAction(
            "cancel",
            _("撤销事项"),
            lambda actor, task, data: task_services.cancel_task(
                actor=actor, task=task, reason=data["reason"], expected_version=expected_version(data)
            ),
            _("已撤销"),
            form=TaskReasonForm,
            style="danger",
        ),
    ]
}


@admin.register(Task)
class TaskAdmin(ObjectActionsMixin, ScopedAdmin):
    list_display = ["title", "case_link", "enterprise", "unit", "assignee", "due_display", "status_display"]
    list_filter = [
        TaskQueueFilter,
        TaskStateFilter,
        TaskDeadlineFilter,
        "status",
        UnitDepartmentFilter,
        TaskForceFilter,
        TimelinessFilter,
    ]
    list_select_related = ["case", "case__enterprise", "task_force", "department", "assignee"]
    list_per_page = 50
    search_fields = ["title", "case__number", "case__enterprise__name"]
    search_help_text = _("按事项、诉求编号或企业名称搜索")
    show_full_result_count = False
    # The summary card shows title, status, deadline, unit and people, the timeline who did what when.
    fields = ["description", "result"]
    object_actions = TASK_ACTIONS
    change_form_template = "admin/tracker/task/change_form.html"

    def visible(self, user):
        return tasks_visible_to(user)

    def get_ordering(self, request):
        return ["due_on", "id"]

    def list_title(self, request) -> str:
        return _("我的事项") if request.GET.get(TaskQueueFilter.parameter_name) == "mine" else _("全部事项")

    def actions_for(self, request, obj):
        return task_actions_for(request.user, obj)

    def action_initial(self, action, request, task):
        # A new deadline is offered, counted as the service would count it when left empty.
        default_due = calendar.add_working_days(timezone.localdate(), task.case.category.task_days).date
        if action.name == "redispatch":
            return {"task_force": task.task_force_id, "department": task.department_id, "due_on": default_due}
        if action.name == "reopen":
            return {"due_on": default_due}
        return {}

    @admin.display(description=_("诉求"), ordering="case__number")
    def case_link(self, task):
        url = reverse("admin:tracker_case_change", args=[task.case_id])
        return format_html('<a href="{}">{}</a>', url, task.case.number)

    @admin.display(description=_("企业"))
    def enterprise(self, task):
        return task.case.enterprise.name

    @admin.display(description=_("承办单位"))
    def unit(self, task):
        return task_services.unit_name(task.task_force, task.department)

    @admin.display(description=_("办理期限"), ordering="due_on")
    def due_display(self, task):
        overdue = is_task_overdue(task, timezone.localdate())
        return format_html('<span class="{}">{}</span>', "overdue" if overdue else "", task.due_on.strftime("%Y-%m-%d"))

    @admin.display(description=_("状态"), ordering="status")
    def status_display(self, task):
        return status_badge(task, overdue=is_task_overdue(task, timezone.localdate()))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        task = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if task is not None:
            events = task.case.events.filter(task=task).select_related("actor").order_by("created_at", "id")
            extensions = task.extensions.select_related("requested_by", "decided_by").order_by("created_at")
            extra_context.update(
                task=task,
                buttons=self.action_buttons(request, task),
                timeline=[(event, describe_event(event)) for event in events],
                extensions=[(e, extension_actions_for(request.user, e)) for e in extensions],
                overdue=is_task_overdue(task, timezone.localdate()),
                # The case waits for the enterprise (挂起): the deadline stands still until it answers.
                paused=task.case.clock_paused_at is not None and task.status in OPEN_TASK_STATES,
                # The case's files: the enterprise's materials the unit works from, and the units' own.
                attachments=list(
                    task.case.attachments.select_related("uploaded_by", "task").order_by("created_at", "id")
                ),
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def action_context(self, action, request, obj, form):
        return {"task": obj}


class DecisionForm(ActionForm):
    note = forms.CharField(label=_("审批意见"), widget=TEXTAREA, required=False)


EXTENSION_ACTIONS = {
    "approve": ObjectAction(
        "approve",
        _("批准延期"),
        lambda actor, ext, data: task_services.approve_extension(actor=actor, extension=ext, note=data["note"]),
        _("已批准延期"),
        form=DecisionForm,
        style="primary",
    ),
    "reject": ObjectAction(
        "reject",
        _("驳回"),
        lambda actor, ext, data: task_services.reject_extension(actor=actor, extension=ext, note=data["note"]),
        _("已驳回延期申请"),
        form=DecisionForm,
        style="danger",
    ),
}


class OpenTaskFilter(admin.SimpleListFilter):
    title = _("事项情况")
    parameter_name = "task_open"

    def lookups(self, request, model_admin):
        return [("yes", _("事项未办结")), ("no", _("事项已办结或撤销"))]

    def queryset(self, request, queryset):
        open_q = Q(task__status__in=WORKING_TASK_STATES)
        if self.value() == "yes":
            return queryset.filter(open_q)
        if self.value() == "no":
            return queryset.exclude(open_q)
        return queryset


@admin.register(Extension)
class ExtensionAdmin(ObjectActionsMixin, ScopedAdmin):
    list_display = [
        "task_link",
        "case_number",
        "previous_due_on",
        "requested_due_on",
        "reason",
        "requested_by",
        "status",
        "decided_by",
    ]
    list_filter = ["status", OpenTaskFilter]
    list_select_related = ["task", "task__case", "requested_by", "decided_by"]
    search_fields = ["task__title", "task__case__number"]
    object_actions = EXTENSION_ACTIONS
    change_form_template = "admin/tracker/extension/change_form.html"

    def visible(self, user):
        return extensions_visible_to(user)

    def get_ordering(self, request):
        return ["-created_at", "-id"]

    def actions_for(self, request, obj):
        return extension_actions_for(request.user, obj)

    @admin.display(description=_("事项"), ordering="task__title")
    def task_link(self, extension):
        url = reverse("admin:tracker_task_change", args=[extension.task_id])
        return format_html('<a href="{}">{}</a>', url, extension.task.title)

    @admin.display(description=_("诉求"))
    def case_number(self, extension):
        return extension.task.case.number

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extension = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if extension is not None:
            extra_context["buttons"] = self.action_buttons(request, extension)
        return super().change_view(request, object_id, form_url, extra_context)
