"""Cases: list and read what the caller may see, submit, move through the loop, the timeline, the files."""

from functools import partial

from django.db.models import Prefetch
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404

from services.cases import attachments as attachment_services
from services.cases import steps as case_services
from services.cases import tasks as task_services
from services.cases.tasks import TaskSpec
from services.errors import InvalidInput, NotFound
from services.register.uscc import parse_uscc
from services.selectors import attachments_visible_to, cases_visible_to, timeline_for
from services.states import annotate_open_task_count
from services.time.deadlines import annotate_case_deadlines
from tracker import logs
from tracker.api import filters, serializers
from tracker.api.pagination import Cursor
from tracker.api.parsers import MultiPartParser
from tracker.api.views.base import IDEMPOTENCY_KEY, WriteMixin, etag, step_schema, validated
from tracker.models import Attachment, Case, Enterprise, Feedback, Task

_transition_schema = partial(step_schema, response_serializer=serializers.CaseDetailSerializer)


def visible_case_or_404(user, pk) -> Case:
    """The case (its id only) if `user` may see it; else 404, as for a case that does not exist."""
    return get_object_or_404(cases_visible_to(user).select_related(None).only("pk"), pk=pk)


class TimelinePagination(Cursor):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = ("created_at", "id")


@extend_schema_view(
    list=extend_schema(summary="Cases the caller may see"),
    retrieve=extend_schema(summary="One case with its tasks and verdicts; the ETag is its version"),
)
class CaseViewSet(WriteMixin, viewsets.ReadOnlyModelViewSet):
    filterset_class = filters.CaseFilter
    ordering_fields = ["id", "submitted_at", "updated_at"]

    def get_queryset(self):
        cases = annotate_case_deadlines(cases_visible_to(self.request.user), timezone.localdate())
        if self.action == "list":
            # Each row's `actions` leaves out a step its guard refuses (resolve while tasks are open): from this count.
            return annotate_open_task_count(cases)
        tasks = Task.objects.select_related("task_force", "department").order_by("id")
        return cases.prefetch_related(Prefetch("tasks", queryset=tasks), "feedback")

    def get_serializer_class(self):
        return serializers.CaseSerializer if self.action == "list" else serializers.CaseDetailSerializer

    def get_object(self):
        case = super().get_object()
        logs.bind(case=case.number)
        return case

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        response["ETag"] = etag(response.data["version"])
        return response

    def represent(self, pk) -> dict:
        case = get_object_or_404(self.get_queryset(), pk=pk)
        return serializers.CaseDetailSerializer(case, context=self.get_serializer_context()).data

    # Submit ----------------------------------------------------------------------------------------------------

    @extend_schema(
        request=serializers.CaseSubmitInput,
        responses={201: serializers.CaseDetailSerializer},
        parameters=[IDEMPOTENCY_KEY],
        summary="Submit a case: an enterprise user for its own enterprise; staff or an integration on behalf of one",
    )
    def create(self, request, *args, **kwargs):
        data = validated(serializers.CaseSubmitInput, request)
        enterprise = self._enterprise_named(request.user, data)

        def produce():
            try:
                case = case_services.submit_case(
                    actor=request.user,
                    enterprise=enterprise,
                    category=data["category"],
                    title=data["title"],
                    description=data["description"],
                    urgency=data.get("urgency"),
                    channel=data.get("channel") or Case.Channel.API,  # the channel a request came through
                    project=data.get("project"),
                    caller_name=data.get("caller_name", ""),
                    caller_phone=data.get("caller_phone", ""),
                )
            except NotFound:
                # Existence of an enterprise the caller may not submit for is not confirmed.
                raise InvalidInput.field("enterprise", _("企业不存在或无权为其提交诉求")) from None
            # Read back as the detail shows it; a case just submitted has no tasks or feedback to ask for.
            nothing = (Prefetch("tasks", Task.objects.none()), Prefetch("feedback", Feedback.objects.none()))
            fresh = get_object_or_404(self.get_queryset().prefetch_related(None).prefetch_related(*nothing), pk=case.pk)
            return serializers.CaseDetailSerializer(fresh, context=self.get_serializer_context()).data

        response = self.respond_to_write(request, produce, status_code=201)
        if response.status_code == 201:
            response["Location"] = f"{request.path}{response.data['id']}/"
        return response

    @staticmethod
    def _enterprise_named(user, data) -> Enterprise:
        if "enterprise" in data and "enterprise_uscc" in data:
            raise InvalidInput.field("enterprise", _("enterprise 与 enterprise_uscc 只需给出一个"))
        if "enterprise" in data:
            lookup = {"pk": data["enterprise"]}
        elif "enterprise_uscc" in data:
            lookup = {"uscc": parse_uscc(data["enterprise_uscc"], field="enterprise_uscc").code}
        elif user.enterprise_id:
            lookup = {"pk": user.enterprise_id}
        else:
            raise InvalidInput.field("enterprise", _("请指明企业（enterprise 或 enterprise_uscc）"))
        enterprise = Enterprise.objects.filter(**lookup).first()
        if enterprise is None:
            raise InvalidInput.field("enterprise", _("企业不存在或无权为其提交诉求"))
        return enterprise

    # Transitions ----------------------------------------------------------------------------------------------

    @_transition_schema(serializers.NoteInput, "Accept the case (concierge)")
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self.run_step(
            request,
            pk,
            serializers.NoteInput,
            lambda d, v: case_services.accept_case(
                actor=request.user, case=pk, note=d.get("note", ""), expected_version=v
            ),
        )

    @_transition_schema(serializers.ReasonInput, "Decline the case with a reason (concierge)")
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        return self.run_step(
            request,
            pk,
            serializers.ReasonInput,
            lambda d, v: case_services.decline_case(
                actor=request.user, case=pk, reason=d["reason"], expected_version=v
            ),
        )

    @_transition_schema(serializers.DecomposeInput, "Give tasks to task forces or departments (concierge)")
    @action(detail=True, methods=["post"])
    def decompose(self, request, pk=None):
        return self.run_step(
            request,
            pk,
            serializers.DecomposeInput,
            lambda d, v: task_services.decompose_case(
                actor=request.user, case=pk, tasks=[TaskSpec(**spec) for spec in d["tasks"]], expected_version=v
            ),
        )

    @_transition_schema(
        serializers.AnswerInput,
        "Answer the enterprise once every task is done or cancelled (concierge); while any is open, 409 `tasks_open` "
        "with their ids in `data.open_tasks`",
        refusals=("tasks_open",),
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return self.run_step(
            request,
            pk,
            serializers.AnswerInput,
            lambda d, v: case_services.resolve_case(
                actor=request.user, case=pk, answer=d["answer"], expected_version=v
            ),
        )

    @_transition_schema(serializers.ConfirmInput, "Accept the result with a rating (the enterprise)")
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        return self.run_step(
            request,
            pk,
            serializers.ConfirmInput,
            lambda d, v: case_services.confirm_case(
                actor=request.user, case=pk, rating=d["rating"], comment=d.get("comment", ""), expected_version=v
            ),
        )

    @_transition_schema(serializers.ReopenInput, "Reject the result with a reason; the case is reworked")
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self.run_step(
            request,
            pk,
            serializers.ReopenInput,
            lambda d, v: case_services.reopen_case(
                actor=request.user, case=pk, reason=d["reason"], rating=d.get("rating"), expected_version=v
            ),
        )

    @_transition_schema(serializers.OptionalReasonInput, "Withdraw the case before it is resolved (the enterprise)")
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return self.run_step(
            request,
            pk,
            serializers.OptionalReasonInput,
            lambda d, v: case_services.withdraw_case(
                actor=request.user, case=pk, reason=d.get("reason", ""), expected_version=v
            ),
        )

    @_transition_schema(serializers.InfoInput, "Add information to an open case (the enterprise or its concierge)")
    @action(detail=True, methods=["post"])
    def add_info(self, request, pk=None):
        return self.run_step(
            request,
            pk,
            serializers.InfoInput,
            lambda d, v: case_services.add_case_info(actor=request.user, case=pk, note=d["note"]),
        )

    @_transition_schema(
        serializers.RequestInfoInput,
        "Ask the enterprise for more information (its concierge); by default the case's clocks stop (挂起, "
        "clock_paused_at) until someone of the enterprise adds information",
    )
    @action(detail=True, methods=["post"])
    def request_info(self, request, pk=None):
        return self.run_step(
            request,
            pk,
            serializers.RequestInfoInput,
            lambda d, v: case_services.request_case_info(
                actor=request.user, case=pk, note=d["note"], pause=d.get("pause", True)
            ),
        )

    @_transition_schema(
        serializers.ResumeClockInput,
        "End a pause without waiting for the enterprise (its concierge or a leader): every running deadline of the "
        "case moves by the working days the pause lasted; 409 `not_paused` when the case is not paused",
        refusals=("not_paused",),
    )
    @action(detail=True, methods=["post"])
    def resume_clock(self, request, pk=None):
        return self.run_step(
            request,
            pk,
            serializers.ResumeClockInput,
            lambda d, v: case_services.resume_case_clock(actor=request.user, case=pk, note=d.get("note", "")),
        )

    @_transition_schema(
        serializers.CallbackInput,
        "Record the enterprise's verdict given by phone (回访); before verdict_due_on has passed it is an early "
        "callback, refused without contact_name, contact_phone and comment, and counted apart",
    )
    @action(detail=True, methods=["post"])
    def callback(self, request, pk=None):
        return self.run_step(
            request,
            pk,
            serializers.CallbackInput,
            lambda d, v: case_services.record_callback(
                actor=request.user,
                case=pk,
                verdict=d["verdict"],
                rating=d.get("rating"),
                comment=d.get("comment", ""),
                contact_name=d.get("contact_name", ""),
                contact_phone=d.get("contact_phone", ""),
                expected_version=v,
            ),
        )

    # Timeline -------------------------------------------------------------------------------------------------

    @extend_schema(responses=serializers.EventSerializer(many=True), summary="The case's timeline, oldest first")
    @action(detail=True, methods=["get"], pagination_class=TimelinePagination, filter_backends=[])
    def events(self, request, pk=None):
        page = self.paginate_queryset(timeline_for(request.user, visible_case_or_404(request.user, pk)))
        data = serializers.EventSerializer(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)


@extend_schema(parameters=[OpenApiParameter("case_pk", OpenApiTypes.INT, OpenApiParameter.PATH)])
@extend_schema_view(
    list=extend_schema(summary="The case's files"),
    retrieve=extend_schema(summary="One file's details"),
)
class CaseAttachmentViewSet(WriteMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Files of a case the caller may see; served only through `download`, never from a public URL."""

    serializer_class = serializers.AttachmentSerializer
    queryset = Attachment.objects.none()  # for the schema; get_queryset reads the case's files
    pagination_class = None
    filter_backends = []

    def case(self):
        if not hasattr(self, "_case"):
            self._case = visible_case_or_404(self.request.user, self.kwargs["case_pk"])
        return self._case

    def get_queryset(self):
        # An enterprise's token never lists or fetches the files kept to staff (a unit's internal replies).
        return attachments_visible_to(self.request.user, self.case())

    def get_parsers(self):
        if getattr(self, "action", None) == "create" or self.request is None or self.request.method == "POST":
            return [MultiPartParser()]
        return super().get_parsers()

    @extend_schema(
        request={"multipart/form-data": serializers.AttachmentUploadInput},
        responses={201: serializers.AttachmentSerializer},
        parameters=[IDEMPOTENCY_KEY],
        summary="Upload a file (PDF, images, Office documents; type checked by content)",
    )
    def create(self, request, case_pk=None):
        data = validated(serializers.AttachmentUploadInput, request)

        def produce():
            attachment = attachment_services.add_attachment(
                actor=request.user, case=self.case(), upload=data["file"], name=data["file"].name
            )
            return serializers.AttachmentSerializer(attachment, context=self.get_serializer_context()).data

        return self.respond_to_write(request, produce, status_code=201)

    @extend_schema(
        responses={(200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The file, as uploaded")},
        summary="Download the file",
    )
    @action(detail=True, methods=["get"])
    def download(self, request, case_pk=None, pk=None):
        attachment = self.get_object()
        return FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.original_name,
            content_type=attachment.content_type,
        )
