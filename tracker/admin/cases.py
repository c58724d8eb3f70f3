"""Cases in the workbench: the concierge's queue, the case page with its buttons, decomposition, the ledger."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import F, Q
from django.http import FileResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from services.cases import steps as case_services
from services.cases import tasks as task_services
from services.cases.clocks import long_pauses_q
from services.cases.timeline import describe_event
from services.permissions import can_register_cases, case_actions_for, case_actions_held_back
from services.reports.ledger import case_ledger_file
from services.roles import Role
from services.selectors import case_timeline, cases_visible_to, my_cases_q
from services.states import FINAL_CASE_STATES
from services.time.deadlines import (
    annotate_case_deadlines,
    cases_due_between_q,
    is_task_overdue,
    overdue_cases_q,
    rest_of_week,
)
from tracker.admin.base import (
    TEXTAREA,
    ActionForm,
    ObjectAction,
    ObjectActionsMixin,
    ReadOnlyInline,
    ScopedAdmin,
    StaffChoiceField,
    TextFilter,
    expected_version,
    key_or_none,
)
from tracker.admin.decompose import DecomposeForm
from tracker.admin.display import status_badge
from tracker.admin.intake import intake_urls, intake_view
from tracker.admin.uploads import StaffFilesField
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


class CaseStateFilter(admin.SimpleListFilter):
    """Open work (not yet closed, declined or withdrawn) or finished cases; a queue opens on open work."""

    title = _("办理情况")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", _("未办结")), ("finished", _("已办结、不予受理或撤回"))]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.exclude(status__in=FINAL_CASE_STATES)
        if self.value() == "finished":
            return queryset.filter(status__in=FINAL_CASE_STATES)
        return queryset


def lists_work(request) -> bool:
    """Whether the list is someone's work (their queue, or open cases), ordered then by what is due first."""
    return request.GET.get(CaseStateFilter.parameter_name) == "open" or request.GET.get(QueueFilter.parameter_name)


# Open work: overdue first, then the soonest deadline, then the newest. Other lists: the newest first (the index).
WORK_ORDERING = [
    F("is_overdue").desc(),
    F("next_due").asc(nulls_last=True),
    F("submitted_at").desc(),
    F("id").desc(),
]
NEWEST_ORDERING = ["-submitted_at", "-id"]


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


class PausedFilter(admin.SimpleListFilter):
    """Cases whose clocks stand still while the zone waits for the enterprise (挂起): leaders end long waits."""

    title = _("挂起")
    parameter_name = "paused"

    def lookups(self, request, model_admin):
        return [
            ("yes", _("挂起中")),
            ("long", _("挂起已满 %(days)d 个工作日") % {"days": settings.CLOCK_PAUSE_LONG_AFTER_DAYS}),
        ]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(clock_paused_at__isnull=False)
        if self.value() == "long":
            return queryset.filter(long_pauses_q(timezone.localdate()))
        return queryset


class EnterpriseFilter(TextFilter):
    title = _("企业")
    parameter_name = "enterprise"

    def queryset(self, request, queryset):
        value = (self.value() or "").replace("\x00", "").strip()  # PostgreSQL refuses NUL in text
        enterprise = key_or_none(Case._meta.get_field("enterprise"), value) if len(value) < 18 else None
        if enterprise is not None:  # 18 characters are a credit code, digits or not
            return queryset.filter(enterprise_id=enterprise)
        if value:
            return queryset.filter(Q(enterprise__name__icontains=value) | Q(enterprise__uscc=value.upper()))
        return queryset


class ProjectFilter(TextFilter):
    title = _("投资项目")
    parameter_name = "project"

    def queryset(self, request, queryset):
        value = (self.value() or "").replace("\x00", "").strip()  # PostgreSQL refuses NUL in text
        project = key_or_none(Case._meta.get_field("project"), value)
        if project is not None:
            return queryset.filter(project_id=project)
        if value:
            return queryset.filter(project__name__icontains=value)
        return queryset


# ---- action forms ------------------------------------------------------------------------------------------


class ReasonForm(ActionForm):
    reason = forms.CharField(label=_("理由"), widget=TEXTAREA, required=False)


