"""Giving tasks out in the workbench: the decomposition form (分解交办) and the unit → 承办人 choice it shares with
重新交办.

A task names a unit (a task force or a department), then optionally its 承办人 among the people of that unit only
(`services.cases.tasks.people_of_units`). The units and their people are read once per page, whatever the number of rows
or of staff; the page embeds who belongs to which unit (`json_script`) so that decompose.js narrows the 承办人 list
as the unit changes. Without JavaScript the list is grouped by unit, and the service refuses anyone outside it.
"""

from collections import Counter
from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from services.cases import tasks as task_services
from services.time import calendar
from tracker.admin.base import ActionForm, DateField, place_row_error
from tracker.admin.due_dates import RestDayMoves, hint_rest_days
from tracker.models import Case, Department, Task, TaskForce

EMPTY_LABEL = "—"


class UnitChoices:
    """The units a task of `case` may be given to — active standing task forces, those formed for this case (never
    another case's own) and active departments — and the people of each. Four queries, shared by every row."""

    def __init__(self, case: Case):
        self.case = case
        self.task_forces: dict[int, TaskForce] = {tf.pk: tf for tf in task_services.task_forces_for_case(case)}
        self.departments: dict[int, Department] = {
            d.pk: d for d in Department.objects.filter(is_active=True).order_by("sort_order", "name", "id")
        }
        self.people = task_services.people_of_units(
            task_forces=self.task_forces.values(), departments=self.departments.values()
        )
        self.labels = _person_labels(self.people.people.values())

    @classmethod
    def for_object(cls, obj: Case | Task) -> "UnitChoices":
        return cls(obj.case if isinstance(obj, Task) else obj)

    def task_force_label(self, task_force: TaskForce) -> str:
        if task_force.case_id:
            return gettext("%(name)s（本诉求专班）") % {"name": task_force.name}
        return task_force.name

    def people_of(self, task_force: TaskForce | None, department: Department | None) -> list[int]:
        return self.people.of(task_force, department)

    def person_choices(self, task_force: TaskForce | None, department: Department | None) -> list:
        """The 承办人 options: the chosen unit's people; with no unit chosen, everyone grouped by unit."""
        if task_force or department:
            return [("", EMPTY_LABEL), *((pk, self.labels[pk]) for pk in self.people_of(task_force, department))]
        groups = [(self.task_force_label(tf), self.people.task_forces[pk]) for pk, tf in self.task_forces.items()] + [
            (d.name, self.people.departments[pk]) for pk, d in self.departments.items()
        ]
        return [("", EMPTY_LABEL), *((name, [(pk, self.labels[pk]) for pk in ids]) for name, ids in groups if ids)]

    def script_data(self) -> dict:
        """What decompose.js needs: each person's label, and the people of each unit in the order offered."""
        return {
            "people": {str(pk): label for pk, label in self.labels.items()},
            "task_force": {str(pk): ids for pk, ids in self.people.task_forces.items()},
            "department": {str(pk): ids for pk, ids in self.people.departments.items()},
            "text": {
                "choose_unit": gettext("先选择承办专班或部门"),
                "nobody": gettext("该单位暂无可选人员，可不指定承办人"),
                "search": gettext("搜索承办人"),
                "no_match": gettext("没有匹配的人员"),
            },
        }


def _person_labels(people) -> dict[int, str]:
    """A person as the 承办人 list shows them: name, then unit and title to tell namesakes apart (the account name
    too, when even those are the same)."""
    labels = {}
    for user in people:
        where = " · ".join(part for part in (user.department.name if user.department else "", user.title) if part)
        labels[user.pk] = f"{user.display_name}（{where}）" if where else user.display_name
    repeated = Counter(labels.values())
    for user in people:
        if repeated[labels[user.pk]] > 1:
            labels[user.pk] = f"{labels[user.pk]} {user.username}"
    return labels


