from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import Http404
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ParseError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.apis import current_user
from backend.audit.mixins import RecordsPageReads
from backend.audit.models import Action, Resource
from backend.audit.services import record_access
from backend.core.errors import DomainError
from backend.core.exceptions import first_message
from backend.core.filters import IdFilter, UtcDateTimeFilter
from backend.core.serializers import ErrorSerializer
from backend.core.throttles import SymptomSafeThrottling, SyncThrottle, WriteThrottle
from backend.exercise import selectors
from backend.exercise.apis.common import patient_for_write
from backend.exercise.models import SessionLog
from backend.exercise.serializers import (
    MAX_SYNC_BATCH,
    SessionCreateInput,
    SessionOutput,
    SessionUpdateInput,
    SessionWriteOutput,
    SyncInput,
    SyncOutput,
)
from backend.exercise.services import sessions
from backend.symptoms.apis import refused_body, safety_fields, symptoms_of_refused_request
from backend.symptoms.serializers import (
    RefusedWithSymptomsOutput,
    ThrottledSyncOutput,
    ThrottledWithSymptomsOutput,
)
from backend.symptoms.services import ReportOutcome


class SessionFilter(filters.FilterSet):
    patient = IdFilter(field_name="patient_id")
    programme = IdFilter(field_name="programme_id")
    started_after = UtcDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = UtcDateTimeFilter(field_name="started_at", lookup_expr="lt")
    updated_since = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gt")

    class Meta:
        model = SessionLog
        fields = ["patient", "programme", "started_after", "started_before", "updated_since"]


@dataclass
class Submitted:
    """One uploaded log's outcome: stored (created or duplicate) or refused with its errors,
    and in either case what its symptoms stored and raised."""

    status: str
    session: SessionLog | None = None
    errors: dict[str, Any] | None = None
    detail: str = ""
    code: str = "invalid"
    http_status: int = 400
    symptoms: ReportOutcome | None = None

    @property
    def created(self) -> bool:
        return self.status == "created"


def _submit(request: Request, payload: Any) -> Submitted:
    """Stores a log; when the log is refused, still stores and alerts its symptoms (shared/
    DOMAIN.md 7) in the caller's transaction, outside the log's own rolled-back savepoint."""
    viewer = current_user(request)
    data = SessionCreateInput(data=payload)
    if data.is_valid():
        try:
            patient = patient_for_write(viewer, data.validated_data.get("patient"))
            # No savepoint of its own: the service refuses a log before writing anything, and
            # writes it in a savepoint of its own (a refused log leaves nothing half-saved).
            recorded = sessions.session_log_record(
                by=viewer, patient=patient, data=data.validated_data
            )
        except DomainError as error:
            refused = Submitted(
                "invalid",
                errors=error.errors or {"non_field_errors": [error.detail]},
                detail=error.detail,
                code=error.code,
                http_status=error.status,
            )
        else:
            state = "created" if recorded.created else "duplicate"
            recorded.session.request_symptoms = recorded.symptoms  # type: ignore[attr-defined]
            return Submitted(state, recorded.session, symptoms=recorded.symptoms)
    else:
        refused = Submitted("invalid", errors=dict(data.errors))
    refused.symptoms = symptoms_of_refused_request(request, payload, within_log=True)
    return refused


def _refused_body(submitted: Submitted) -> dict[str, Any]:
    errors = submitted.errors or {}
    detail = submitted.detail or first_message(errors) or "Invalid input."
    return refused_body(submitted.http_status, submitted.code, detail, errors, submitted.symptoms)


def _refused_correction(request: Request, session: SessionLog, refused: Submitted) -> Response:
    """A correction refused (invalid, not the recorder, edit window closed) still reports the
    symptoms it adds, as a follow-up of the log (DOMAIN.md 7)."""
    refused.symptoms = symptoms_of_refused_request(
        request, request.data, within_log=False, session=session
    )
    return Response(_refused_body(refused), status=refused.http_status)


def _body_of(request: Request) -> Any:
    """The parsed body, or None when it does not parse (a throttled request is still 429)."""
    try:
        return request.data
    except ParseError:
        return None


THROTTLED_WITH_SYMPTOMS = OpenApiResponse(
    ThrottledWithSymptomsOutput,
    "Too many writes by this user: retry after Retry-After seconds with the same body. Any "
    "symptoms it carried are stored and alerted all the same (symptom_report), and the safety "
    "message must be shown; the retry does not report them twice.",
)


