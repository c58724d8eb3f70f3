"""Representations of the domain for the API, and the shapes of what callers send. No rule lives here: input
serializers only parse types and resolve ids among what the caller may see; services decide the rest."""

import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from services.cases.timeline import describe_event
from services.delivery import webhooks
from services.permissions import case_actions_for
from services.selectors import assignable_staff, event_note_for, projects_visible_to, task_forces_visible_to
from tracker.models import (
    Attachment,
    Case,
    CaseEvent,
    Category,
    Department,
    Enterprise,
    Extension,
    Feedback,
    Project,
    Task,
    TaskForce,
    User,
    WebhookSubscription,
)

# Lean reads -----------------------------------------------------------------------------------------------
# The case and task lists and details are the API's busiest reads. Their serializers keep DRF's declared fields
# (the schema is generated from them) but build each object's dict directly, with the values DRF's fields would
# give: no field lookup per value, and each status label translated once per request rather than once per row.
# tests/api/test_read_bodies.py compares the bodies with DRF's generic path byte for byte.


# For read-only serializers whose `to_representation` builds the dict itself. No docstring: drf-spectacular would
# take it as the description of every component built from a serializer that mixes this in.
class LeanRead:
    def lean_shared(self) -> dict:
        """What every row of this request shares: the time zone, the translated labels (kept on the root)."""
        root = self.root
        shared = root.__dict__.get("_lean_shared")
        if shared is None:
            shared = root._lean_shared = {"zone": timezone.get_current_timezone() if settings.USE_TZ else None}
        return shared

    def lean_label(self, shared: dict, choices, value):
        """`get_<field>_display()` from a {value: label} dict translated once per request."""
        labels = shared.get(choices)
        if labels is None:
            labels = shared[choices] = {key: str(text) for key, text in choices.choices}
        return labels.get(value, value)


def _moment(value: datetime.datetime | None, zone) -> str | None:
    """As DRF's DateTimeField with DATETIME_FORMAT "iso-8601": in the current time zone, UTC written as Z."""
    if not value:
        return None
    if zone is not None:
        value = value.astimezone(zone) if timezone.is_aware(value) else timezone.make_aware(value, zone)
    elif timezone.is_aware(value):
        value = timezone.make_naive(value, datetime.UTC)
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _day(value: datetime.date | None) -> str | None:
    return value.isoformat() if value else None


def _person(user: User | None) -> dict | None:
    """PersonSerializer's dict."""
    return None if user is None else {"id": user.id, "name": user.display_name, "phone": user.phone}


def _named(obj) -> dict | None:
    """NamedRefSerializer's dict."""
    return None if obj is None else {"id": obj.id, "name": obj.name}


# References ------------------------------------------------------------------------------------------------


class PersonSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True)

    class Meta:
        model = User
        fields = ["id", "name", "phone"]


class NamedRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class CategoryRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "code", "name"]


class CaseRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Case
        fields = ["id", "number", "title", "status"]


# Reference data and the register -----------------------------------------------------------------------------


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "code", "name", "description", "accept_days", "task_days", "verdict_days", "is_active"]


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "code", "name", "kind", "phone", "is_active"]


class TaskForceSerializer(serializers.ModelSerializer):
    lead_department = NamedRefSerializer(read_only=True)
    assisting_departments = NamedRefSerializer(many=True, read_only=True)
    case = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text=_("为单个诉求组建的专班所属诉求")
    )

    class Meta:
        model = TaskForce
        fields = ["id", "name", "lead_department", "assisting_departments", "is_standing", "case", "is_active"]


class EnterpriseSerializer(serializers.ModelSerializer):
    tiers = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    concierge = PersonSerializer(read_only=True)
    backup_concierge = PersonSerializer(read_only=True)
    linked_leader = PersonSerializer(read_only=True)

    class Meta:
        model = Enterprise
        fields = [
            "id",
            "name",
            "uscc",
            "uscc_checksum_ok",
            "industry",
            "tiers",
            "is_key",
            "park",
            "address",
            "contact_name",
            "contact_phone",
            "contact_email",
            "concierge",
            "backup_concierge",
            "linked_leader",
            "created_at",
            "updated_at",
        ]


class ProjectSerializer(serializers.ModelSerializer):
    enterprise = NamedRefSerializer(read_only=True)
    concierge = PersonSerializer(read_only=True)

    class Meta:
        model = Project
        fields = [
            "id",
            "enterprise",
            "name",
            "total_investment",
            "stage",
            "level",
            "signed_on",
            "concierge",
            "created_at",
            "updated_at",
        ]


