"""Building blocks of the workbench: read-only scoped admins, and object actions — the buttons on a case or
task page that each call one service and show its refusal as a message.

Nothing here decides what is allowed: visibility comes from `services.selectors`, which buttons a person sees
from `services.permissions`, and the service called checks everything again when the button is pressed.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers, widgets
from django.core.exceptions import BadRequest, FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.text import capfirst
from django.utils.translation import gettext

from services.errors import ServiceError
from services.selectors import active_staff, cases_visible_to
from tracker import logs
from tracker.models import Case


def _names_own_field(model, term) -> bool:
    """Whether an ordering term is a plain field of `model` (or a path through its relations): what any queryset of
    the model can order by, unlike an annotation that only a list's own queryset carries."""
    if not isinstance(term, str):
        return False  # an expression (F("is_overdue").desc()) may name an annotation
    name = term.lstrip("-").split("__")[0]
    if name == "pk":
        return True
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


class RelatedChoicesInModelOrder:
    """A foreign key's choices in the related model's own order.

    Django orders them by the related admin's list ordering (ModelAdmin.get_field_queryset), which may name an
    annotation of that list's queryset (the case list orders by deadlines it computes): on the plain queryset of
    the choices that is a FieldError, i.e. a 500 on every form with a foreign key to that model. The list's
    ordering is kept only when every term is a field of the model."""

    def get_field_queryset(self, db, db_field, request):
        model = db_field.remote_field.model
        related_admin = self.admin_site._registry.get(model)
        ordering = related_admin.get_ordering(request) if related_admin is not None else None
        if ordering and all(_names_own_field(model, term) for term in ordering):
            return model._default_manager.using(db).order_by(*ordering)
        return None  # the field's default: the model's Meta.ordering


def storable_keys(field, values) -> list:
    """The posted values that `field` (a key: an id, a related object's key) could hold. A tampered form's " " or
    10**40 is dropped: put into a query it fails the request (ValueError; OverflowError on SQLite)."""
    kept = []
    for value in values:
        try:
            key = field.to_python(value)
        except ValidationError:
            continue
        if isinstance(key, int) and not isinstance(key, bool):
            column = field.target_field if field.is_relation else field
            low, high = connection.ops.integer_field_range(column.get_internal_type())
            if not low <= key <= high:
                continue
        kept.append(value)
    return kept


def key_or_none(field, value):
    """`value` (a query parameter, a posted field) as a value of `field` (a key), or None if it could be none."""
    kept = storable_keys(field, [value])
    return field.to_python(kept[0]) if kept else None


class KeepsTamperedValues:
    """Django's autocomplete shows a form again by querying the objects posted (`id__in`) as they came: a value
    that is no key of the related model would fail the page instead of showing the field's error."""

    def optgroups(self, name, value, attr=None):
        to_field = getattr(self.field.remote_field, "field_name", None) or self.field.remote_field.model._meta.pk.name
        target = self.field.remote_field.model._meta.get_field(to_field)
        return super().optgroups(name, storable_keys(target, value), attr)


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Django's, refusing a key no row can have before its `pk__in` query, where it would fail the request (an
    OverflowError on SQLite for 10**40) instead of showing the field's error."""

    def _check_values(self, value):
        key = self.to_field_name or "pk"
        column = self.queryset.model._meta.pk if key == "pk" else self.queryset.model._meta.get_field(key)
        for pk in value:
            if not storable_keys(column, [pk]):
                message = self.error_messages["invalid_pk_value"]
                raise ValidationError(message, code="invalid_pk_value", params={"pk": pk})
        return super()._check_values(value)


class AutocompleteSelect(KeepsTamperedValues, widgets.AutocompleteSelect):
    pass


class AutocompleteSelectMultiple(KeepsTamperedValues, widgets.AutocompleteSelectMultiple):
    pass