class ObjectChoiceField(forms.ChoiceField):
    """A choice among objects loaded once for the page: rendering and checking a row costs no query, and the
    cleaned value is the object."""

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)
        self.objects: dict[int, Model] = {}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, Model):
            return value
        try:
            return self.objects[int(value)]
        except (KeyError, TypeError, ValueError):
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
            ) from None

    def validate(self, value):
        if value is None and self.required:
            raise ValidationError(self.error_messages["required"], code="required")

    def prepare_value(self, value):
        return value.pk if isinstance(value, Model) else value

    def has_changed(self, initial, data):
        def key(value):
            return "" if value in self.empty_values else str(self.prepare_value(value))

        return key(initial) != key(data)


class UnitForm(forms.Form):
    """Who a task is given to: a task force or a department, then (optionally) its 承办人 among that unit's people.

    `units` is shared by the rows of one page; a form on its own (重新交办) builds it from its object's case."""

    task_force = ObjectChoiceField(label=_("承办专班"))
    department = ObjectChoiceField(label=_("承办部门"))
    assignee = ObjectChoiceField(label=_("承办人"))

    def __init__(self, *args, units: UnitChoices | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.units = units or UnitChoices.for_object(self.obj)
        fields = self.fields
        fields["task_force"].objects = self.units.task_forces
        fields["task_force"].choices = [("", EMPTY_LABEL)] + [
            (pk, self.units.task_force_label(tf)) for pk, tf in self.units.task_forces.items()
        ]
        fields["department"].objects = self.units.departments
        fields["department"].choices = [("", EMPTY_LABEL)] + [(pk, d.name) for pk, d in self.units.departments.items()]
        fields["assignee"].objects = self.units.people.people
        fields["assignee"].choices = self.units.person_choices(
            self._unit_shown("task_force"), self._unit_shown("department")
        )
        fields["task_force"].widget.attrs["data-unit"] = "task_force"
        fields["department"].widget.attrs["data-unit"] = "department"
        fields["assignee"].widget.attrs["data-assignee"] = ""
        fields["assignee"].help_text = _("只列出所选专班或部门的人员；可不指定，由单位签收时确定")

    def _unit_shown(self, name: str):
        """The unit the row shows as chosen (typed in, or offered), or None."""
        try:
            return self.fields[name].to_python(self[name].value())
        except ValidationError:
            return None


class TaskSpecForm(UnitForm):
    """One task of a decomposition. A row left as offered is skipped."""

    title = forms.CharField(label=_("事项"), max_length=200, required=False)
    due_on = DateField(label=_("办理期限"), required=False)
    description = forms.CharField(label=_("要求"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    field_order = ["title", "task_force", "department", "assignee", "due_on", "description"]

    def __init__(self, *args, default_due: date | None = None, rest_days: RestDayMoves | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # On the field, not the form's initial: rows added later (the formset's extra and empty form) get it too.
        self.fields["due_on"].initial = default_due
        hint_rest_days(self.fields["due_on"], rest_days)
        self.fields["assignee"].help_text = ""


# Rows a decomposition takes at most. Django's own bound is 2 000: a form posted claiming 10**9 rows would build and
# show 2 000 of them (seconds of work for one request).
MAX_TASKS = 50
TaskSpecFormSet = forms.formset_factory(
    TaskSpecForm, extra=3, max_num=MAX_TASKS, absolute_max=MAX_TASKS, validate_max=True
)


class DecomposeForm(ActionForm):
    """Several tasks at once; each row's due date is pre-filled from the category's working-day limit."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        data = args[0] if args else None
        self.default_due = calendar.add_working_days(timezone.localdate(), self.obj.category.task_days)
        self.units = UnitChoices(self.obj)
        self.tasks = TaskSpecFormSet(
            data,
            prefix="tasks",
            form_kwargs={"units": self.units, "default_due": self.default_due.date, "rest_days": RestDayMoves()},
        )

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
