from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.apis import current_user
from backend.alerts import selectors, services
from backend.alerts.models import Notification
from backend.alerts.serializers import NotificationOutput


class NotificationFilter(filters.FilterSet):
    unread = filters.BooleanFilter(field_name="read_at", lookup_expr="isnull", label="Unread only")

    class Meta:
        model = Notification
        fields = ["unread", "kind"]


@extend_schema(tags=["notifications"])
class NotificationListApi(generics.ListAPIView):
    """My in-app inbox, newest first."""

    serializer_class = NotificationOutput
    filterset_class = NotificationFilter

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return selectors.notifications_of(current_user(self.request))


@extend_schema(tags=["notifications"], request=None, responses={200: NotificationOutput})
class NotificationReadApi(APIView):
    def post(self, request: Request, notification_id: int) -> Response:
        """Mark one notification read (safe to repeat)."""
        notification = get_object_or_404(
            selectors.notifications_of(current_user(request)), pk=notification_id
        )
        return Response(
            NotificationOutput(services.notification_mark_read(notification=notification)).data
        )
