"""The audit trail for organisation admins, the access log and the export for patients."""

from __future__ import annotations

from typing import Any

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.apis import current_user
from backend.accounts.models import Role
from backend.audit import selectors
from backend.audit.models import AccessEvent, Action, Resource
from backend.audit.serializers import (
    AccessLogEntryOutput,
    AuditEventOutput,
    PatientExportOutput,
)
from backend.audit.services import record_access
from backend.core.errors import require_role
from backend.core.filters import IdFilter, UtcDateTimeFilter
from backend.core.pagination import NewestFirstCursorPagination
from backend.core.serializers import ErrorSerializer


class AuditEventFilter(filters.FilterSet):
    actor = IdFilter(field_name="actor_id")
    patient = IdFilter(field_name="patient_id")
    action = filters.ChoiceFilter(choices=Action.choices)
    resource_type = filters.ChoiceFilter(choices=Resource.choices)
    occurred_after = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = AccessEvent
        fields = [
            "actor",
            "patient",
            "action",
            "resource_type",
            "occurred_after",
            "occurred_before",
        ]


@extend_schema(tags=["audit"], responses={200: AuditEventOutput(many=True), 403: ErrorSerializer})
class AuditEventListApi(generics.ListAPIView):
    """Who read or changed which record in my organisation, newest first (organisation
    admins). The trail is append-only: there is no way to change or delete an event.

    Paged by cursor: follow `next` (and `previous`); there is no `count` and no page number,
    so a page costs the same however long the trail is."""

    serializer_class = AuditEventOutput
    filterset_class = AuditEventFilter
    pagination_class = NewestFirstCursorPagination

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return AccessEvent.objects.none()
        return selectors.audit_events_of_organisation(current_user(self.request))

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        require_role(
            current_user(request), {Role.ORG_ADMIN}, "Only organisation admins may read the audit."
        )
        return super().list(request, *args, **kwargs)


class AccessLogFilter(filters.FilterSet):
    patient = IdFilter(field_name="patient_id", label="For caregivers: one of your patients")

    class Meta:
        model = AccessEvent
        fields = ["patient"]


@extend_schema(tags=["me"], responses={200: AccessLogEntryOutput(many=True), 403: ErrorSerializer})
class AccessLogApi(generics.ListAPIView):
    """Who else read or changed my record (a caregiver: the record of each patient they act
    for), when and what, newest first."""

    serializer_class = AccessLogEntryOutput
    filterset_class = AccessLogFilter

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return AccessEvent.objects.none()
        return selectors.access_log_of(current_user(self.request))

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        require_role(
            current_user(request),
            {Role.PATIENT, Role.CAREGIVER},
            "Only patients and their caregivers have an access log.",
        )
        return super().list(request, *args, **kwargs)


@extend_schema(tags=["me"], responses={200: PatientExportOutput, 403: ErrorSerializer})
class ExportApi(APIView):
    def get(self, request: Request) -> Response:
        """All my data as one JSON document (my right of access): profile, care team,
        programmes with every version, session logs with their edits, assessments, alerts,
        notifications, devices, consent and who accessed my record. Patients only: a parent
        asks the clinic, which checks parental responsibility before releasing a child's
        record."""
        require_role(
            current_user(request), {Role.PATIENT}, "Only a patient can export their own record."
        )
        export = selectors.patient_export(current_user(request))
        record_access(request, Action.EXPORT, Resource.PATIENT, [export.profile])
        response = Response(PatientExportOutput(export).data)
        response["Content-Disposition"] = 'attachment; filename="physiotrack-export.json"'
        response["Cache-Control"] = "no-store"
        return response
