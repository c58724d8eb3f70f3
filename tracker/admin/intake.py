"""登记诉求: staff register a case received by phone, from the 12345 hotline or at a walk-in.

The page is the case list's "add" page (`/admin/tracker/case/add/`). It parses what the concierge typed and calls
`services.cases.attachments.submit_case_with_files` — `submit_case` with its files, all or nothing, as the portal does;
the service decides for whom the person may file and checks every field. The enterprise is found by name or
credit code through Django admin's autocomplete, asking EnterpriseAdmin's search for only the enterprises the
person may file for (`services.selectors.enterprises_filed_for_by`); the projects of the chosen enterprise are
offered as it is chosen.
"""

from django import forms
from django.contrib import messages
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from services.cases import attachments as attachment_services
from services.cases.steps import INTAKE_CHANNELS
from services.errors import NotFound, ServiceError
from services.permissions import can_register_cases
from services.selectors import enterprises_filed_for_by, projects_filed_for_by
from tracker.admin.base import TEXTAREA, AutocompleteSelect, ServiceForm, key_or_none
from tracker.models import Case, Category, Enterprise, Project
from tracker.portal.forms import MultipleFileField, files_help

ENTERPRISE = Case._meta.get_field("enterprise")


def enterprise_label(enterprise: Enterprise) -> str:
    return f"{enterprise.name}（{enterprise.uscc}）"


class EnterpriseSearchWidget(AutocompleteSelect):
    """Django admin's autocomplete (select2), asking the intake's own search instead of the site-wide one."""

    def get_url(self):
        return reverse("admin:tracker_case_intake_enterprises")


class EnterpriseChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, enterprise):
        return enterprise_label(enterprise)


class IntakeForm(ServiceForm):
    """What staff note down from a call, a hotline order or a visitor. Only parsing here: the service checks."""

    enterprise = EnterpriseChoiceField(
        label=_("企业"),
        queryset=Enterprise.objects.none(),
        help_text=_("输入企业名称或统一社会信用代码查找；只列出您可以为其登记诉求的企业"),
        error_messages={
            "required": _("请选择企业"),
            "invalid_choice": _("企业不存在或无权为其登记诉求"),
        },
    )
    project = forms.ModelChoiceField(
        label=_("相关投资项目"),
        queryset=Project.objects.none(),
        required=False,
        empty_label=_("（不涉及具体项目）"),
        error_messages={"invalid_choice": _("该项目不属于此企业或无权为其登记")},
    )
    channel = forms.ChoiceField(
        label=_("来源渠道"),
        choices=[(channel.value, channel.label) for channel in INTAKE_CHANNELS],
        initial=Case.Channel.PHONE,
        required=False,
        widget=forms.RadioSelect,
    )
    caller_name = forms.CharField(
        label=_("来电来访人"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=_("来电、来访时必填，便于回访"),
    )
    caller_phone = forms.CharField(
        label=_("联系电话"),
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
        help_text=_("手机号或固定电话，如 13812345678、0512-57771234；来电、来访时必填"),
    )
    category = forms.ModelChoiceField(
        label=_("诉求类别"), queryset=Category.objects.none(), required=False, empty_label=_("请选择类别")
    )
    urgency = forms.ChoiceField(
        label=_("紧急程度"),
        choices=Case.Urgency.choices,
        initial=Case.Urgency.NORMAL,
        required=False,
        widget=forms.RadioSelect,
    )
    title = forms.CharField(
        label=_("标题"),
        required=False,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text=_("一句话说明需要解决的问题，如“新厂房用电增容”"),
    )
    description = forms.CharField(
        label=_("问题描述"),
        required=False,
        widget=TEXTAREA,
        help_text=_("记录企业反映的现状、诉求和希望得到的帮助"),
    )
    files = MultipleFileField(label=_("附件"))

    def __init__(self, *args, actor, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        enterprise_field = self.fields["enterprise"]
        enterprise_field.queryset = enterprises_filed_for_by(actor)
        enterprise_field.widget = EnterpriseSearchWidget(
            Case._meta.get_field("enterprise"), admin_site, attrs={"data-width": "100%"}
        )
        enterprise_field.widget.choices = enterprise_field.choices
        self.fields["category"].queryset = Category.objects.filter(is_active=True).order_by("sort_order", "id")
        self.fields["files"].help_text = files_help()
        # The projects offered are those of the enterprise chosen (the page reloads them when it changes).
        chosen = self.data.get("enterprise") if self.is_bound else self.initial.get("enterprise")
        chosen = key_or_none(ENTERPRISE, chosen)  # a number past any key would fail the query
        if chosen is not None:
            self.fields["project"].queryset = projects_filed_for_by(actor, chosen)


# The page's two parts: who called about which enterprise, and what they asked for.
FIELD_GROUPS = [
    (_("企业与来电人"), ("enterprise", "project", "channel", "caller_name", "caller_phone")),
    (_("诉求内容"), ("category", "urgency", "title", "description", "files")),
]


def intake_view(model_admin, request):
    """The form; on a valid POST the case is registered and its page shown."""
    if not can_register_cases(request.user):
        raise PermissionDenied
    posted = request.method == "POST"
    chosen = request.GET.get("enterprise", "")  # from an enterprise's page: ?enterprise=<id>
    initial = {"enterprise": chosen} if key_or_none(ENTERPRISE, chosen) is not None else {}
    form = IntakeForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        actor=request.user,
        admin_site=model_admin.admin_site,
        initial=initial,
    )
    if posted and form.is_valid():
        data = form.cleaned_data
        try:
            case = attachment_services.submit_case_with_files(
                actor=request.user,
                enterprise=data["enterprise"],
                project=data["project"],
                channel=data["channel"] or None,
                caller_name=data["caller_name"],
                caller_phone=data["caller_phone"],
                category=data["category"],
                urgency=data["urgency"] or None,
                title=data["title"],
                description=data["description"],
                uploads=data["files"],
            )
        except NotFound as error:  # not one the person may file for (with this project)
            form.add_error("project" if data["project"] else "enterprise", error.message)
        except ServiceError as error:  # each error on its field; the rest above the form
            for field, field_errors in error.fields.items():
                if not form.place_service_error(field, field_errors):
                    for message in field_errors:
                        form.add_error(None, message)
            if not error.fields:
                form.add_error(None, error.message)
        else:
            messages.success(
                request,
                gettext("已登记诉求 %(number)s（%(channel)s），企业将在门户中收到通知")
                % {"number": case.number, "channel": case.get_channel_display()},
            )
            return HttpResponseRedirect(reverse("admin:tracker_case_change", args=[case.pk]))
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": _("登记诉求"),
        "form": form,
        "groups": [(heading, [form[name] for name in names]) for heading, names in FIELD_GROUPS],
        "media": model_admin.media + form.media,
        "projects_url": reverse("admin:tracker_case_intake_projects"),
        "files_to_reselect": [f.name for f in request.FILES.getlist("files")] if posted else [],
    }
    return TemplateResponse(request, "admin/tracker/case/intake.html", context)


