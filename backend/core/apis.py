from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.core import health

COMPONENT_STATES = ["ok", "down"]

HealthOutput = inline_serializer(
    "HealthOutput",
    fields={
        "status": serializers.ChoiceField(choices=["ok", "degraded"]),
        "database": serializers.ChoiceField(choices=COMPONENT_STATES),
        "broker": serializers.ChoiceField(choices=COMPONENT_STATES),
    },
)


class HealthApi(APIView):
    """200 when the database and the broker answer; 503 naming what is down."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(tags=["health"], responses={200: HealthOutput, 503: HealthOutput})
    def get(self, request: Request) -> Response:
        checks = {"database": health.database_ok(), "broker": health.broker_ok()}
        body = {name: "ok" if up else "down" for name, up in checks.items()}
        healthy = all(checks.values())
        body["status"] = "ok" if healthy else "degraded"
        return Response(body, status=200 if healthy else 503)
