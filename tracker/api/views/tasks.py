"""Tasks: list and read what the caller's unit was given (or may see), and the unit's steps on them."""

from functools import partial

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404

from services.cases import tasks as task_services
from services.permissions import task_actions_for
from services.selectors import tasks_visible_to
from tracker.api import filters, serializers
from tracker.api.views.base import WriteMixin, step_schema

_step_schema = partial(step_schema, response_serializer=serializers.TaskDetailSerializer)


@extend_schema_view(
    list=extend_schema(summary="Tasks the caller may see"),
    retrieve=extend_schema(summary="One task with its extension requests; the ETag is its version"),
)
class TaskViewSet(WriteMixin, viewsets.ReadOnlyModelViewSet):
    filterset_class = filters.TaskFilter
    ordering_fields = ["id", "due_on", "updated_at"]

    def get_queryset(self):
        tasks = tasks_visible_to(self.request.user)
        if self.action != "list":
            tasks = tasks.prefetch_related("extensions__requested_by")
        return tasks

    def get_serializer_class(self):
        return serializers.TaskSerializer if self.action == "list" else serializers.TaskDetailSerializer

    def represent(self, pk) -> dict:
        task = get_object_or_404(self.get_queryset(), pk=pk)
        task.api_actions = task_actions_for(self.request.user, task)
        return serializers.TaskDetailSerializer(task, context=self.get_serializer_context()).data

    def retrieve(self, request, *args, **kwargs):
        body = self.represent(kwargs["pk"])
        return self._response(body, 200, replayed=False)

    @_step_schema(serializers.VersionedInput, "Sign for the task and start work (the unit)")
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self.run_step(
            request,
            pk,
            serializers.VersionedInput,
            lambda d, v: task_services.start_task(actor=request.user, task=pk, expected_version=v),
        )

    @_step_schema(serializers.ResultInput, "Complete the task with its result (the unit)")
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self.run_step(
            request,
            pk,
            serializers.ResultInput,
            lambda d, v: task_services.complete_task(
                actor=request.user, task=pk, result=d["result"], expected_version=v
            ),
        )

    @_step_schema(serializers.ReasonInput, "Hand the task back to the concierge with a reason (the unit)")
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request, pk=None):
        return self.run_step(
            request,
            pk,
            serializers.ReasonInput,
            lambda d, v: task_services.return_task(actor=request.user, task=pk, reason=d["reason"], expected_version=v),
        )

    @_step_schema(
        serializers.ExtendInput, "Ask a leader for a later due date (the unit)", refusals=("extension_pending",)
    )
    @action(detail=True, methods=["post"])
    def extend(self, request, pk=None):
        return self.run_step(
            request,
            pk,
            serializers.ExtendInput,
            lambda d, v: task_services.request_extension(
                actor=request.user, task=pk, requested_due_on=d["requested_due_on"], reason=d["reason"]
            ),
        )
