"""The register and reference data, read-only: enterprises, projects, categories, departments, task forces."""

from rest_framework import viewsets

from services.selectors import enterprises_visible_to, projects_visible_to, task_forces_visible_to
from tracker.api import filters, serializers
from tracker.models import Category, Department


class EnterpriseViewSet(viewsets.ReadOnlyModelViewSet):
    """Key enterprises the caller may see (an enterprise user: its own)."""

    serializer_class = serializers.EnterpriseSerializer
    filterset_class = filters.EnterpriseFilter
    ordering_fields = ["id", "updated_at"]

    def get_queryset(self):
        return enterprises_visible_to(self.request.user).prefetch_related("tiers")


class ProjectViewSet(viewsets.ReadOnlyModelViewSet):
    """Investment projects the caller may see."""

    serializer_class = serializers.ProjectSerializer
    filterset_class = filters.ProjectFilter
    ordering_fields = ["id", "updated_at"]

    def get_queryset(self):
        return projects_visible_to(self.request.user)


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """The seven issue categories with their working-day limits; `code` is what a submission names."""

    serializer_class = serializers.CategorySerializer
    queryset = Category.objects.all()
    ordering_fields = ["id"]


class DepartmentViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = serializers.DepartmentSerializer
    queryset = Department.objects.all()
    ordering_fields = ["id"]


class TaskForceViewSet(viewsets.ReadOnlyModelViewSet):
    """Standing task forces, and those formed for a case the caller may see."""

    serializer_class = serializers.TaskForceSerializer
    ordering_fields = ["id"]

    def get_queryset(self):
        return (
            task_forces_visible_to(self.request.user)
            .select_related("lead_department")
            .prefetch_related("assisting_departments")
        )