# Cases -----------------------------------------------------------------------------------------------------


class CaseSerializer(LeanRead, serializers.ModelSerializer):
    enterprise = NamedRefSerializer(read_only=True)
    project = NamedRefSerializer(read_only=True, allow_null=True)
    category = CategoryRefSerializer(read_only=True)
    concierge = PersonSerializer(read_only=True, allow_null=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    is_overdue = serializers.BooleanField(read_only=True, default=False)
    next_due = serializers.DateField(read_only=True, allow_null=True, default=None)
    actions = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "enterprise",
            "project",
            "category",
            "title",
            "description",
            "urgency",
            "channel",
            "caller_name",
            "caller_phone",
            "status",
            "status_display",
            "concierge",
            "accept_due_on",
            "verdict_due_on",
            "redo_due_on",
            "clock_paused_at",
            "next_due",
            "is_overdue",
            "answer",
            "submitted_at",
            "accepted_at",
            "resolved_at",
            "closed_at",
            "updated_at",
            "version",
            "actions",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_actions(self, case) -> list[str]:
        """What the caller may do to the case now (POST /cases/{id}/{action}/)."""
        request = self.context.get("request")
        return case_actions_for(request.user, case) if request else []

    def to_representation(self, case):
        shared, category = self.lean_shared(), case.category
        zone = shared["zone"]
        return {
            "id": case.id,
            "number": case.number,
            "enterprise": _named(case.enterprise),
            "project": _named(case.project),
            "category": None if category is None else {"id": category.id, "code": category.code, "name": category.name},
            "title": case.title,
            "description": case.description,
            "urgency": case.urgency,
            "channel": case.channel,
            "caller_name": case.caller_name,
            "caller_phone": case.caller_phone,
            "status": case.status,
            "status_display": self.lean_label(shared, Case.Status, case.status),
            "concierge": _person(case.concierge),
            "accept_due_on": _day(case.accept_due_on),
            "verdict_due_on": _day(case.verdict_due_on),
            "redo_due_on": _day(case.redo_due_on),
            "clock_paused_at": _moment(case.clock_paused_at, zone),
            "next_due": _day(getattr(case, "next_due", None)),  # annotated by the views' querysets
            "is_overdue": getattr(case, "is_overdue", False),
            "answer": case.answer,
            "submitted_at": _moment(case.submitted_at, zone),
            "accepted_at": _moment(case.accepted_at, zone),
            "resolved_at": _moment(case.resolved_at, zone),
            "closed_at": _moment(case.closed_at, zone),
            "updated_at": _moment(case.updated_at, zone),
            "version": case.version,
            "actions": self.get_actions(case),
        }


class TaskBriefSerializer(LeanRead, serializers.ModelSerializer):
    task_force = NamedRefSerializer(read_only=True, allow_null=True)
    department = NamedRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Task
        fields = ["id", "title", "status", "task_force", "department", "due_on", "completed_at"]

    def to_representation(self, task):
        return {
            "id": task.id,
            "title": task.title,
            "status": task.status,
            "task_force": _named(task.task_force),
            "department": _named(task.department),
            "due_on": _day(task.due_on),
            "completed_at": _moment(task.completed_at, self.lean_shared()["zone"]),
        }


class FeedbackSerializer(LeanRead, serializers.ModelSerializer):
    class Meta:
        model = Feedback
        fields = [
            "id",
            "verdict",
            "rating",
            "comment",
            "source",
            "early",
            "contact_name",
            "contact_phone",
            "created_at",
        ]

    def to_representation(self, feedback):
        return {
            "id": feedback.id,
            "verdict": feedback.verdict,
            "rating": feedback.rating,
            "comment": feedback.comment,
            "source": feedback.source,
            "early": feedback.early,
            "contact_name": feedback.contact_name,
            "contact_phone": feedback.contact_phone,
            "created_at": _moment(feedback.created_at, self.lean_shared()["zone"]),
        }


class CaseDetailSerializer(CaseSerializer):
    tasks = TaskBriefSerializer(many=True, read_only=True)
    feedback = FeedbackSerializer(many=True, read_only=True)

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "tasks", "feedback"]

    def to_representation(self, case):
        body = super().to_representation(case)
        body["tasks"] = self.fields["tasks"].to_representation(case.tasks)
        body["feedback"] = self.fields["feedback"].to_representation(case.feedback)
        return body


