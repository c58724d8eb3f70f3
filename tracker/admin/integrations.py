"""API tokens, webhook subscriptions and the webhook delivery log: administrators only. Every change goes
through `services.api_tokens` and `services.delivery.webhooks`."""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from services import api_tokens
from services.delivery import webhooks
from services.errors import InvalidInput, ServiceError
from services.roles import Role, has_role
from tracker.admin.base import ReadOnlyAdmin, ReadOnlyInline
from tracker.models import ApiToken, User, WebhookAttempt, WebhookDelivery, WebhookSubscription


class AdministratorsOnly:
    """Visible to administrators only; the role groups carry no permission on these models."""

    def has_module_permission(self, request):
        return has_role(request.user, Role.ADMINISTRATOR)

    def has_view_permission(self, request, obj=None):
        return has_role(request.user, Role.ADMINISTRATOR)


def _place(form: forms.Form, error: ServiceError) -> None:
    """A service's refusal on the form: each named field that the form has, else the form as a whole."""
    placed = False
    for field, messages_ in error.fields.items():
        if field in form.fields:
            for message in messages_:
                form.add_error(field, message)
            placed = True
    if not placed:
        form.add_error(None, error.message)


# Tokens ------------------------------------------------------------------------------------------------------


class ApiTokenForm(forms.Form):
    user = forms.ModelChoiceField(
        label=_("所属用户"), queryset=User.objects.filter(is_active=True).order_by("username"), to_field_name="pk"
    )
    name = forms.CharField(label=_("用途"), max_length=100, help_text=_("例如：12345 热线对接"))
    expires_at = forms.SplitDateTimeField(
        label=_("过期时间"), required=False, widget=admin.widgets.AdminSplitDateTime, help_text=_("留空则长期有效")
    )


