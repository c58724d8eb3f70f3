"""List filters. Each filters on an indexed column (tests/api/test_filters_indexed.py checks it)."""

from datetime import UTC

import django_filters as filters
from django import forms
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField

from services.time.deadlines import overdue_cases_q, overdue_tasks_q
from tracker.models import Case, Enterprise, Project, Task
from tracker.models.zone import Industry


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 instant, turned into UTC here: databases refuse offsets beyond ±15:59 that ISO allows."""

    def to_python(self, value):
        instant = super().to_python(value)
        if instant is None:
            return None
        try:
            return instant.astimezone(UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError(_("时间超出可表示的范围"), code="invalid") from None


class InstantFilter(filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class FlagFilter(filters.ChoiceFilter):
    """`true` keeps the rows meeting `condition()`, `false` the others; anything else is refused (a plain
    BooleanFilter would ignore it silently)."""

    def __init__(self, condition, **kwargs):
        kwargs.setdefault("choices", [("true", "true"), ("false", "false")])
        super().__init__(method=lambda queryset, name, value: queryset.filter(_flag(condition(), value)), **kwargs)


def _flag(q, value: str):
    return q if value == "true" else ~q


def _overdue_cases():
    return overdue_cases_q(timezone.localdate())


def _overdue_tasks():
    return overdue_tasks_q(timezone.localdate())


class IdInFilter(filters.BaseInFilter, filters.NumberFilter):
    pass


class CharInFilter(filters.BaseInFilter, filters.CharFilter):
    pass


class CaseFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(
        choices=Case.Status.choices, distinct=False, help_text=_("可重复：?status=a&status=b")
    )
    category = CharInFilter(field_name="category__code", help_text=_("类别代码，逗号分隔"))
    enterprise = IdInFilter(field_name="enterprise_id")
    project = IdInFilter(field_name="project_id")
    concierge = IdInFilter(field_name="concierge_id")
    department = filters.NumberFilter(method="filter_department", help_text=_("有事项交给该部门的诉求"))
    urgency = filters.ChoiceFilter(choices=Case.Urgency.choices)
    channel = filters.ChoiceFilter(choices=Case.Channel.choices)
    overdue = FlagFilter(_overdue_cases, help_text=_("true：已逾期；false：未逾期"))
    created_after = InstantFilter(field_name="submitted_at", lookup_expr="gte")
    created_before = InstantFilter(field_name="submitted_at", lookup_expr="lt")
    updated_after = InstantFilter(field_name="updated_at", lookup_expr="gte")
    updated_before = InstantFilter(field_name="updated_at", lookup_expr="lt")

    class Meta:
        model = Case
        fields = []

    def filter_department(self, queryset, name, value):
        tasked = Task.objects.filter(case=OuterRef("pk"), department_id=value)
        return queryset.filter(Exists(tasked))


class TaskFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=Task.Status.choices, distinct=False)
    case = IdInFilter(field_name="case_id")
    department = IdInFilter(field_name="department_id")
    task_force = IdInFilter(field_name="task_force_id")
    assignee = IdInFilter(field_name="assignee_id")
    overdue = FlagFilter(_overdue_tasks, help_text=_("true：已逾期；false：未逾期"))
    due_after = filters.DateFilter(field_name="due_on", lookup_expr="gte")
    due_before = filters.DateFilter(field_name="due_on", lookup_expr="lte")
    updated_after = InstantFilter(field_name="updated_at", lookup_expr="gte")
    updated_before = InstantFilter(field_name="updated_at", lookup_expr="lt")

    class Meta:
        model = Task
        fields = []


class EnterpriseFilter(filters.FilterSet):
    uscc = filters.CharFilter(field_name="uscc")
    name = filters.CharFilter(field_name="name", lookup_expr="startswith", help_text=_("名称开头"))
    industry = filters.ChoiceFilter(choices=Industry.choices)
    concierge = IdInFilter(field_name="concierge_id")
    updated_after = InstantFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Enterprise
        fields = []


class ProjectFilter(filters.FilterSet):
    enterprise = IdInFilter(field_name="enterprise_id")
    stage = filters.ChoiceFilter(choices=Project.Stage.choices)
    level = filters.ChoiceFilter(choices=Project.Level.choices)
    concierge = IdInFilter(field_name="concierge_id")
    updated_after = InstantFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Project
        fields = []