def _sync_one(request: Request, index: int, payload: Any) -> dict[str, Any]:
    raw_id = payload.get("client_id") if isinstance(payload, dict) else None
    answer: dict[str, Any] = {
        "index": index,
        "client_id": raw_id if isinstance(raw_id, str) else None,
    }
    if not isinstance(payload, dict):
        errors = {"non_field_errors": ["Each log must be a JSON object."]}
        return {**answer, "status": "invalid", "errors": errors, **safety_fields(None)}
    try:
        submitted = _submit(request, payload)
    except Http404:
        errors = {"patient": ["No such patient."]}
        return {**answer, "status": "invalid", "errors": errors, **safety_fields(None)}
    if submitted.session is None:
        errors = submitted.errors or {}
        return {
            **answer,
            "status": "invalid",
            "errors": errors,
            **safety_fields(submitted.symptoms),
        }
    return {
        **answer,
        "client_id": str(submitted.session.client_id),
        "status": submitted.status,
        "session": submitted.session,
        **safety_fields(submitted.symptoms),
    }


@extend_schema(tags=["sessions"])
class SessionListCreateApi(SymptomSafeThrottling, RecordsPageReads, generics.ListAPIView):
    """Session logs, newest first."""

    serializer_class = SessionOutput
    filterset_class = SessionFilter
    audit_resource = Resource.SESSION
    throttle_classes = [WriteThrottle]

    def symptoms_when_throttled(self, request: Request) -> dict[str, Any]:
        """The log is not stored; its symptoms are, as those of a refused log (a retry of the
        log takes their report over without alerting twice)."""
        with transaction.atomic():
            return safety_fields(
                symptoms_of_refused_request(request, _body_of(request), within_log=True)
            )

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return SessionLog.objects.none()
        # A sync (updated_since) also returns logs deleted since, marked by deleted_at.
        syncing = "updated_since" in self.request.query_params
        return selectors.sessions_visible_to(current_user(self.request), include_deleted=syncing)

    @extend_schema(
        request=SessionCreateInput,
        responses={
            201: SessionWriteOutput,
            200: OpenApiResponse(
                SessionWriteOutput,
                "Already stored: the stored log, unchanged (symptoms it adds are reported).",
            ),
            400: OpenApiResponse(
                RefusedWithSymptomsOutput,
                "The log was refused; any symptoms it carried are stored and alerted all the "
                "same, and the safety message must be shown.",
            ),
            403: ErrorSerializer,
            429: THROTTLED_WITH_SYMPTOMS,
        },
    )
    @transaction.atomic  # the write and its audit event commit together
    def post(self, request: Request) -> Response:
        """Log a session. Retrying with the same `client_id` is safe: the stored log comes back
        with 200 and nothing new is created. A refused log (400) still stores its symptoms."""
        submitted = _submit(request, request.data)
        if submitted.session is None:
            return Response(_refused_body(submitted), status=submitted.http_status)
        # A duplicate's answer is the stored log read back: a read, recorded as such.
        action = Action.CREATE if submitted.created else Action.READ
        record_access(request, action, Resource.SESSION, [submitted.session])
        return Response(
            SessionWriteOutput(submitted.session).data,
            status=status.HTTP_201_CREATED if submitted.created else status.HTTP_200_OK,
        )


