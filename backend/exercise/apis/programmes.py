from __future__ import annotations

import hashlib
from typing import Any

from django.core.cache import caches
from django.utils.http import parse_etags
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.apis import current_user
from backend.audit.mixins import RecordsPageReads
from backend.audit.models import Action, Resource
from backend.audit.services import record_access
from backend.core.filters import IdFilter, UtcDateTimeFilter
from backend.core.idempotency import idempotent
from backend.core.serializers import ErrorSerializer
from backend.exercise import selectors
from backend.exercise.apis.common import patient_for_write
from backend.exercise.models import Programme, ProgrammeStatus, ProgressionProposal, ProposalStatus
from backend.exercise.serializers import (
    CurrentProgrammeQuery,
    NoteInput,
    PauseInput,
    PrescribedOutput,
    ProgrammeCreateInput,
    ProgrammeOutput,
    ProgrammeReviseInput,
    ProgrammeVersionOutput,
    ProposalOutput,
)
from backend.exercise.services import programmes, progression

FORBIDDEN_OR_CONFLICT = {403: ErrorSerializer, 409: ErrorSerializer}


class ProgrammeFilter(filters.FilterSet):
    patient = IdFilter(field_name="patient_id")
    status = filters.ChoiceFilter(choices=ProgrammeStatus.choices)
    updated_since = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gt")

    class Meta:
        model = Programme
        fields = ["patient", "status", "updated_since"]


def _content(validated: dict[str, Any]) -> dict[str, Any]:
    content = {k: v for k, v in validated.items() if k not in {"patient", "activate", "reason"}}
    content["items"] = [dict(item) for item in content["items"]]
    return content


@extend_schema(tags=["programmes"])
class ProgrammeListCreateApi(RecordsPageReads, generics.ListAPIView):
    """Programmes I may see; `updated_since` returns only what changed (for app sync)."""

    serializer_class = ProgrammeOutput
    filterset_class = ProgrammeFilter
    audit_resource = Resource.PROGRAMME

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Programme.objects.none()
        return selectors.programmes_visible_to(current_user(self.request))

    @extend_schema(
        request=ProgrammeCreateInput, responses={201: PrescribedOutput, **FORBIDDEN_OR_CONFLICT}
    )
    @idempotent
    def post(self, request: Request) -> Response:
        """Prescribe a programme (physiotherapists on the patient's care team)."""
        viewer = current_user(request)
        data = ProgrammeCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        patient = patient_for_write(viewer, data.validated_data["patient"])
        prescribed = programmes.programme_create(
            by=viewer,
            patient=patient,
            content=_content(data.validated_data),
            activate=data.validated_data["activate"],
        )
        record_access(request, Action.CREATE, Resource.PROGRAMME, [prescribed.programme])
        programme = selectors.programme_get(viewer=viewer, programme_id=prescribed.programme.pk)
        body = {"programme": programme, "warnings": prescribed.warnings}
        return Response(PrescribedOutput(body).data, status=status.HTTP_201_CREATED)


# Bump when ProgrammeOutput's shape changes, so phones holding an old ETag refetch.
RESPONSE_SHAPE = "2"


def _etag(programme: Programme) -> str:
    """From what the response is made of, without reading or rendering it: the programme row
    (its updated_at moves on every revision and status change), the version in force (whose
    items never change) and the newest edit to one of its exercises."""
    changed = getattr(programme, "exercises_changed_at", None)
    parts = [
        RESPONSE_SHAPE,
        str(programme.pk),
        programme.updated_at.isoformat(),
        str(programme.current_version_id),
        changed.isoformat() if changed else "",
    ]
    return f'"{hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]}"'


def _programme_document(programme: Programme, etag: str) -> dict[str, Any]:
    """The response body, rendered once per ETag and process: phones poll for the programme
    far more often than it changes. Keyed by the ETag, so a change is a new key, never a
    stale body; read after the access check, so it is only ever served to those allowed."""
    rendered = caches["rendered"]
    document: dict[str, Any] | None = rendered.get(etag)
    if document is None:
        selectors.programme_items_load(programme)
        document = ProgrammeOutput(programme).data
        rendered.set(etag, document)
    return document


@extend_schema(tags=["programmes"])
class ProgrammeCurrentApi(APIView):
    @extend_schema(
        parameters=[CurrentProgrammeQuery],
        responses={200: ProgrammeOutput, 304: OpenApiResponse(description="Not modified.")},
    )
    def get(self, request: Request) -> Response:
        """The programme in force, with every exercise the app needs to show it. Send the
        last `ETag` as `If-None-Match` to get 304 when nothing changed."""
        query = CurrentProgrammeQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        patient_id = query.validated_data.get("patient")
        programme = selectors.programme_current(viewer=current_user(request), patient_id=patient_id)
        record_access(request, Action.READ, Resource.PROGRAMME, [programme])
        etag = _etag(programme)
        if etag in parse_etags(request.headers.get("If-None-Match", "")):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        response = Response(_programme_document(programme, etag), headers={"ETag": etag})
        response["Cache-Control"] = "private, no-cache"
        return response


@extend_schema(tags=["programmes"])
class ProgrammeDetailApi(APIView):
    @extend_schema(responses={200: ProgrammeOutput})
    def get(self, request: Request, programme_id: int) -> Response:
        programme = selectors.programme_get(viewer=current_user(request), programme_id=programme_id)
        record_access(request, Action.READ, Resource.PROGRAMME, [programme])
        return Response(ProgrammeOutput(programme).data)


