"""Building blocks of the workbench: read-only scoped admins, and object actions — the buttons on a case or
task page that each call one service and show its refusal as a message.

Nothing here decides what is allowed: visibility comes from `services.selectors`, which buttons a person sees
from `services.permissions`, and the service called checks everything again when the button is pressed.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from services.errors import ServiceError
from services.selectors import active_staff, cases_visible_to
from tracker import logs
from tracker.models import Case, Department, TaskForce


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

    def get_object(self, request, object_id, from_field=None):
        """Read once per request: the page, its buttons and Django's own view all ask for the object."""
        loaded = request.__dict__.setdefault("_workbench_objects", {})
        key = (self.model, str(object_id), from_field)
        if key not in loaded:
            loaded[key] = super().get_object(request, object_id, from_field)
            if isinstance(loaded[key], Case):
                logs.bind(case=loaded[key].number)
        return loaded[key]

    def get_queryset(self, request):
        queryset = self.visible(request.user)
        if isinstance(self.list_select_related, list | tuple):
            # The changelist skips list_select_related when the selector has joins of its own.
            queryset = queryset.select_related(*self.list_select_related)
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


class TextFilter(admin.SimpleListFilter):
    """A list filter typed into a box (for enterprises and projects: too many to list as links)."""

    template = "admin/tracker/text_filter.html"

    def lookups(self, request, model_admin):
        return [("", "")]  # Django shows a filter only when it has choices

    def has_output(self):
        return True

    def choices(self, changelist):
        others = {k: v for k, v in changelist.params.items() if k != self.parameter_name}
        yield {"value": self.value() or "", "parameter_name": self.parameter_name, "others": others.items()}


@dataclass(frozen=True)
class ObjectAction:
    """A button on an object's page. `form` asks what the service needs (None: the button alone is enough);
    `run(actor, obj, data)` calls the service with the cleaned data."""

    name: str
    label: Any
    run: Callable[..., Any]
    done: Any
    form: type[forms.Form] | None = None
    style: str = ""

    @property
    def asks_input(self) -> bool:
        """Whether the button leads to a form (templates must not touch `form`: they would call the class)."""
        return self.form is not None


class DateField(forms.DateField):
    """A date picked in the browser's own calendar (ISO dates in and out)."""

    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


TEXTAREA = forms.Textarea(attrs={"rows": 4, "cols": 80})


class StaffChoiceField(forms.ModelChoiceField):
    """A staff member, shown by their display name. Each form gets a fresh copy of the queryset."""

    def __init__(self, *, label, role: str | None = None, **kwargs):
        super().__init__(queryset=active_staff(role), label=label, required=False, **kwargs)

    def label_from_instance(self, user):
        return user.display_name


class UnitForm(forms.Form):
    """Who a task is given to: a task force or a department, and optionally an assignee."""

    task_force = forms.ModelChoiceField(
        label=_("承办专班"),
        queryset=TaskForce.objects.filter(is_active=True).order_by("-is_standing", "name"),
        required=False,
    )
    department = forms.ModelChoiceField(
        label=_("承办部门"),
        queryset=Department.objects.filter(is_active=True).order_by("sort_order", "name"),
        required=False,
    )
    assignee = StaffChoiceField(label=_("承办人"))


def expected_version(data: dict) -> int | None:
    """The version of the object the person was looking at when they pressed the button."""
    return data.get("version")


class ActionForm(forms.Form):
    """Base of the forms an action asks: knows the object and the actor, carries the version seen."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, obj=None, actor=None, **kwargs):
        self.obj = obj
        self.actor = actor
        super().__init__(*args, **kwargs)

    def place_service_error(self, field: str, errors: list[str]) -> bool:
        """Show a service's error on the field it names; False if no field here matches."""
        if field not in self.fields:
            return False
        for message in errors:
            self.add_error(field, message)
        return True


class ObjectActionsMixin:
    """Adds `<id>/do/<action>/` to a ModelAdmin: GET shows the action's form, POST runs the service."""

    object_actions: dict[str, ObjectAction] = {}
    action_template = "admin/tracker/object_action.html"

    def actions_for(self, request, obj) -> list[str]:
        raise NotImplementedError

    def action_buttons(self, request, obj) -> list[ObjectAction]:
        allowed = set(self.actions_for(request, obj))
        return [action for name, action in self.object_actions.items() if name in allowed]  # the page's order

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/do/<str:action>/",
                self.admin_site.admin_view(self.object_action_view),
                name="{}_{}_action".format(*info),
            ),
            *super().get_urls(),
        ]

    def change_url(self, obj) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])

    def build_action_form(self, action: ObjectAction, request, obj):
        initial = {"version": getattr(obj, "version", None), **self.action_initial(action, request, obj)}
        data = (request.POST, request.FILES) if request.method == "POST" else ()
        return action.form(*data, obj=obj, actor=request.user, initial=initial)

    def action_initial(self, action: ObjectAction, request, obj) -> dict:
        return {}

    def object_action_view(self, request, object_id, action):
        obj = self.get_object(request, object_id)
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404(gettext("对象不存在或无权查看"))
        if action not in self.object_actions:
            raise Http404(gettext("没有这个操作"))
        spec = self.object_actions[action]
        form = self.build_action_form(spec, request, obj) if spec.form else None
        if request.method == "POST":
            if form is None or form.is_valid():
                data = form.cleaned_data if form else {"version": _int_or_none(request.POST.get("version"))}
                try:
                    spec.run(request.user, obj, data)
                except ServiceError as error:
                    self._show_refusal(request, form, error)
                    if form is None:
                        return HttpResponseRedirect(self.change_url(obj))
                else:
                    messages.success(request, spec.done)
                    return HttpResponseRedirect(self.change_url(obj))
        elif form is None:
            raise PermissionDenied  # buttons without a form are pressed with POST from the object's page
        elif action not in self.actions_for(request, obj):
            messages.warning(request, gettext("当前状态下您不能执行“%(action)s”") % {"action": spec.label})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "object": obj,
            "action": spec,
            "form": form,
            "change_url": self.change_url(obj),
            "title": f"{spec.label} · {obj}",
            **self.action_context(spec, request, obj, form),
        }
        return TemplateResponse(request, self.action_template, context)

    def action_context(self, action: ObjectAction, request, obj, form) -> dict:
        return {}

    def _show_refusal(self, request, form, error: ServiceError) -> None:
        show_refusal(request, error, form.place_service_error if form is not None else None)


def show_refusal(request, error: ServiceError, place: Callable[[str, list[str]], bool] | None) -> None:
    """A service's refusal as the admin shows it: each field error on its field where `place` finds one, the
    rest in the message."""
    unplaced = []
    for field, field_errors in error.fields.items():
        if place is None or not place(field, field_errors):
            unplaced += field_errors
    messages.error(request, " ".join([error.message, *unplaced]))


def place_row_error(rows: list[forms.Form], prefix: str, field: str, errors: list[str]) -> bool:
    """Show a service error named like `tasks[1].title` on the second row filled in; False if it has no place."""
    index, _sep, name = field.removeprefix(f"{prefix}[").partition("].")
    if not field.startswith(f"{prefix}[") or not index.isdigit() or int(index) >= len(rows):
        return False
    if name not in rows[int(index)].fields:
        return False
    for message in errors:
        rows[int(index)].add_error(name, message)
    return True


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