class EnterpriseSearchView(AutocompleteJsonView):
    """EnterpriseAdmin's search (name, credit code), narrowed to the enterprises the person may file for."""

    def has_perm(self, request, obj=None):
        return can_register_cases(request.user) and super().has_perm(request, obj)

    def get_queryset(self):
        # A credit code is stored in capitals; people type it as it comes.
        term = self.term.strip()
        self.term = term.upper() if len(term) == 18 and term.isalnum() else term
        filed_for = enterprises_filed_for_by(self.request.user).values("pk")
        return super().get_queryset().filter(pk__in=filed_for).order_by("name", "pk")

    def serialize_result(self, obj, to_field_name):
        return {"id": str(obj.pk), "text": enterprise_label(obj)}


def project_options_view(model_admin, request):
    """The projects of `?enterprise=<id>` a case registered by this person may concern, as JSON."""
    if not can_register_cases(request.user):
        raise PermissionDenied
    enterprise = request.GET.get("enterprise", "")
    chosen = key_or_none(ENTERPRISE, enterprise)
    projects = projects_filed_for_by(request.user, chosen) if chosen is not None else Project.objects.none()
    return JsonResponse({"results": [{"id": str(p.pk), "text": p.name} for p in projects[:200]]})


def intake_urls(model_admin) -> list:
    """The intake's helpers, under the case list's URLs (the page itself is the case admin's add view)."""
    site = model_admin.admin_site
    return [
        path(
            "add/enterprises/",
            site.admin_view(EnterpriseSearchView.as_view(admin_site=site)),
            name="tracker_case_intake_enterprises",
        ),
        path(
            "add/projects/",
            site.admin_view(lambda request: project_options_view(model_admin, request)),
            name="tracker_case_intake_projects",
        ),
    ]
