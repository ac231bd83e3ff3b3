from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db import transaction
from django.http import Http404
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ParseError
from rest_framework.request import Request
from rest_framework.response import Response

from backend.accounts.apis import current_user
from backend.audit.mixins import RecordsPageReads
from backend.audit.models import Action, Resource
from backend.audit.services import record_access
from backend.core.errors import DomainError, error_body
from backend.core.exceptions import first_message
from backend.core.filters import IdFilter, UtcDateTimeFilter
from backend.core.serializers import ErrorSerializer
from backend.core.throttles import SymptomSafeThrottling, WriteThrottle
from backend.exercise.apis.common import patient_for_write
from backend.exercise.models import SessionLog
from backend.exercise.selectors import session_get
from backend.symptoms.models import ReportSource, SymptomReport
from backend.symptoms.selectors import symptom_reports_visible_to
from backend.symptoms.serializers import (
    RefusedWithSymptomsOutput,
    SymptomReportInput,
    SymptomReportOutput,
    ThrottledWithSymptomsOutput,
    lenient_patient_id,
    reported_in,
)
from backend.symptoms.services import Reported, ReportOutcome, symptom_report_record


class SymptomReportFilter(filters.FilterSet):
    patient = IdFilter(field_name="patient_id")
    reported_after = UtcDateTimeFilter(field_name="reported_at", lookup_expr="gte")
    reported_before = UtcDateTimeFilter(field_name="reported_at", lookup_expr="lt")

    class Meta:
        model = SymptomReport
        fields = ["patient", "reported_after", "reported_before"]


@extend_schema(tags=["symptoms"])
class SymptomReportListCreateApi(SymptomSafeThrottling, RecordsPageReads, generics.ListAPIView):
    """Symptom reports, newest first: the patient's own, a caregiver's child's, the care
    team's patients'."""

    serializer_class = SymptomReportOutput
    filterset_class = SymptomReportFilter
    audit_resource = Resource.SYMPTOM_REPORT
    throttle_classes = [WriteThrottle]

    def symptoms_when_throttled(self, request: Request) -> dict[str, Any]:
        """Too many writes: the report is stored and alerted all the same (DOMAIN.md 7), read
        as leniently as a refused one; a retry with its client_id finds it stored."""
        try:
            payload = request.data
        except ParseError:
            return safety_fields(None)
        with transaction.atomic():
            return safety_fields(symptoms_of_refused_request(request, payload, within_log=False))

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return SymptomReport.objects.none()
        return symptom_reports_visible_to(current_user(self.request))

    @extend_schema(
        request=SymptomReportInput,
        responses={
            201: SymptomReportOutput,
            200: OpenApiResponse(SymptomReportOutput, "Already stored under this client_id."),
            400: OpenApiResponse(
                RefusedWithSymptomsOutput,
                "Something in the body is invalid; the valid symptoms in it are stored and "
                "alerted all the same (symptom_report) and the safety message must be shown.",
            ),
            404: ErrorSerializer,
            429: OpenApiResponse(
                ThrottledWithSymptomsOutput,
                "Too many writes by this user: the report was stored and alerted all the same "
                "(symptom_report) and the safety message must be shown; a retry with the same "
                "client_id after Retry-After seconds returns it (200).",
            ),
        },
    )
    @transaction.atomic  # the report, its alerts and its audit event commit together
    def post(self, request: Request) -> Response:
        """Report symptoms, with or without a session log or a programme (caregivers for their
        child). Retrying with the same `client_id` returns the stored report."""
        viewer = current_user(request)
        data = SymptomReportInput(data=request.data)
        if not data.is_valid():
            return self._refused(request, dict(data.errors))
        values = data.validated_data
        patient = patient_for_write(viewer, values.get("patient"))
        session = None
        if values.get("session") is not None:
            session = session_get(viewer=viewer, session_id=values["session"])
            if session.patient_id != patient.pk:
                raise DomainError(
                    "That session log is another patient's.",
                    errors={"session": ["Not a log of this patient."]},
                )
        outcome = symptom_report_record(
            by=viewer,
            patient=patient,
            reported=Reported(
                codes=values.get("symptoms", []),
                pain_before=values.get("pain_before"),
                pain_after=values.get("pain_after"),
                other=values.get("other", ""),
                note=values.get("note", ""),
            ),
            source=ReportSource.FOLLOW_UP if session is not None else ReportSource.STANDALONE,
            session=session,
            client_id=values["client_id"],
            reported_at=values.get("reported_at"),
        )
        assert outcome.report is not None  # noqa: S101  # validated: a symptom or 'other'
        if outcome.created:
            record_access(request, Action.CREATE, Resource.SYMPTOM_REPORT, [outcome.report])
        return Response(
            SymptomReportOutput(outcome.report).data,
            status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK,
        )

    def _refused(self, request: Request, errors: dict[str, Any]) -> Response:
        """A 400 that still stores the valid symptoms of the body (DOMAIN.md 7)."""
        outcome = symptoms_of_refused_request(request, request.data, within_log=False)
        detail = first_message(errors) or "Invalid input."
        return Response(refused_body(400, "invalid", detail, errors, outcome), status=400)


def symptoms_of_refused_request(
    request: Request, payload: Any, *, within_log: bool, session: SessionLog | None = None
) -> ReportOutcome | None:
    """Stores and alerts the valid symptoms of a body that is otherwise refused, and records
    the write. `within_log`: the body is a session log, so its client_id is the log's (and its
    end time the report's time); else a standalone report's own. None when it reports nothing
    or names no patient the caller may write for."""
    viewer = current_user(request)
    reported, client_id, reported_at = reported_in(payload)
    if not (reported.codes or reported.other.strip() or (within_log and reported.anything)):
        return None
    if session is not None:
        patient = session.patient
    else:
        try:
            patient = patient_for_write(viewer, lenient_patient_id(payload))
        except (Http404, DomainError):
            return None
    log_client_id: UUID | None = None
    if session is not None:  # a refused correction of a stored log
        source, log_client_id, client_id = ReportSource.FOLLOW_UP, session.client_id, None
    elif within_log:  # the body's client_id is the refused log's
        source, log_client_id, client_id = ReportSource.REFUSED_LOG, client_id, None
    else:
        source = ReportSource.STANDALONE
    outcome = symptom_report_record(
        by=viewer,
        patient=patient,
        reported=reported,
        source=source,
        session=session,
        log_client_id=log_client_id,
        client_id=client_id,
        reported_at=None if session is not None else reported_at,
    )
    if outcome.created and outcome.report is not None:
        record_access(request, Action.CREATE, Resource.SYMPTOM_REPORT, [outcome.report])
    return outcome


def refused_body(
    status_code: int, code: str, detail: str, errors: dict[str, Any], symptoms: ReportOutcome | None
) -> dict[str, Any]:
    """The API's error shape plus what the refused request's symptoms stored: the safety
    message the app must show, and the report."""
    return {**error_body(status_code, code, detail, errors), **safety_fields(symptoms)}


def safety_fields(symptoms: ReportOutcome | None) -> dict[str, Any]:
    report = symptoms.report if symptoms is not None else None
    return {
        "safety_message": symptoms.safety_message if symptoms is not None else None,
        "symptom_report": report.pk if report is not None else None,
    }
