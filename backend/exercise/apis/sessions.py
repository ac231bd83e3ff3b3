from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import Http404
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.apis import current_user
from backend.accounts.models import User
from backend.audit.mixins import RecordsPageReads
from backend.audit.models import Action, Resource
from backend.audit.services import record_access
from backend.core.errors import DomainError
from backend.core.filters import IdFilter, UtcDateTimeFilter
from backend.core.serializers import ErrorSerializer
from backend.exercise import selectors
from backend.exercise.apis.common import patient_for_write
from backend.exercise.models import SessionLog
from backend.exercise.serializers import (
    SessionCreateInput,
    SessionOutput,
    SessionUpdateInput,
    SyncInput,
    SyncOutput,
)
from backend.exercise.services import sessions


class SessionFilter(filters.FilterSet):
    patient = IdFilter(field_name="patient_id")
    programme = IdFilter(field_name="programme_id")
    started_after = UtcDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = UtcDateTimeFilter(field_name="started_at", lookup_expr="lt")
    updated_since = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gt")

    class Meta:
        model = SessionLog
        fields = ["patient", "programme", "started_after", "started_before", "updated_since"]


def _store(viewer: User, data: dict[str, Any]) -> tuple[SessionLog, bool]:
    patient = patient_for_write(viewer, data.get("patient"))
    recorded = sessions.session_log_record(by=viewer, patient=patient, data=data)
    return recorded.session, recorded.created


def _sync_one(viewer: User, index: int, payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        return {
            "index": index,
            "client_id": None,
            "status": "invalid",
            "errors": {"non_field_errors": ["Each log must be a JSON object."]},
        }
    raw_id = payload.get("client_id")
    answer: dict[str, Any] = {
        "index": index,
        "client_id": raw_id if isinstance(raw_id, str) else None,
    }
    data = SessionCreateInput(data=payload)
    if not data.is_valid():
        return {**answer, "status": "invalid", "errors": data.errors}
    try:
        with transaction.atomic():  # one log's failure rolls back only that log
            session, created = _store(viewer, data.validated_data)
    except Http404:
        return {**answer, "status": "invalid", "errors": {"patient": ["No such patient."]}}
    except DomainError as error:
        errors = error.errors or {"non_field_errors": [error.detail]}
        return {**answer, "status": "invalid", "errors": errors}
    status_ = "created" if created else "duplicate"
    return {**answer, "client_id": str(session.client_id), "status": status_, "session": session}


@extend_schema(tags=["sessions"])
class SessionListCreateApi(RecordsPageReads, generics.ListAPIView):
    """Session logs, newest first."""

    serializer_class = SessionOutput
    filterset_class = SessionFilter
    audit_resource = Resource.SESSION

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return SessionLog.objects.none()
        # A sync (updated_since) also returns logs deleted since, marked by deleted_at.
        syncing = "updated_since" in self.request.query_params
        return selectors.sessions_visible_to(current_user(self.request), include_deleted=syncing)

    @extend_schema(
        request=SessionCreateInput,
        responses={
            201: SessionOutput,
            200: OpenApiResponse(SessionOutput, "Already stored: the stored log, unchanged."),
            403: ErrorSerializer,
        },
    )
    @transaction.atomic  # the write and its audit event commit together
    def post(self, request: Request) -> Response:
        """Log a session. Retrying with the same `client_id` is safe: the stored log comes back
        with 200 and nothing new is created."""
        data = SessionCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        session, created = _store(current_user(request), data.validated_data)
        record_access(request, Action.CREATE, Resource.SESSION, [session] if created else [])
        return Response(
            SessionOutput(session).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


@extend_schema(tags=["sessions"])
class SessionSyncApi(APIView):
    @extend_schema(request=SyncInput, responses={200: SyncOutput})
    @transaction.atomic  # the write and its audit event commit together
    def post(self, request: Request) -> Response:
        """Upload up to 100 logs recorded offline. Each is answered on its own (created,
        duplicate, or invalid with its errors); one bad log never blocks the others."""
        viewer = current_user(request)
        batch = SyncInput(data=request.data)
        batch.is_valid(raise_exception=True)
        results = [
            _sync_one(viewer, index, payload)
            for index, payload in enumerate(batch.validated_data["logs"])
        ]
        created = [result["session"] for result in results if result["status"] == "created"]
        record_access(request, Action.CREATE, Resource.SESSION, created)
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
class SessionDetailApi(APIView):
    @extend_schema(responses={200: SessionOutput})
    def get(self, request: Request, session_id: int) -> Response:
        session = selectors.session_get(viewer=current_user(request), session_id=session_id)
        record_access(request, Action.READ, Resource.SESSION, [session])
        return Response(SessionOutput(session).data)

    @extend_schema(
        request=SessionUpdateInput,
        responses={200: SessionOutput, 403: ErrorSerializer, 409: ErrorSerializer},
    )
    @transaction.atomic  # the write and its audit event commit together
    def patch(self, request: Request, session_id: int) -> Response:
        """Correct a log within 24 hours of logging it; the earlier values are kept."""
        viewer = current_user(request)
        session = selectors.session_get(viewer=viewer, session_id=session_id)
        data = SessionUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if "results" in changes:
            changes["results"] = [dict(result) for result in changes["results"]]
        sessions.session_log_update(session=session, by=viewer, changes=changes)
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