@admin.register(ApiToken)
class ApiTokenAdmin(AdministratorsOnly, ReadOnlyAdmin):
    list_display = ["name", "user", "prefix_display", "state", "created_at", "expires_at", "last_used_at"]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__username", "user__full_name"]
    raw_id_fields = ["user"]
    fields = ["name", "user", "prefix", "created_by", "created_at", "expires_at", "revoked_at", "last_used_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request, obj=None):
        return has_role(request.user, Role.ADMINISTRATOR)

    @admin.display(description=_("前缀"))
    def prefix_display(self, token):
        return format_html("<code>{}…</code>", token.prefix)

    @admin.display(description=_("状态"))
    def state(self, token):
        return {"active": _("有效"), "revoked": _("已吊销"), "expired": _("已过期")}[api_tokens.token_state(token)]

    def add_view(self, request, form_url="", extra_context=None):
        """Issue a token and show its key once, on this page (it is never stored, so never shown again)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ApiTokenForm(request.POST or None)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "title": _("创建接口令牌")}
        if request.method == "POST" and form.is_valid():
            try:
                token, key = api_tokens.create_token(
                    actor=request.user,
                    user=form.cleaned_data["user"],
                    name=form.cleaned_data["name"],
                    expires_at=form.cleaned_data["expires_at"],
                )
            except ServiceError as error:
                _place(form, error)
            else:
                return TemplateResponse(
                    request, "admin/tracker/apitoken/created.html", {**context, "token": token, "key": key}
                )
        return TemplateResponse(
            request, "admin/tracker/apitoken/add.html", {**context, "form": form, "media": self.media + form.media}
        )

    @admin.action(description=_("吊销所选令牌"))
    def revoke(self, request, queryset):
        for token in queryset:
            api_tokens.revoke_token(actor=request.user, token=token)
        self.message_user(request, gettext("已吊销 %(count)d 个令牌") % {"count": len(queryset)}, messages.SUCCESS)


# Webhook subscriptions -------------------------------------------------------------------------------------


class SubscriptionForm(forms.ModelForm):
    url = forms.URLField(label=_("接收地址"), max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        label=_("订阅事件"), choices=list(webhooks.EVENT_TYPES.items()), widget=forms.CheckboxSelectMultiple
    )
    rotate_secret = forms.BooleanField(label=_("重新生成签名密钥"), required=False)

    class Meta:
        model = WebhookSubscription
        fields = ["name", "url", "event_types", "is_active"]

    def clean(self):
        cleaned = super().clean()
        try:
            webhooks.check_subscription(
                name=cleaned.get("name"), url=cleaned.get("url"), event_types=cleaned.get("event_types")
            )
        except InvalidInput as error:
            _place(self, error)
        return cleaned


class DeliveryLink:
    @admin.display(description=_("投递记录"))
    def deliveries_link(self, subscription):
        url = reverse("admin:tracker_webhookdelivery_changelist") + f"?subscription__id__exact={subscription.pk}"
        return format_html('<a href="{}">{}</a>', url, _("查看"))


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(AdministratorsOnly, DeliveryLink, admin.ModelAdmin):
    form = SubscriptionForm
    list_display = ["name", "url", "event_types_display", "is_active", "owner", "deliveries_link", "updated_at"]
    list_select_related = ["owner"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]
    readonly_fields = ["secret", "owner", "created_at", "updated_at", "deliveries_link"]

    def has_add_permission(self, request):
        return has_role(request.user, Role.ADMINISTRATOR)

    def has_change_permission(self, request, obj=None):
        return has_role(request.user, Role.ADMINISTRATOR)

    def has_delete_permission(self, request, obj=None):
        return has_role(request.user, Role.ADMINISTRATOR)

    def get_fields(self, request, obj=None):
        fields = ["name", "url", "event_types", "is_active"]
        if obj is None:
            return fields
        return [*fields, "rotate_secret", "secret", "owner", "created_at", "updated_at", "deliveries_link"]

    @admin.display(description=_("订阅事件"))
    def event_types_display(self, subscription):
        return ", ".join(subscription.event_types)

    def save_model(self, request, obj, form, change):
        data = {key: form.cleaned_data[key] for key in ("name", "url", "event_types", "is_active")}
        if change:
            saved = webhooks.update_subscription(
                actor=request.user,
                subscription=obj.pk,
                rotate_secret=form.cleaned_data.get("rotate_secret", False),
                **data,
            )
        else:
            saved = webhooks.create_subscription(actor=request.user, **data)
        obj.pk, obj.secret = saved.pk, saved.secret

    def delete_model(self, request, obj):
        webhooks.delete_subscription(actor=request.user, subscription=obj.pk)

    def delete_queryset(self, request, queryset):
        for subscription in queryset:
            webhooks.delete_subscription(actor=request.user, subscription=subscription.pk)


# Deliveries ------------------------------------------------------------------------------------------------


class AttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = ["number", "started_at", "duration_ms", "status_code", "succeeded", "error", "response_excerpt"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(AdministratorsOnly, ReadOnlyAdmin):
    list_display = ["delivery_id", "subscription", "event_type", "status", "attempts", "created_at", "delivered_at"]
    list_select_related = ["subscription"]
    list_filter = ["status", "event_type", "subscription"]
    search_fields = ["=delivery_id", "case__number"]
    fields = [
        "delivery_id",
        "subscription",
        "event_type",
        "case",
        "status",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "created_at",
        "payload_display",
    ]
    readonly_fields = fields
    inlines = [AttemptInline]
    actions = ["resend"]

    @admin.display(description=_("内容"))
    def payload_display(self, delivery):
        return format_html("<pre>{}</pre>", json.dumps(delivery.payload, ensure_ascii=False, indent=2))

    @admin.action(description=_("重新发送所选的已放弃投递"))
    def resend(self, request, queryset):
        count = 0
        for delivery in queryset.filter(status=WebhookDelivery.Status.FAILED):
            try:
                webhooks.resend(actor=request.user, delivery=delivery)
                count += 1
            except ServiceError as error:
                messages.error(request, error.message)
        self.message_user(request, gettext("已重新排队 %(count)d 个投递") % {"count": count}, messages.SUCCESS)
