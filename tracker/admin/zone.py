"""The zone's register in the workbench: enterprises and projects (with Excel import), and visits."""

import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from services.cases.visits import ProblemSpec, record_visit, visit_choices
from services.errors import InvalidInput, ServiceError
from services.permissions import is_linked_concierge
from services.register.imports import import_template, preview_import, run_import
from services.register.zone import may_keep_register
from services.reports.stats import contact_since, enterprises_without_contact
from services.roles import is_zone_wide
from services.selectors import (
    concierge_of_q,
    enterprises_visible_to,
    my_visits_q,
    projects_visible_to,
    visits_visible_to,
)
from tracker.admin.base import DateField, ScopedAdmin, place_row_error, show_refusal
from tracker.models import Case, Category, Enterprise, Project, Visit

IMPORT_KINDS = {"enterprises": _("企业"), "projects": _("投资项目")}


class HasConciergeFilter(admin.SimpleListFilter):
    title = _("服务专员")
    parameter_name = "has_concierge"

    def lookups(self, request, model_admin):
        return [("yes", _("已挂钩")), ("no", _("未挂钩"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(concierge__isnull=self.value() == "no")
        return queryset


class ContactFilter(admin.SimpleListFilter):
    """Key enterprises nobody has heard from lately: no case submitted and no visit (the dashboard's figure)."""

    title = _("近期联系")
    parameter_name = "contact"

    def lookups(self, request, model_admin):
        return [("none", _("近一季度无诉求也无走访"))]

    def queryset(self, request, queryset):
        if self.value() == "none":
            since = contact_since(timezone.localdate())
            return enterprises_without_contact(queryset.filter(is_key=True), since)
        return queryset


class MineFilter(admin.SimpleListFilter):
    title = _("挂钩")
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("yes", _("我挂钩的"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(concierge_of_q(request.user))
        return queryset


class VisitMineFilter(MineFilter):
    """Visits made by the person, or to an enterprise they are (backup) concierge of."""

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(my_visits_q(request.user))
        return queryset


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("导入内容"), choices=list(IMPORT_KINDS.items()))
    file = forms.FileField(label=_("Excel 文件（.xlsx）"), required=False)


def _import_dir() -> Path:
    folder = Path(settings.PRIVATE_MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _preview_rows(preview) -> list[dict]:
    """Each row's cells in column order, and its problems named by column title (the file's own words)."""
    titles = dict(preview.columns) | {"row": gettext("整行")}
    rows = []
    for row in preview.rows:
        problems = [(titles.get(f, f), m, "error") for f, messages in row.errors.items() for m in messages]
        problems += [(titles.get(f, f), m, "warning") for f, messages in row.warnings.items() for m in messages]
        cells = [row.values.get(field, "") for field, _title in preview.columns]
        rows.append({"number": row.number, "cells": cells, "problems": problems, "bad": bool(row.errors)})
    return rows


@admin.register(Enterprise)
class EnterpriseAdmin(ScopedAdmin):
    list_display = ["name", "uscc_display", "industry", "park", "concierge", "backup_concierge", "linked_leader"]
    list_filter = [MineFilter, "industry", "is_key", HasConciergeFilter, ContactFilter, "tiers", "uscc_checksum_ok"]
    list_select_related = ["concierge", "backup_concierge", "linked_leader"]
    search_fields = ["name", "=uscc", "contact_name"]
    search_help_text = _("按企业名称或统一社会信用代码搜索")
    show_full_result_count = False
    change_list_template = "admin/tracker/enterprise/change_list.html"
    change_form_template = "admin/tracker/enterprise/change_form.html"

    def visible(self, user):
        return enterprises_visible_to(user)

    @admin.display(description=_("统一社会信用代码"), ordering="uscc")
    def uscc_display(self, enterprise):
        if enterprise.uscc_checksum_ok:
            return enterprise.uscc
        return format_html('{} <span class="badge badge-overdue">{}</span>', enterprise.uscc, _("校验位待核实"))

    def changelist_view(self, request, extra_context=None):
        extra_context = {"may_import": may_keep_register(request.user), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        enterprise = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if enterprise is not None:
            extra_context.update(
                cases_url=reverse("admin:tracker_case_changelist") + f"?enterprise={enterprise.pk}",
                visit_url=reverse("admin:tracker_visit_add") + f"?enterprise={enterprise.pk}",
                may_visit=is_zone_wide(request.user) or is_linked_concierge(request.user, enterprise),
                recent_visits=list(enterprise.visits.select_related("concierge").order_by("-visited_on")[:5]),
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name="tracker_enterprise_import"),
            path("import/template/<str:kind>/", wrap(self.template_view), name="tracker_enterprise_import_template"),
            *super().get_urls(),
        ]

    def _require_admin(self, request):
        """The import page is for those who keep the register (administrators and leaders); the service checks
        again."""
        if not may_keep_register(request.user):
            raise PermissionDenied

    def template_view(self, request, kind):
        self._require_admin(request)
        if kind not in IMPORT_KINDS:
            return redirect("admin:tracker_enterprise_import")
        response = HttpResponse(
            import_template(kind), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = f'attachment; filename="{kind}-template.xlsx"'
        return response

    def import_view(self, request):
        """Upload → preview with every row's errors → confirm. A file with any bad row imports nothing."""
        self._require_admin(request)
        form = ImportForm(request.POST or None, request.FILES or None)
        context = {**self.admin_site.each_context(request), "opts": self.opts, "form": form, "title": _("Excel 导入")}
        context["kinds"] = list(IMPORT_KINDS.items())
        if request.method == "POST" and form.is_valid():
            kind = form.cleaned_data["kind"]
            token = request.POST.get("token", "")
            try:
                if "confirm" in request.POST and token:
                    stored = self._stored_upload(request, token)
                    with stored.open("rb") as upload:
                        result = run_import(actor=request.user, kind=kind, upload=upload)
                    stored.unlink(missing_ok=True)
                    messages.success(
                        request,
                        gettext("已导入%(count)d条%(kind)s记录")
                        % {"count": len(result.rows), "kind": IMPORT_KINDS[kind]},
                    )
                    target = "tracker_enterprise_changelist" if kind == "enterprises" else "tracker_project_changelist"
                    return HttpResponseRedirect(reverse(f"admin:{target}"))
                upload = form.cleaned_data["file"]
                if upload is None:
                    form.add_error("file", gettext("请选择要导入的 Excel 文件"))
                else:
                    preview = preview_import(actor=request.user, kind=kind, upload=upload)
                    context["preview"] = preview
                    context["columns"] = [title for _field, title in preview.columns]
                    context["preview_rows"] = _preview_rows(preview)
                    if preview.ok:
                        context["token"] = self._store_upload(request, upload)
            except ServiceError as error:
                for field, field_errors in error.fields.items():
                    for message in field_errors:
                        form.add_error("file" if field == "file" or "." in field else None, message)
                messages.error(request, error.message)
        return TemplateResponse(request, "admin/tracker/import.html", context)

    def _store_upload(self, request, upload) -> str:
        """Keep the previewed file until it is confirmed; the token is tied to this session."""
        token = uuid.uuid4().hex
        upload.seek(0)
        (_import_dir() / f"{token}.xlsx").write_bytes(upload.read())
        request.session.setdefault("import_tokens", [])
        request.session["import_tokens"] = [*request.session["import_tokens"][-9:], token]
        return token

    def _stored_upload(self, request, token: str) -> Path:
        stored = _import_dir() / f"{token}.xlsx"
        if token not in request.session.get("import_tokens", []) or not stored.exists():
            raise InvalidInput(gettext("预览已失效，请重新上传文件"), fields={"file": gettext("请重新上传")})
        return stored


@admin.register(Project)
class ProjectAdmin(ScopedAdmin):
    list_display = ["name", "enterprise", "total_investment", "stage", "level", "concierge", "signed_on"]
    list_filter = [MineFilter, "stage", "level", HasConciergeFilter]
    list_select_related = ["enterprise", "concierge"]
    search_fields = ["name", "enterprise__name"]
    show_full_result_count = False

    def visible(self, user):
        return projects_visible_to(user)


class VisitForm(forms.Form):
    enterprise = forms.ModelChoiceField(label=_("走访企业"), queryset=Enterprise.objects.none())
    project = forms.ModelChoiceField(label=_("投资项目"), queryset=Project.objects.none(), required=False)
    visited_on = DateField(label=_("走访日期"))
    people_met = forms.CharField(label=_("接待人员"), required=False)
    notes = forms.CharField(label=_("走访记录"), widget=forms.Textarea(attrs={"rows": 5, "cols": 80}), required=False)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enterprise"].queryset, self.fields["project"].queryset = visit_choices(actor)


class ProblemForm(forms.Form):
    category = forms.ModelChoiceField(
        label=_("类别"), queryset=Category.objects.filter(is_active=True).order_by("sort_order"), required=False
    )
    title = forms.CharField(label=_("问题"), max_length=200, required=False)
    description = forms.CharField(label=_("描述"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=Case.Urgency.choices, initial=Case.Urgency.NORMAL)


# Problems one visit records at most (Django's own bound, 2 000 rows, is seconds of work for one request).
MAX_PROBLEMS = 50
ProblemFormSet = forms.formset_factory(
    ProblemForm, extra=3, max_num=MAX_PROBLEMS, absolute_max=MAX_PROBLEMS, validate_max=True
)


@admin.register(Visit)
class VisitAdmin(ScopedAdmin):
    list_display = ["enterprise", "project", "visited_on", "concierge", "people_met", "case_count"]
    list_filter = [VisitMineFilter]
    list_select_related = ["enterprise", "project", "concierge"]
    search_fields = ["enterprise__name"]
    date_hierarchy = "visited_on"
    show_full_result_count = False

    def visible(self, user):
        return visits_visible_to(user).annotate(case_total=Count("cases"))

    def get_ordering(self, request):
        return ["-visited_on", "-id"]

    @admin.display(description=_("提交诉求数"))
    def case_count(self, visit):
        return visit.case_total

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm("tracker.add_visit")

    def add_view(self, request, form_url="", extra_context=None):
        """Record a visit and submit the problems found as cases on the enterprise's behalf."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        data = request.POST if request.method == "POST" else None
        initial = {"visited_on": timezone.localdate(), "enterprise": request.GET.get("enterprise")}
        form = VisitForm(data, actor=request.user, initial=initial)
        problems = ProblemFormSet(data, prefix="problems")
        if data is not None and form.is_valid() & problems.is_valid():
            filled = [f for f in problems.forms if f.has_changed()]
            specs = [
                ProblemSpec(
                    category=f.cleaned_data["category"],
                    title=f.cleaned_data["title"],
                    description=f.cleaned_data["description"],
                    urgency=f.cleaned_data["urgency"],
                )
                for f in filled
            ]
            try:
                visit, cases = record_visit(actor=request.user, problems=specs, **form.cleaned_data)
            except ServiceError as error:

                def place(field: str, field_errors: list[str]) -> bool:
                    if field not in form.fields:
                        return place_row_error(filled, "problems", field, field_errors)
                    for message in field_errors:
                        form.add_error(field, message)
                    return True

                show_refusal(request, error, place)
            else:
                numbers = "、".join(case.number for case in cases)
                note = gettext("已登记走访") + (
                    gettext("，提交诉求 %(numbers)s") % {"numbers": numbers} if cases else ""
                )
                messages.success(request, note)
                return HttpResponseRedirect(reverse("admin:tracker_visit_change", args=[visit.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "form": form,
            "problems": problems,
            "title": _("登记走访"),
        }
        return TemplateResponse(request, "admin/tracker/visit/record.html", context)