@extend_schema(tags=["programmes"])
class ProgrammeVersionsApi(generics.GenericAPIView):
    serializer_class = ProgrammeVersionOutput

    def get_queryset(self) -> Any:  # pragma: no cover  # schema only
        return Programme.objects.none()

    @extend_schema(responses={200: ProgrammeVersionOutput(many=True)})
    def get(self, request: Request, programme_id: int) -> Response:
        """Every version, oldest first; earlier versions stay readable."""
        programme = selectors.programme_get(
            viewer=current_user(request), programme_id=programme_id, with_items=False
        )
        page = self.paginate_queryset(selectors.versions_of(programme))
        record_access(
            request,
            Action.READ,
            Resource.PROGRAMME_VERSION,
            page or [],
            patient_of=lambda _: programme.patient_id,
        )
        return self.get_paginated_response(ProgrammeVersionOutput(page, many=True).data)

    @extend_schema(
        request=ProgrammeReviseInput, responses={201: PrescribedOutput, **FORBIDDEN_OR_CONFLICT}
    )
    @idempotent
    def post(self, request: Request, programme_id: int) -> Response:
        """Change the prescription: a new version (a draft is edited in place)."""
        viewer = current_user(request)
        programme = selectors.programme_get(viewer=viewer, programme_id=programme_id)
        data = ProgrammeReviseInput(data=request.data)
        data.is_valid(raise_exception=True)
        prescribed = programmes.programme_revise(
            programme=programme,
            by=viewer,
            content=_content(data.validated_data),
            reason=data.validated_data["reason"],
        )
        record_access(request, Action.UPDATE, Resource.PROGRAMME, [programme])
        programme = selectors.programme_get(viewer=viewer, programme_id=prescribed.programme.pk)
        body = {"programme": programme, "warnings": prescribed.warnings}
        return Response(PrescribedOutput(body).data, status=status.HTTP_201_CREATED)


def _status_change(request: Request, programme_id: int, action: str) -> Response:
    viewer = current_user(request)
    programme = selectors.programme_get(viewer=viewer, programme_id=programme_id)
    if action == "pause":
        data = PauseInput(data=request.data)
        data.is_valid(raise_exception=True)
        programmes.programme_pause(programme=programme, by=viewer, **data.validated_data)
    elif action == "complete":
        note = NoteInput(data=request.data)
        note.is_valid(raise_exception=True)
        programmes.programme_complete(programme=programme, by=viewer, **note.validated_data)
    else:
        programmes.programme_activate(programme=programme, by=viewer)
    record_access(request, Action(action), Resource.PROGRAMME, [programme])
    return Response(
        ProgrammeOutput(selectors.programme_get(viewer=viewer, programme_id=programme_id)).data
    )


@extend_schema(
    tags=["programmes"], request=None, responses={200: ProgrammeOutput, **FORBIDDEN_OR_CONFLICT}
)
class ProgrammeActivateApi(APIView):
    @idempotent
    def post(self, request: Request, programme_id: int) -> Response:
        """Start a draft, or resume a paused programme."""
        return _status_change(request, programme_id, "activate")


@extend_schema(
    tags=["programmes"],
    request=PauseInput,
    responses={200: ProgrammeOutput, **FORBIDDEN_OR_CONFLICT},
)
class ProgrammePauseApi(APIView):
    @idempotent
    def post(self, request: Request, programme_id: int) -> Response:
        """Pause (illness, flare, surgery…); reminders and adherence alerts stop."""
        return _status_change(request, programme_id, "pause")


@extend_schema(
    tags=["programmes"],
    request=NoteInput,
    responses={200: ProgrammeOutput, **FORBIDDEN_OR_CONFLICT},
)
class ProgrammeCompleteApi(APIView):
    @idempotent
    def post(self, request: Request, programme_id: int) -> Response:
        return _status_change(request, programme_id, "complete")


class ProposalFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=ProposalStatus.choices)
    programme = IdFilter(field_name="programme_id")

    class Meta:
        model = ProgressionProposal
        fields = ["status", "programme"]


@extend_schema(tags=["progression"])
class ProposalListApi(RecordsPageReads, generics.ListAPIView):
    """Progression proposals for my patients (clinicians)."""

    serializer_class = ProposalOutput
    filterset_class = ProposalFilter
    audit_resource = Resource.PROPOSAL

    @staticmethod
    def audit_patient_of(proposal: Any) -> int | None:
        return proposal.programme.patient_id

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return ProgressionProposal.objects.none()
        return selectors.proposals_visible_to(current_user(self.request))


@extend_schema(
    tags=["progression"], request=None, responses={200: ProposalOutput, **FORBIDDEN_OR_CONFLICT}
)
class ProposalDecisionApi(APIView):
    decision = ""

    @idempotent
    def post(self, request: Request, proposal_id: int) -> Response:
        viewer = current_user(request)
        proposal = generics.get_object_or_404(
            selectors.proposals_visible_to(viewer), pk=proposal_id
        )
        decide = (
            progression.proposal_accept
            if self.decision == "accept"
            else progression.proposal_dismiss
        )
        proposal = decide(proposal=proposal, by=viewer)
        record_access(
            request,
            Action(self.decision),
            Resource.PROPOSAL,
            [proposal],
            patient_of=lambda p: p.programme.patient_id,
        )
        return Response(
            ProposalOutput(selectors.proposals_visible_to(viewer).get(pk=proposal.pk)).data
        )


class ProposalAcceptApi(ProposalDecisionApi):
    """Accept: the programme gets a new version with this change."""

    decision = "accept"


class ProposalDismissApi(ProposalDecisionApi):
    decision = "dismiss"