class NoteForm(ActionForm):
    note = forms.CharField(
        label=_("补充内容"), widget=TEXTAREA, required=False, help_text=_("填写说明、上传文件，或两者都有")
    )
    files = StaffFilesField(who_sees=_("企业在门户中可以看到并下载这些文件。"))


class RequestInfoForm(ActionForm):
    note = forms.CharField(
        label=_("需要企业补充的内容"),
        widget=TEXTAREA,
        required=False,
        help_text=_("企业将在门户收到通知，看到这段话"),
    )
    pause = forms.BooleanField(
        label=_("挂起：等待期间暂停办理时限"),
        required=False,
        initial=True,
        help_text=_("企业补充材料后自动恢复计时，各期限按挂起的工作日数顺延"),
    )


class ResumeClockForm(ActionForm):
    note = forms.CharField(
        label=_("说明"), widget=TEXTAREA, required=False, help_text=_("如：企业已电话说明，或等待时间过长")
    )


class AnswerForm(ActionForm):
    answer = forms.CharField(label=_("办结答复"), widget=forms.Textarea(attrs={"rows": 8, "cols": 80}), required=False)
    files = StaffFilesField(
        label=_("答复附件"), who_sees=_("随答复发给企业（如复函、批复文件），企业在门户中可以看到并下载。")
    )


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
    contact_name = forms.CharField(label=_("回访对象"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("回访电话"), max_length=30, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        due = getattr(self.obj, "verdict_due_on", None)
        if due is not None and timezone.localdate() <= due:
            # Before the enterprise's own verdict window ends, a callback is early: say what it needs.
            early = _("企业验收期限（%(date)s）未到，提前回访须填写") % {"date": f"{due:%Y-%m-%d}"}
            self.fields["contact_name"].help_text = early
            self.fields["contact_phone"].help_text = early
            self.fields["comment"].help_text = _("%(early)s企业的原话") % {"early": early}


class ReassignForm(ActionForm):
    concierge = StaffChoiceField(label=_("新的服务专员"), role=Role.CONCIERGE)
    note = forms.CharField(label=_("说明"), widget=TEXTAREA, required=False)


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
                actor=actor,
                case=case,
                answer=data["answer"],
                files=data["files"],
                expected_version=expected_version(data),
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
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
                expected_version=expected_version(data),
            ),
            _("已记录回访结果"),
            form=CallbackForm,
        ),
        ObjectAction(
            "add_info",
            _("补充材料"),
            lambda actor, case, data: case_services.add_case_info(
                actor=actor, case=case, note=data["note"], files=data["files"]
            ),
            _("已补充"),
            form=NoteForm,
        ),
        ObjectAction(
            "request_info",
            _("请企业补充材料"),
            lambda actor, case, data: case_services.request_case_info(
                actor=actor, case=case, note=data["note"], pause=data["pause"]
            ),
            _("已通知企业补充材料"),
            form=RequestInfoForm,
        ),
        ObjectAction(
            "resume_clock",
            _("恢复计时"),
            lambda actor, case, data: case_services.resume_case_clock(actor=actor, case=case, note=data["note"]),
            _("已恢复计时，各期限已顺延"),
            form=ResumeClockForm,
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
        # The case, for the overdue mark (a paused case's tasks are not overdue).
        return super().get_queryset(request).select_related("case", "task_force", "department", "assignee")

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
    fields = ["created_at", "source", "verdict", "rating", "comment", "phone_contact", "recorded_by"]
    verbose_name_plural = _("企业评价")

    @admin.display(description=_("回访对象"))
    def phone_contact(self, feedback):
        if feedback.source != Feedback.Source.CALLBACK:
            return "—"
        contact = " ".join(part for part in (feedback.contact_name, feedback.contact_phone) if part) or "—"
        if feedback.early:
            return format_html('{} <span class="badge badge-urgent">{}</span>', contact, _("提前回访"))
        return contact

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
        "next_due_display",
        "concierge",
        "submitted_on",
    ]
    list_display_links = ["number_display", "title"]
    list_filter = [
        QueueFilter,
        CaseStateFilter,
        "status",
        PausedFilter,
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
    # The summary card above shows number, status, category, channel, the enterprise and the concierge, and the
    # timeline every date: the form below keeps only what the card does not.
    fieldsets = [
        (_("问题描述"), {"fields": ["description", "submitted_by"]}),
        (_("答复与验收"), {"fields": ["answer", "resolved_at", "verdict_due_on", "redo_due_on", "closed_at"]}),
    ]
    object_actions = CASE_ACTIONS
    change_form_template = "admin/tracker/case/change_form.html"
    change_list_template = "admin/tracker/case/change_list.html"

    def visible(self, user):
        return annotate_case_deadlines(cases_visible_to(user), timezone.localdate())

    def get_ordering(self, request):
        return WORK_ORDERING if lists_work(request) else NEWEST_ORDERING

    def list_title(self, request) -> str:
        if request.GET.get(QueueFilter.parameter_name) == "mine":
            return _("我的诉求")
        return _("未办结的诉求") if lists_work(request) else _("全部诉求")

    def get_list_display(self, request):
        # In the concierge's own queue every row is theirs: the column would repeat their name.
        if request.GET.get(QueueFilter.parameter_name) == "mine":
            return [name for name in self.list_display if name != "concierge"]
        return self.list_display

    @admin.display(description=_("提交日期"), ordering="submitted_at")
    def submitted_on(self, case):
        return f"{timezone.localtime(case.submitted_at):%Y-%m-%d}"

    def actions_for(self, request, obj):
        return case_actions_for(request.user, obj)

    def get_urls(self):
        return [
            path("export/", self.admin_site.admin_view(self.export_view), name="tracker_case_export"),
            *intake_urls(self),
            *super().get_urls(),
        ]

    def has_add_permission(self, request, obj=None):
        """登记诉求: concierges, leaders and administrators register cases received by phone or at a walk-in."""
        return can_register_cases(request.user)

    def add_view(self, request, form_url="", extra_context=None):
        return intake_view(self, request)

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
        # Written to a temporary file in bounded memory and streamed from it; closing the response deletes it.
        return FileResponse(
            case_ledger_file(cases, today=today),
            as_attachment=True,
            filename=f"ledger-{today:%Y%m%d}.xlsx",
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )

    @admin.display(description=_("诉求编号"), ordering="number")
    def number_display(self, case):
        marks = format_html_join(
            "",
            ' <span class="badge badge-{}">{}</span>',
            [(case.urgency, case.get_urgency_display())] * (case.urgency != Case.Urgency.NORMAL)
            + [("overdue", _("逾期"))] * bool(getattr(case, "is_overdue", False))
            + [("paused", _("挂起"))] * (case.clock_paused_at is not None),
        )
        return format_html("{}{}", case.number, marks)

    def get_fieldsets(self, request, obj=None):
        # Nothing to show under 答复与验收 before the case is answered.
        if obj is not None and not (obj.answer or obj.redo_due_on):
            return self.fieldsets[:1]
        return self.fieldsets

    def get_inline_instances(self, request, obj=None):
        inlines = super().get_inline_instances(request, obj)
        if obj is not None and not obj.feedback.exists():
            inlines = [inline for inline in inlines if not isinstance(inline, FeedbackInline)]
        return inlines

    @admin.display(description=_("状态"), ordering="status")
    def status_display(self, case):
        return status_badge(case)

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
            "held_back": self.held_back(request, case),
            "timeline": [(event, describe_event(event)) for event in events],
            "attachments": list(Attachment.objects.filter(case=case).select_related("uploaded_by", "task")),
        }

    def held_back(self, request, case) -> list:
        """(button, refusal) for each step the person could take but a guard refuses now: the page shows it
        disabled, saying why (办结答复 while tasks are open)."""
        held_back = case_actions_held_back(request.user, case)
        return [(self.object_actions[name], held_back[name]) for name in self.object_actions if name in held_back]

    def action_context(self, action, request, obj, form):
        if request.method == "GET":
            # Opened by its address while a guard refuses it: say why before the form is filled in for nothing.
            refusal = case_actions_held_back(request.user, obj).get(action.name)
            if refusal is not None:
                messages.warning(request, refusal.message)
        return {"case": obj}
