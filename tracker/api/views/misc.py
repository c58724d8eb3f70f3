"""The dashboard figures, and webhook subscriptions with their delivery log."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers as drf_serializers
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from services import selectors
from services.delivery import webhooks
from services.reports import stats
from tracker.api import serializers
from tracker.api.views.base import IDEMPOTENCY_KEY, WriteMixin, validated


class StatsView(APIView):
    @extend_schema(
        responses={200: OpenApiTypes.OBJECT},
        summary="The dashboard figures over what the caller may see (services.reports.stats.dashboard)",
    )
    def get(self, request):
        return Response(stats.dashboard(user=request.user, today=timezone.localdate()))


class WebhookDeliverySerializer(drf_serializers.Serializer):
    delivery_id = drf_serializers.UUIDField()
    event_type = drf_serializers.CharField()
    status = drf_serializers.CharField()
    attempts = drf_serializers.IntegerField()
    next_attempt_at = drf_serializers.DateTimeField(allow_null=True)
    delivered_at = drf_serializers.DateTimeField(allow_null=True)
    created_at = drf_serializers.DateTimeField()
    payload = drf_serializers.JSONField()


class SubscriptionInput(drf_serializers.Serializer):
    name = drf_serializers.CharField(max_length=100)
    url = drf_serializers.CharField(max_length=500)
    event_types = drf_serializers.ListField(
        child=drf_serializers.ChoiceField(choices=list(webhooks.EVENT_TYPES)), allow_empty=False
    )
    is_active = drf_serializers.BooleanField(required=False, default=True)


class SubscriptionChangeInput(drf_serializers.Serializer):
    name = drf_serializers.CharField(max_length=100, required=False)
    url = drf_serializers.CharField(max_length=500, required=False)
    event_types = drf_serializers.ListField(
        child=drf_serializers.ChoiceField(choices=list(webhooks.EVENT_TYPES)), allow_empty=False, required=False
    )
    is_active = drf_serializers.BooleanField(required=False)
    rotate_secret = drf_serializers.BooleanField(required=False, default=False)


@extend_schema_view(
    list=extend_schema(summary="Webhook subscriptions (administrators: all; an integration account: its own)"),
    retrieve=extend_schema(summary="One subscription, with its signing secret"),
    destroy=extend_schema(summary="Remove a subscription and its delivery log"),
)
class WebhookSubscriptionViewSet(WriteMixin, viewsets.ModelViewSet):
    serializer_class = serializers.WebhookSubscriptionSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filter_backends = []

    def get_queryset(self):
        return selectors.subscriptions_visible_to(self.request.user)

    def _body(self, subscription) -> dict:
        return serializers.WebhookSubscriptionSerializer(subscription, context=self.get_serializer_context()).data

    @extend_schema(
        request=SubscriptionInput,
        responses={201: serializers.WebhookSubscriptionSerializer},
        parameters=[IDEMPOTENCY_KEY],
        summary="Subscribe an address to event types; the answer carries the signing secret",
    )
    def create(self, request, *args, **kwargs):
        data = validated(SubscriptionInput, request)
        return self.respond_to_write(
            request,
            lambda: self._body(webhooks.create_subscription(actor=request.user, **data)),
            status_code=status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=SubscriptionChangeInput,
        responses={200: serializers.WebhookSubscriptionSerializer},
        summary="Change a subscription; `rotate_secret: true` issues a new secret",
    )
    def partial_update(self, request, *args, **kwargs):
        data = validated(SubscriptionChangeInput, request)
        subscription = webhooks.update_subscription(actor=request.user, subscription=kwargs["pk"], **data)
        return Response(self._body(subscription))

    def destroy(self, request, *args, **kwargs):
        webhooks.delete_subscription(actor=request.user, subscription=kwargs["pk"])
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        responses=WebhookDeliverySerializer(many=True), summary="The subscription's deliveries, newest first"
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def deliveries(self, request, pk=None):
        subscription = get_object_or_404(self.get_queryset(), pk=pk)
        page = self.paginate_queryset(subscription.deliveries.order_by("-id"))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)