@extend_schema(tags=["sessions"])
class SessionSyncApi(SymptomSafeThrottling, APIView):
    throttle_classes = [SyncThrottle]

    def symptoms_when_throttled(self, request: Request) -> dict[str, Any]:
        """No log of the batch is stored; the symptoms of each are, as those of refused logs
        (read leniently, at most a batch's worth); the most urgent safety message comes back."""
        body = _body_of(request)
        logs = body.get("logs") if isinstance(body, dict) else None
        outcomes = []
        with transaction.atomic():
            for payload in (logs if isinstance(logs, list) else [])[:MAX_SYNC_BATCH]:
                outcome = symptoms_of_refused_request(request, payload, within_log=True)
                if outcome is not None and outcome.tier is not None:
                    outcomes.append(outcome)
        urgent = min(outcomes, key=lambda outcome: int(outcome.tier or 9), default=None)
        return {
            "safety_message": urgent.safety_message if urgent is not None else None,
            "symptom_reports": sorted(
                {outcome.report.pk for outcome in outcomes if outcome.report is not None}
            ),
        }

    @extend_schema(
        request=SyncInput,
        responses={
            200: SyncOutput,
            429: OpenApiResponse(
                ThrottledSyncOutput,
                "Too many batches by this user: retry after Retry-After seconds with the same "
                "body. No log was stored, but the symptoms the logs carried were, and alerted "
                "(symptom_reports); the safety message must be shown. The retry does not "
                "report them twice.",
            ),
        },
    )
    @transaction.atomic  # the write and its audit event commit together
    def post(self, request: Request) -> Response:
        """Upload up to 100 logs recorded offline. Each is answered on its own (created,
        duplicate, or invalid with its errors); one bad log never blocks the others."""
        batch = SyncInput(data=request.data)
        batch.is_valid(raise_exception=True)
        results = [
            _sync_one(request, index, payload)
            for index, payload in enumerate(batch.validated_data["logs"])
        ]
        created = [result["session"] for result in results if result["status"] == "created"]
        record_access(request, Action.CREATE, Resource.SESSION, created)
        read_back = [result["session"] for result in results if result["status"] == "duplicate"]
        record_access(request, Action.READ, Resource.SESSION, read_back)
        counts = {
            state: sum(1 for result in results if result["status"] == state)
            for state in ("created", "duplicate", "invalid")
        }
        body = {
            "created": counts["created"],
            "duplicates": counts["duplicate"],
            "invalid": counts["invalid"],
            "results": results,
        }
        return Response(SyncOutput(body).data)


@extend_schema(tags=["sessions"])
class SessionDetailApi(SymptomSafeThrottling, APIView):
    throttle_classes = [WriteThrottle]

    def symptoms_when_throttled(self, request: Request) -> dict[str, Any]:
        """A throttled correction is not applied; the symptoms it adds are stored (as a
        follow-up of the log) all the same. A throttled delete carries none."""
        if request.method != "PATCH":
            return {}
        viewer = current_user(request)
        try:
            session = selectors.session_get(viewer=viewer, session_id=self.kwargs["session_id"])
        except Http404:
            return safety_fields(None)
        with transaction.atomic():
            return safety_fields(
                symptoms_of_refused_request(
                    request, _body_of(request), within_log=False, session=session
                )
            )

    @extend_schema(responses={200: SessionOutput})
    def get(self, request: Request, session_id: int) -> Response:
        session = selectors.session_get(viewer=current_user(request), session_id=session_id)
        record_access(request, Action.READ, Resource.SESSION, [session])
        return Response(SessionOutput(session).data)

    @extend_schema(
        request=SessionUpdateInput,
        responses={
            200: SessionOutput,
            400: RefusedWithSymptomsOutput,
            403: RefusedWithSymptomsOutput,
            409: OpenApiResponse(
                RefusedWithSymptomsOutput,
                "The log can no longer be changed; symptoms added are stored all the same.",
            ),
            429: THROTTLED_WITH_SYMPTOMS,
        },
    )
    @transaction.atomic  # the write and its audit event commit together
    def patch(self, request: Request, session_id: int) -> Response:
        """Correct a log within 24 hours of logging it; the earlier values are kept."""
        viewer = current_user(request)
        session = selectors.session_get(viewer=viewer, session_id=session_id)
        data = SessionUpdateInput(data=request.data, partial=True)
        if not data.is_valid():
            refused = Submitted("invalid", errors=dict(data.errors))
            return _refused_correction(request, session, refused)
        changes = dict(data.validated_data)
        if "results" in changes:
            changes["results"] = [dict(result) for result in changes["results"]]
        try:
            with transaction.atomic():  # a refused correction leaves the log as it was
                sessions.session_log_update(session=session, by=viewer, changes=changes)
        except DomainError as error:
            refused = Submitted(
                "invalid",
                errors=error.errors,
                detail=error.detail,
                code=error.code,
                http_status=error.status,
            )
            return _refused_correction(request, session, refused)
        record_access(request, Action.UPDATE, Resource.SESSION, [session])
        return Response(
            SessionOutput(selectors.session_get(viewer=viewer, session_id=session_id)).data
        )

    @extend_schema(responses={204: None, 403: ErrorSerializer, 409: ErrorSerializer})
    @transaction.atomic  # the write and its audit event commit together
    def delete(self, request: Request, session_id: int) -> Response:
        """Delete a log within 24 hours of logging it."""
        viewer = current_user(request)
        session = selectors.session_get(viewer=viewer, session_id=session_id)
        sessions.session_log_delete(session=session, by=viewer)
        record_access(request, Action.DELETE, Resource.SESSION, [session])
        return Response(status=status.HTTP_204_NO_CONTENT)
