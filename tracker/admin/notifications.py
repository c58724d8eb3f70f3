"""Notices in the workbench: each person's inbox and how they want to be reached, and for administrators the
reminder log and the push log (with a resend for failed pushes)."""

from django import forms
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from services.delivery import notifications as notification_services
from services.delivery import pushes as push_services
from services.errors import ServiceError
from services.selectors import notifications_visible_to
from tracker.admin.base import ReadOnlyAdmin
from tracker.admin.integrations import AdministratorsOnly
from tracker.models import PushDelivery, Reminder


class ChannelsForm(forms.Form):
    notify_by_email = forms.BooleanField(label=_("邮件提醒"), required=False)
    notify_by_wecom = forms.BooleanField(
        label=_("企业微信提醒"),
        required=False,
        help_text=_("在本部门工作群里由群机器人提醒并 @ 您（需部门配置群机器人）"),
    )


def inbox_view(request, site):
    """The person's notices, newest first; POST marks them read or saves the channels."""
    user = request.user
    form = ChannelsForm(initial={"notify_by_email": user.notify_by_email, "notify_by_wecom": user.notify_by_wecom})
    if request.method == "POST":
        if "read_all" in request.POST:
            count = notification_services.mark_read(actor=user)
            messages.success(request, gettext("已将 %(count)d 条消息标为已读") % {"count": count})
            return redirect("admin:inbox")
        form = ChannelsForm(request.POST)
        if form.is_valid():
            notification_services.set_channels(
                actor=user, email=form.cleaned_data["notify_by_email"], wecom=form.cleaned_data["notify_by_wecom"]
            )
            messages.success(request, gettext("提醒方式已保存"))
            return redirect("admin:inbox")
    inbox = notifications_visible_to(user).select_related("task")
    page = Paginator(inbox, 50).get_page(request.GET.get("page"))
    return TemplateResponse(
        request,
        "admin/tracker/inbox.html",
        {
            **site.each_context(request),
            "title": _("我的消息"),
            "page": page,
            "form": form,
            "has_wecom": bool(user.department_id and user.department.wecom_webhook_url),
        },
    )


def open_notice_view(request, pk):
    """Mark one notice read and go to what it is about."""
    try:
        notification_services.mark_read(actor=request.user, notification=pk)
    except ServiceError:
        return redirect("admin:inbox")
    notice = notifications_visible_to(request.user).get(pk=pk)
    if notice.task_id:
        return redirect("admin:tracker_task_change", notice.task_id)
    if notice.case_id:
        return redirect("admin:tracker_case_change", notice.case_id)
    return redirect("admin:inbox")


@admin.register(Reminder)
class ReminderAdmin(AdministratorsOnly, ReadOnlyAdmin):
    """The reminder log: what was reminded, about what, for which deadline (one row each, ever)."""

    list_display = ["created_at", "kind", "case", "task", "deadline"]
    list_filter = ["kind", "deadline"]
    list_select_related = ["case", "task"]
    search_fields = ["=case__number", "item_key"]
    date_hierarchy = "created_at"


@admin.register(PushDelivery)
class PushDeliveryAdmin(AdministratorsOnly, ReadOnlyAdmin):
    list_display = ["created_at", "channel", "recipient", "subject", "status", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["status", "channel"]
    list_select_related = ["recipient"]
    search_fields = ["recipient__username", "recipient__full_name", "address", "subject"]
    readonly_fields = [f.name for f in PushDelivery._meta.fields]
    actions = ["resend"]

    @admin.action(description=_("重新发送失败的推送"))
    def resend(self, request, queryset):
        count = 0
        for push in queryset.filter(status=PushDelivery.Status.FAILED):
            try:
                push_services.resend(actor=request.user, push=push)
                count += 1
            except ServiceError as error:
                messages.error(request, error.message)
        messages.success(request, gettext("已重新排队 %(count)d 条推送") % {"count": count})