class EventSerializer(serializers.ModelSerializer):
    actor = PersonSerializer(read_only=True, allow_null=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    note = serializers.SerializerMethodField()
    text = serializers.SerializerMethodField()

    class Meta:
        model = CaseEvent
        fields = [
            "id",
            "kind",
            "kind_display",
            "from_status",
            "to_status",
            "note",
            "actor",
            "task",
            "created_at",
            "text",
        ]

    def get_note(self, event) -> str:
        return event_note_for(self.context["request"].user, event)

    def get_text(self, event) -> str:
        """The event in a sentence, in the caller's language."""
        return describe_event(event)


class AttachmentSerializer(serializers.ModelSerializer):
    uploaded_by = PersonSerializer(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "original_name",
            "size",
            "content_type",
            "sha256",
            "uploaded_by",
            "task",
            "staff_only",
            "created_at",
            "download_url",
        ]

    def get_download_url(self, attachment) -> str:
        return reverse("api:case-attachment-download", args=[attachment.case_id, attachment.pk])


# Tasks -----------------------------------------------------------------------------------------------------


class ExtensionSerializer(serializers.ModelSerializer):
    requested_by = PersonSerializer(read_only=True)

    class Meta:
        model = Extension
        fields = [
            "id",
            "status",
            "previous_due_on",
            "requested_due_on",
            "reason",
            "requested_by",
            "decision_note",
            "decided_at",
            "created_at",
        ]


class TaskSerializer(LeanRead, serializers.ModelSerializer):
    case = CaseRefSerializer(read_only=True)
    task_force = NamedRefSerializer(read_only=True, allow_null=True)
    department = NamedRefSerializer(read_only=True, allow_null=True)
    assignee = PersonSerializer(read_only=True, allow_null=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Task
        fields = [
            "id",
            "case",
            "title",
            "description",
            "task_force",
            "department",
            "assignee",
            "due_on",
            "due_is_provisional",
            "status",
            "status_display",
            "result",
            "created_at",
            "started_at",
            "completed_at",
            "updated_at",
            "version",
        ]

    def to_representation(self, task):
        shared, case = self.lean_shared(), task.case
        zone = shared["zone"]
        return {
            "id": task.id,
            "case": None
            if case is None
            else {"id": case.id, "number": case.number, "title": case.title, "status": case.status},
            "title": task.title,
            "description": task.description,
            "task_force": _named(task.task_force),
            "department": _named(task.department),
            "assignee": _person(task.assignee),
            "due_on": _day(task.due_on),
            "due_is_provisional": task.due_is_provisional,
            "status": task.status,
            "status_display": self.lean_label(shared, Task.Status, task.status),
            "result": task.result,
            "created_at": _moment(task.created_at, zone),
            "started_at": _moment(task.started_at, zone),
            "completed_at": _moment(task.completed_at, zone),
            "updated_at": _moment(task.updated_at, zone),
            "version": task.version,
        }


class TaskDetailSerializer(TaskSerializer):
    extensions = ExtensionSerializer(many=True, read_only=True)
    actions = serializers.ListField(child=serializers.CharField(), read_only=True, source="api_actions")

    class Meta(TaskSerializer.Meta):
        fields = [*TaskSerializer.Meta.fields, "extensions", "actions"]

    def to_representation(self, task):
        body = super().to_representation(task)
        body["extensions"] = self.fields["extensions"].to_representation(task.extensions)
        if hasattr(task, "api_actions"):  # set by the view; DRF leaves a read-only field out when it is missing
            body["actions"] = list(task.api_actions)
        return body


# What callers send -------------------------------------------------------------------------------------------


class VisibleField(serializers.PrimaryKeyRelatedField):
    """An id among what the caller may see (`selector(user)`): anything else is refused as if it did not exist."""

    def __init__(self, selector, **kwargs):
        self.selector = selector
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return self.selector(request.user) if request else super().get_queryset()


class VersionedInput(serializers.Serializer):
    version = serializers.IntegerField(
        required=False, min_value=1, help_text=_("读取时的版本号；已被他人修改时返回 409。也可用 If-Match 头")
    )


class CaseSubmitInput(serializers.Serializer):
    enterprise = serializers.IntegerField(
        required=False, min_value=1, help_text=_("企业编号；企业用户可省略（即本企业）")
    )
    enterprise_uscc = serializers.CharField(required=False, max_length=18, help_text=_("或以统一社会信用代码指明企业"))
    project = VisibleField(projects_visible_to, queryset=Project.objects.none(), required=False, allow_null=True)
    category = serializers.SlugRelatedField(
        slug_field="code", queryset=Category.objects.filter(is_active=True), help_text=_("类别代码，见 /categories/")
    )
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=10000)
    urgency = serializers.ChoiceField(choices=Case.Urgency.choices, required=False)
    channel = serializers.ChoiceField(
        choices=Case.Channel.choices,
        required=False,
        help_text=_("来源渠道，默认 api；12345 热线转来的用 hotline；工作人员登记来电用 phone、来访用 walk_in"),
    )
    caller_name = serializers.CharField(
        required=False, allow_blank=True, max_length=50, help_text=_("来电来访人；phone、walk_in 时必填")
    )
    caller_phone = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=30,
        help_text=_("来电来访人的手机号或固定电话；phone、walk_in 时必填"),
    )


