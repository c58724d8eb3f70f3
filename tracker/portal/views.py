"""Portal pages. Each parses the request, calls one service, and renders the result; refusals become form
errors. A case, file or project of another enterprise is a 404, like one that does not exist."""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from services import accounts as account_services
from services.cases import attachments as attachment_services
from services.cases import steps as case_services
from services.cases.progress import annotate_answer_due, next_step, next_steps, open_info_request
from services.cases.timeline import NOTE_IN_SENTENCE, describe_event
from services.delivery import notifications as notification_services
from services.errors import NotFound, ServiceError, TooManyRequests
from services.permissions import case_actions_for
from services.selectors import (
    attachments_visible_to,
    cases_visible_to,
    event_note_for,
    notifications_visible_to,
    timeline_for,
)
from services.states import FINAL_CASE_STATES, OPEN_CASE_STATES
from tracker import logs
from tracker.models import Case, Category, Feedback
from tracker.portal import forms

CS = Case.Status
PAGE_SIZE = 20

# The home page's tabs: which cases each shows.
TABS = {
    "all": (gettext_lazy("全部"), None),
    "awaiting": (gettext_lazy("待我验收"), Q(status=CS.RESOLVED)),
    "open": (gettext_lazy("办理中"), Q(status__in=OPEN_CASE_STATES)),
    "finished": (gettext_lazy("已结束"), Q(status__in=FINAL_CASE_STATES)),
}


def enterprise_required(view):
    """Signed in, as an enterprise user; staff are shown the way to the workbench instead."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("portal:login"))
        if not request.user.enterprise_id:
            return render(request, "portal/not_enterprise.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


def _visible_case(request, number: str) -> Case:
    case = get_object_or_404(cases_visible_to(request.user).select_related("concierge"), number=number)
    logs.bind(case=case.number)
    return case


# ---- signing in -----------------------------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    form_class = forms.LoginForm
    template_name = "portal/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return reverse("portal:home")


def locked_out(request, response=None, credentials=None):
    """django-axes calls this when a username is locked after too many failed logins (AXES_LOCKOUT_CALLABLE)."""
    minutes = round(settings.AXES_COOLOFF_TIME * 60)
    template = "admin/tracker/locked.html" if request.path.startswith("/admin/") else "portal/locked.html"
    return render(
        request,
        template,
        {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "portal/password_change.html"
    success_url = reverse_lazy("portal:home")

    def form_valid(self, form):
        messages.success(self.request, _("密码已修改"))
        return super().form_valid(form)


class PasswordResetView(auth_views.PasswordResetView):
    """The same answer, in the same time, for any address: the mail goes through the outbox after commit
    (services.accounts); past the limit for the address or the client, the form says when to try again."""

    template_name = "portal/password_reset.html"
    success_url = reverse_lazy("portal:password_reset_done")

    def form_valid(self, form):
        try:
            account_services.request_password_reset(
                email=form.cleaned_data["email"], client=logs.client_address(self.request)
            )
        except TooManyRequests as refusal:
            form.add_error(None, refusal.message)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return redirect(self.get_success_url())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "portal/password_reset_confirm.html"
    success_url = reverse_lazy("portal:password_reset_complete")


# ---- cases ----------------------------------------------------------------------------------------------------


@enterprise_required
def home(request):
    """The enterprise's cases, newest first, each with its next step; tabs by what they wait on."""
    tab = request.GET.get("show", "all")
    if tab not in TABS:
        tab = "all"
    cases = cases_visible_to(request.user)
    counts = cases.aggregate(**{key: Count("pk", filter=condition) for key, (_label, condition) in TABS.items()})
    condition = TABS[tab][1]
    listed = annotate_answer_due(cases.filter(condition) if condition else cases).order_by("-submitted_at", "-id")
    page = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    rows = list(zip(page.object_list, next_steps(list(page.object_list), today), strict=True))
    enterprise = request.user.enterprise
    return render(
        request,
        "portal/home.html",
        {
            "enterprise": enterprise,
            "concierge": enterprise.concierge,
            "tabs": [(key, label, counts[key]) for key, (label, _c) in TABS.items()],
            "tab": tab,
            "page": page,
            "rows": rows,
            "awaiting": counts["awaiting"],
            "nav": "home",
        },
    )


@enterprise_required
def submit(request):
    enterprise = request.user.enterprise
    posted = request.method == "POST"  # an empty POST is still a submission, refused with its fields named
    form = forms.CaseSubmitForm(request.POST if posted else None, request.FILES if posted else None, user=request.user)
    status = 200
    if posted:
        if form.is_valid():
            data = form.cleaned_data
            try:
                case = attachment_services.submit_case_with_files(
                    actor=request.user,
                    enterprise=enterprise,
                    category=data["category"],
                    project=data.get("project"),
                    title=data["title"],
                    description=data["description"],
                    urgency=data["urgency"],
                    channel=Case.Channel.PORTAL,
                    uploads=data["files"],
                )
            except ServiceError as error:
                form.place_service_error(error)
            else:
                messages.success(
                    request,
                    _("诉求已提交，编号 %(number)s。服务专员将在 %(date)s 前受理。")
                    % {"number": case.number, "date": case.accept_due_on.strftime("%Y-%m-%d")},
                )
                return redirect("portal:case", number=case.number)
        status = 400
    return render(
        request,
        "portal/submit.html",
        {
            "form": form,
            "categories": Category.objects.filter(is_active=True).order_by("sort_order", "id"),
            "files_to_reselect": [f.name for f in request.FILES.getlist("files")] if status == 400 else [],
            "nav": "submit",
        },
        status=status,
    )


