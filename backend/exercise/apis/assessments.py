from __future__ import annotations

from typing import Any

from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.apis import PatientListCreateApi, current_user
from backend.accounts.selectors import patient_get
from backend.alerts.selectors import rule_settings_changed_of, weekly_adherence_of
from backend.audit.mixins import RecordsPageReads
from backend.audit.models import Action, Resource
from backend.audit.services import record_access
from backend.core.filters import IdFilter, UtcDateTimeFilter
from backend.core.idempotency import idempotent
from backend.core.serializers import ErrorSerializer
from backend.core.throttles import WriteThrottle
from backend.exercise import selectors
from backend.exercise.apis.common import patient_for_write
from backend.exercise.measures import Measure, Setting
from backend.exercise.models import Assessment
from backend.exercise.serializers import (
    AssessmentInput,
    AssessmentOutput,
    PatientOverviewOutput,
    PatientSummaryOutput,
    SeriesOutput,
)
from backend.exercise.services.assessments import assessment_record


class AssessmentFilter(filters.FilterSet):
    patient = IdFilter(field_name="patient_id")
    measure = filters.ChoiceFilter(choices=Measure.choices)
    setting = filters.ChoiceFilter(choices=Setting.choices)
    measured_after = UtcDateTimeFilter(field_name="measured_at", lookup_expr="gte")
    measured_before = UtcDateTimeFilter(field_name="measured_at", lookup_expr="lt")

    class Meta:
        model = Assessment
        fields = ["patient", "measure", "setting", "measured_after", "measured_before"]


@extend_schema(tags=["assessments"])
class AssessmentListCreateApi(RecordsPageReads, generics.ListAPIView):
    audit_resource = Resource.ASSESSMENT
    serializer_class = AssessmentOutput
    filterset_class = AssessmentFilter
    throttle_classes = [WriteThrottle]  # POST only: reads are not counted

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Assessment.objects.none()
        return selectors.assessments_visible_to(current_user(self.request)).select_related(
            "measured_by"
        )

    @extend_schema(request=AssessmentInput, responses={201: AssessmentOutput, 403: ErrorSerializer})
    @idempotent
    def post(self, request: Request) -> Response:
        """Record a measure. Patients and caregivers record home measures (STS30, TUG, PAIN,
        FATIGUE, PTGLOBAL, CHAQ); clinic measures are the care team's."""
        viewer = current_user(request)
        data = AssessmentInput(data=request.data)
        data.is_valid(raise_exception=True)
        patient = patient_for_write(viewer, data.validated_data.get("patient"))
        assessment = assessment_record(by=viewer, patient=patient, data=data.validated_data)
        record_access(request, Action.CREATE, Resource.ASSESSMENT, [assessment])
        return Response(AssessmentOutput(assessment).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["assessments"], responses={200: SeriesOutput(many=True)})
class AssessmentTrendApi(APIView):
    def get(self, request: Request, patient_id: int) -> Response:
        """Each measure's series (per setting) with its baseline, for charts."""
        patient = patient_get(viewer=current_user(request), patient_id=patient_id)
        record_access(request, Action.READ, Resource.ASSESSMENT_TREND, [patient])
        return Response(SeriesOutput(selectors.assessment_trend(patient), many=True).data)


@extend_schema(tags=["patients"])
class PatientOverviewApi(PatientListCreateApi):
    """The accounts list, with each patient's programme and this week's activity added."""

    @extend_schema(responses={200: PatientOverviewOutput(many=True)})
    def get(self, request: Request) -> Response:
        """My patients with their programme, sessions this week against target, last session
        and last pain score (a fixed number of queries whatever the page holds)."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        assert page is not None  # noqa: S101  # the API always paginates lists
        record_access(request, Action.READ, Resource.PATIENT, page)
        activity = selectors.patient_activity(
            page, now=timezone.now(), with_alerts=current_user(request).is_clinician
        )
        rows = PatientOverviewOutput(page, many=True, context={"activity": activity}).data
        return self.get_paginated_response(rows)


@extend_schema(tags=["patients"], responses={200: PatientSummaryOutput})
class PatientSummaryApi(APIView):
    def get(self, request: Request, patient_id: int) -> Response:
        """Weekly sessions for the last 12 local weeks, pain and effort trend, assessments."""
        viewer = current_user(request)
        patient = patient_get(viewer=viewer, patient_id=patient_id)
        record_access(request, Action.READ, Resource.PATIENT_SUMMARY, [patient])
        now = timezone.now()
        activity = selectors.patient_activity([patient], now=now)[patient.pk]
        body = {
            "patient": patient.pk,
            "timezone": patient.timezone,
            "programme": activity.active_programme,
            "weeks": selectors.weekly_counts(patient, now=now),
            "adherence": weekly_adherence_of(patient),
            "sessions": selectors.session_trend(patient, now=now),
            "assessments": selectors.assessment_trend(patient),
            "rule_overrides": (
                rule_settings_changed_of(patient=patient) if viewer.is_clinician else None
            ),
        }
        return Response(PatientSummaryOutput(body).data)
