from __future__ import annotations

from typing import Any

from django.db import transaction
from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.apis import current_user
from backend.accounts.models import PatientProfile
from backend.alerts import selectors
from backend.alerts.models import Alert, AlertStatus, Notification, Urgency
from backend.alerts.rules import RULES, RULES_IN_ORDER
from backend.alerts.serializers import (
    AlertOutput,
    NotificationOutput,
    ResolveInput,
    RuleOutput,
    RuleSettingsInput,
    RuleSettingsOutput,
)
from backend.alerts.services import alerting, rule_settings
from backend.alerts.services import notifications as services
from backend.audit.mixins import RecordsPageReads
from backend.audit.models import Action, Resource
from backend.audit.services import record_access
from backend.core.filters import IdFilter
from backend.core.idempotency import idempotent
from backend.core.serializers import ErrorSerializer


class NotificationFilter(filters.FilterSet):
    unread = filters.BooleanFilter(field_name="read_at", lookup_expr="isnull", label="Unread only")

    class Meta:
        model = Notification
        fields = ["unread", "kind"]


@extend_schema(tags=["notifications"])
class NotificationListApi(RecordsPageReads, generics.ListAPIView):
    """My in-app inbox, newest first."""

    serializer_class = NotificationOutput
    filterset_class = NotificationFilter
    # A notification about a patient (an alert's reason, a symptom) is a read of their record.
    audit_resource = Resource.NOTIFICATION

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return selectors.notifications_of(current_user(self.request))


@extend_schema(tags=["notifications"], request=None, responses={200: NotificationOutput})
class NotificationReadApi(APIView):
    @idempotent
    def post(self, request: Request, notification_id: int) -> Response:
        """Mark one notification read (safe to repeat)."""
        notification = get_object_or_404(
            selectors.notifications_of(current_user(request)), pk=notification_id
        )
        notification = services.notification_mark_read(notification=notification)
        # The recipient's own inbox item, not a record of the patient it may mention.
        record_access(
            request, Action.UPDATE, Resource.NOTIFICATION, [notification], patient_of=lambda _: None
        )
        return Response(NotificationOutput(notification).data)


class AlertFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=AlertStatus.choices)
    urgency = filters.ChoiceFilter(choices=Urgency.choices)
    patient = IdFilter(field_name="patient_id")
    rule = filters.ChoiceFilter(field_name="rule_id", choices=[(r, r) for r in RULES])

    class Meta:
        model = Alert
        fields = ["status", "urgency", "patient", "rule"]


@extend_schema(tags=["alerts"])
class AlertListApi(RecordsPageReads, generics.ListAPIView):
    """Alerts about my care-team patients, most urgent first, then newest."""

    serializer_class = AlertOutput
    filterset_class = AlertFilter
    audit_resource = Resource.ALERT

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Alert.objects.none()
        return selectors.alerts_visible_to(current_user(self.request)).order_by(
            "urgency_rank", "-created_at", "-id"
        )


@extend_schema(tags=["alerts"], request=None, responses={200: AlertOutput})
class AlertAcknowledgeApi(APIView):
    @idempotent
    def post(self, request: Request, alert_id: int) -> Response:
        """I have seen it and I am on it (safe to repeat: the first acknowledgement stays)."""
        viewer = current_user(request)
        alert = get_object_or_404(selectors.alerts_visible_to(viewer), pk=alert_id)
        alerting.alert_acknowledge(alert=alert, by=viewer)
        record_access(request, Action.ACKNOWLEDGE, Resource.ALERT, [alert])
        return Response(AlertOutput(selectors.alerts_visible_to(viewer).get(pk=alert_id)).data)


@extend_schema(tags=["alerts"], request=ResolveInput, responses={200: AlertOutput})
class AlertResolveApi(APIView):
    @idempotent
    def post(self, request: Request, alert_id: int) -> Response:
        """Close the alert with a note saying what was done."""
        viewer = current_user(request)
        alert = get_object_or_404(selectors.alerts_visible_to(viewer), pk=alert_id)
        data = ResolveInput(data=request.data)
        data.is_valid(raise_exception=True)
        alerting.alert_resolve(alert=alert, by=viewer, note=data.validated_data["note"])
        record_access(request, Action.RESOLVE, Resource.ALERT, [alert])
        return Response(AlertOutput(selectors.alerts_visible_to(viewer).get(pk=alert_id)).data)


@extend_schema(tags=["rules"], responses={200: RuleOutput(many=True)})
class RuleCatalogueApi(APIView):
    def get(self, request: Request) -> Response:
        """Every rule of the catalogue: id, version, basis, urgency, audience, parameters."""
        return Response(RuleOutput(RULES_IN_ORDER, many=True).data)


@extend_schema(tags=["rules"])
class PatientRuleSettingsApi(APIView):
    @extend_schema(responses={200: RuleSettingsOutput, 403: ErrorSerializer})
    def get(self, request: Request, patient_id: int) -> Response:
        """The patient's settings of every configurable rule: in force, defaults, overridden."""
        patient = selectors.patient_for_rule_settings(
            viewer=current_user(request), patient_id=patient_id
        )
        record_access(request, Action.READ, Resource.RULE_SETTINGS, [patient])
        return Response(_settings_body(patient))

    @extend_schema(
        request=RuleSettingsInput, responses={200: RuleSettingsOutput, 403: ErrorSerializer}
    )
    @transaction.atomic  # the change and its audit event commit together
    def put(self, request: Request, patient_id: int) -> Response:
        """Set the named rules' settings for the patient (all or nothing; safe to repeat)."""
        viewer = current_user(request)
        patient = selectors.patient_for_rule_settings(viewer=viewer, patient_id=patient_id)
        data = RuleSettingsInput(data=request.data)
        data.is_valid(raise_exception=True)
        changed = rule_settings.rule_settings_update(
            patient=patient, by=viewer, changes=data.validated_data["rules"]
        )
        if changed.changes:
            record_access(
                request,
                Action.UPDATE,
                Resource.RULE_SETTINGS,
                [patient],
                changes=changed.changes,
            )
        return Response(_settings_body(patient))


def _settings_body(patient: PatientProfile) -> Any:
    body = {"patient": patient.pk, "rules": selectors.rule_settings_of(patient=patient)}
    return RuleSettingsOutput(body).data