def _note_shown(user, event) -> str:
    """The note under an event's sentence, unless the sentence already says it."""
    return "" if event.kind in NOTE_IN_SENTENCE else event_note_for(user, event)


def _case_page(request, case: Case, *, status: int = 200, **bound):
    """The case page, with any form that was just refused shown bound, its errors in place."""
    today = timezone.localdate()
    events = list(timeline_for(request.user, case))
    actions = set(case_actions_for(request.user, case))
    context = {
        "case": case,
        "step": next_step(case, today),
        "timeline": [(event, describe_event(event), _note_shown(request.user, event)) for event in events],
        "attachments": attachments_visible_to(request.user, case),
        "feedback": case.feedback.order_by("-created_at", "-id").first(),
        "actions": actions,
        "info_request": open_info_request(case, events),
        "concierge": case.concierge,
        "add_info_form": bound.get("add_info_form") or forms.AddInfoForm(),
        "withdraw_form": bound.get("withdraw_form") or forms.WithdrawForm(),
        "confirm_form": bound.get("confirm_form") or forms.ConfirmForm(),
        "reopen_form": bound.get("reopen_form") or forms.ReopenForm(),
        "open_panel": next(iter(bound), None),
        "files_to_reselect": [f.name for f in request.FILES.getlist("files")] if "add_info_form" in bound else [],
        "ratings": Feedback.Rating,
    }
    return render(request, "portal/case.html", context, status=status)


@enterprise_required
def case_detail(request, number):
    """The case page; opening it reads the notices about the case (as opening a message would)."""
    case = _visible_case(request, number)
    notification_services.mark_case_read(actor=request.user, case=case)
    return _case_page(request, case)


def _case_step(form_class, form_name: str, action: str, call, done_message):
    """A POST on a case: parse the form, call the service, then show the case — or the form with its errors.
    When the case no longer allows `action`, its form is not on the page: the errors are shown as messages."""

    @require_POST
    @enterprise_required
    def view(request, number):
        case = _visible_case(request, number)
        form = form_class(request.POST, request.FILES or None)
        if form.is_valid():
            try:
                call(request.user, case, form.cleaned_data)
            except NotFound as error:
                raise Http404(error.message) from None
            except ServiceError as error:
                form.place_service_error(error)
            else:
                messages.success(request, done_message)
                return redirect("portal:case", number=case.number)
        case.refresh_from_db()
        if action not in case_actions_for(request.user, case):
            for message in dict.fromkeys(m for errors in form.errors.values() for m in errors):
                messages.error(request, message)
        return _case_page(request, case, status=400, **{form_name: form})

    return view


add_info = _case_step(
    forms.AddInfoForm,
    "add_info_form",
    "add_info",
    lambda actor, case, data: attachment_services.add_case_information(
        actor=actor, case=case, note=data["note"], uploads=data["files"]
    ),
    gettext_lazy("补充材料已提交，服务专员会看到"),
)
withdraw = _case_step(
    forms.WithdrawForm,
    "withdraw_form",
    "withdraw",
    lambda actor, case, data: case_services.withdraw_case(actor=actor, case=case, reason=data["reason"]),
    gettext_lazy("诉求已撤回"),
)
confirm = _case_step(
    forms.ConfirmForm,
    "confirm_form",
    "confirm",
    lambda actor, case, data: case_services.confirm_case(
        actor=actor, case=case, rating=data["rating"], comment=data["comment"]
    ),
    gettext_lazy("感谢您的评价，诉求已办结"),
)
reopen = _case_step(
    forms.ReopenForm,
    "reopen_form",
    "reopen",
    lambda actor, case, data: case_services.reopen_case(actor=actor, case=case, reason=data["reason"]),
    gettext_lazy("已退回重办，服务专员将继续办理"),
)


@enterprise_required
def download(request, number, pk):
    """A file of a visible case, streamed after the check; never from a public URL."""
    case = _visible_case(request, number)
    attachment = get_object_or_404(attachments_visible_to(request.user, case), pk=pk)  # not those kept to staff
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404(_("文件不存在")) from None
    return FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )


# ---- notifications --------------------------------------------------------------------------------------------


@enterprise_required
def notifications(request):
    inbox = notifications_visible_to(request.user)
    page = Paginator(inbox, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "portal/notifications.html", {"page": page, "nav": "notifications"})


@require_POST
@enterprise_required
def open_notification(request, pk):
    """Mark a notice read and go to its case."""
    try:
        notification_services.mark_read(actor=request.user, notification=pk)
    except NotFound:
        raise Http404 from None
    notice = notifications_visible_to(request.user).get(pk=pk)
    if notice.case_id:
        return redirect("portal:case", number=notice.case.number)
    return redirect("portal:notifications")


@require_POST
@enterprise_required
def read_all(request):
    count = notification_services.mark_read(actor=request.user)
    messages.success(request, _("已将 %(count)d 条消息标为已读") % {"count": count})
    return redirect("portal:notifications")


@enterprise_required
def settings_view(request):
    """How the user is reached besides the notices here: email on or off."""
    user = request.user
    posted = request.method == "POST"  # an empty POST is a choice too: every box unticked
    form = forms.ChannelsForm(request.POST if posted else None, initial={"notify_by_email": user.notify_by_email})
    if posted and form.is_valid():
        notification_services.set_channels(
            actor=user, email=form.cleaned_data["notify_by_email"], wecom=user.notify_by_wecom
        )
        messages.success(request, _("提醒方式已保存"))
        return redirect("portal:settings")
    return render(request, "portal/settings.html", {"form": form, "nav": "settings"})