class NoteInput(VersionedInput):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class InfoInput(serializers.Serializer):
    note = serializers.CharField(max_length=5000, help_text=_("补充的情况说明；补充文件请用 attachments"))


class RequestInfoInput(serializers.Serializer):
    note = serializers.CharField(max_length=2000, help_text=_("需要企业补充的内容，企业会收到通知"))
    pause = serializers.BooleanField(
        required=False,
        default=True,
        help_text=_("挂起：等待期间暂停办理时限（默认是）；企业补充材料后恢复计时，各期限按挂起的工作日数顺延"),
    )


class ResumeClockInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, help_text=_("恢复计时的说明"))


class ReasonInput(VersionedInput):
    reason = serializers.CharField(max_length=2000)


class OptionalReasonInput(VersionedInput):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class AnswerInput(VersionedInput):
    answer = serializers.CharField(max_length=10000)


class ConfirmInput(VersionedInput):
    rating = serializers.ChoiceField(choices=Feedback.Rating.choices, help_text=_("5 非常满意 … 1 非常不满意"))
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class ReopenInput(VersionedInput):
    reason = serializers.CharField(max_length=2000)
    rating = serializers.ChoiceField(choices=Feedback.Rating.choices, required=False, allow_null=True)


class CallbackInput(VersionedInput):
    verdict = serializers.ChoiceField(choices=Feedback.Verdict.choices)
    rating = serializers.ChoiceField(choices=Feedback.Rating.choices, required=False, allow_null=True)
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text=_("企业的意见；退回重办时必填，企业验收期限（verdict_due_on）未到的提前回访也必填"),
    )
    contact_name = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=50,
        help_text=_("回访对象（企业联系人）；企业验收期限未到的提前回访必填"),
    )
    contact_phone = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=30,
        help_text=_("回访电话；企业验收期限未到的提前回访必填"),
    )


class TaskSpecInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    # A task force formed for a case the caller cannot see does not exist for them.
    task_force = VisibleField(
        task_forces_visible_to, queryset=TaskForce.objects.none(), required=False, allow_null=True
    )
    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all(), required=False, allow_null=True)
    # The workbench's choices: active staff who may be given work (whether they belong to the unit is the service's).
    assignee = serializers.PrimaryKeyRelatedField(queryset=assignable_staff(), required=False, allow_null=True)
    due_on = serializers.DateField(required=False, allow_null=True, help_text=_("省略则按类别的办理时限（工作日）"))


class DecomposeInput(VersionedInput):
    tasks = TaskSpecInput(many=True, allow_empty=False, max_length=50)


class ResultInput(VersionedInput):
    result = serializers.CharField(max_length=10000)


class ExtendInput(serializers.Serializer):
    requested_due_on = serializers.DateField()
    reason = serializers.CharField(max_length=2000)


class AttachmentUploadInput(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, use_url=False)


# Webhook subscriptions -----------------------------------------------------------------------------------------


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=list(webhooks.EVENT_TYPES)), allow_empty=False
    )
    secret = serializers.CharField(read_only=True, help_text=_("签名密钥：用它验证 X-Webhook-Signature"))
    owner = PersonSerializer(read_only=True)

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "name",
            "url",
            "event_types",
            "is_active",
            "secret",
            "owner",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