class WorkbenchPages(RelatedChoicesInModelOrder):
    """What every page of the workbench does, whichever admin shows it (WorkbenchSite.register adds it to the
    admins that lack it): lists and object pages titled in the user's words rather than Django's "选择…查看" and
    "查看 诉求"; a list opened only by the roles whose menu offers it (an object of it may still be opened from
    another page, by whoever may see it); no history page (the case and task pages carry their timelines)."""

    def list_title(self, request) -> str:
        """The list's heading (and the browser tab's). Override for a queue: "我的诉求", "全部诉求"."""
        return capfirst(self.opts.verbose_name_plural)

    def object_title(self, obj) -> str:
        """An object page's heading: the object's own name."""
        return str(obj)

    def changelist_view(self, request, extra_context=None):
        if not self.admin_site.offers(request, self.model):
            raise PermissionDenied  # a list only for the roles whose menu offers it
        if request.method == "POST":
            self._refuse_tampered_keys(request)
        return super().changelist_view(request, {"title": self.list_title(request), **(extra_context or {})})

    def _refuse_tampered_keys(self, request) -> None:
        """The rows a list's action or its editable columns are posted for must be keys: Django queries them as
        they came (`pk__in`), and "abc" or 10**40 would fail the request. No page sends such a value: 400."""
        pk = self.opts.pk
        rows = re.compile(rf"form-\d+-{re.escape(pk.name)}$")  # list_editable's formset (prefix "form")
        posted = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        posted += [value for key, value in request.POST.items() if self.list_editable and rows.match(key)]
        if len(storable_keys(pk, posted)) != len(posted):
            raise BadRequest("a list posted with rows that are not keys")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = AutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs.setdefault("form_class", ModelMultipleChoiceField)
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = AutocompleteSelectMultiple(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["list_offered"] = self.admin_site.offers(request, self.model)
        name = self.opts.verbose_name
        if context.get("title") in {gettext(text) % name for text in ("Add %s", "Change %s", "View %s")}:
            # Django's own heading (a caller's extra_context title is left alone)
            if obj is not None and not add:
                context.update(title=self.object_title(obj), subtitle=None)
            else:
                context["title"] = gettext("新增%(name)s") % {"name": name}
        return super().render_change_form(request, context, add, change, form_url, obj)

    def history_view(self, request, object_id, extra_context=None):
        """No separate history: the object's page (the case's and the task's carry their timelines)."""
        info = self.opts.app_label, self.opts.model_name
        return HttpResponseRedirect(reverse("admin:{}_{}_change".format(*info), args=[object_id]))


class ReadOnlyAdmin(WorkbenchPages, admin.ModelAdmin):
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


class ReadOnlyInline(RelatedChoicesInModelOrder, admin.TabularInline):
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


def expected_version(data: dict) -> int | None:
    """The version of the object the person was looking at when they pressed the button."""
    return data.get("version")


class ServiceForm(forms.Form):
    """A workbench form whose data goes to a service: the service's field errors land on the fields they name."""

    def place_service_error(self, field: str, errors: list[str]) -> bool:
        """Show a service's error on the field it names; False if no field here matches."""
        if field not in self.fields:
            return False
        for message in errors:
            self.add_error(field, message)
        return True


class ActionForm(ServiceForm):
    """Base of the forms an action asks: knows the object and the actor, carries the version seen."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, obj=None, actor=None, **kwargs):
        self.obj = obj
        self.actor = actor
        super().__init__(*args, **kwargs)

    def non_field_errors(self):
        """With the hidden fields' errors (a version no page sends), which the page shows nowhere else: without
        them a refused form would come back with no word of why."""
        errors = super().non_field_errors().copy()
        for field in self.hidden_fields():
            for error in field.errors:  # Django's own words, as its default form rendering puts them
                errors.append(gettext("(Hidden field %(name)s) %(error)s") % {"name": field.name, "error": error})
        return errors


# Where a button stands on the page by its style: the main step first, destructive steps last.
BUTTON_RANK = {"primary": 0, "": 1, "danger": 2}


class ObjectActionsMixin:
    """Adds `<id>/do/<action>/` to a ModelAdmin: GET shows the action's form, POST runs the service."""

    object_actions: dict[str, ObjectAction] = {}
    action_template = "admin/tracker/object_action.html"

    def actions_for(self, request, obj) -> list[str]:
        raise NotImplementedError

    def action_buttons(self, request, obj) -> list[ObjectAction]:
        """The buttons `request.user` may press now: the page's order, the first primary step alone filled, then
        the ordinary steps, the destructive ones last."""
        allowed = set(self.actions_for(request, obj))
        buttons = [action for name, action in self.object_actions.items() if name in allowed]
        buttons.sort(key=lambda action: BUTTON_RANK.get(action.style, 1))  # stable: keeps the page's order
        return [
            action if action.style != "primary" or index == 0 else replace(action, style="")
            for index, action in enumerate(buttons)
        ]

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
