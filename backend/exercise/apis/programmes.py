from __future__ import annotations

import hashlib
from typing import Any

from django.utils.http import parse_etags
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.apis import current_user
from backend.core.filters import IdFilter, UtcDateTimeFilter
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
class ProgrammeListCreateApi(generics.ListAPIView):
    """Programmes I may see; `updated_since` returns only what changed (for app sync)."""

    serializer_class = ProgrammeOutput
    filterset_class = ProgrammeFilter

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Programme.objects.none()
        return selectors.programmes_visible_to(current_user(self.request))

    @extend_schema(
        request=ProgrammeCreateInput, responses={201: PrescribedOutput, **FORBIDDEN_OR_CONFLICT}
    )
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
        programme = selectors.programme_get(viewer=viewer, programme_id=prescribed.programme.pk)
        body = {"programme": programme, "warnings": prescribed.warnings}
        return Response(PrescribedOutput(body).data, status=status.HTTP_201_CREATED)


# Bump when ProgrammeOutput's shape changes, so phones holding an old ETag refetch.
RESPONSE_SHAPE = "1"


def _etag(programme: Programme) -> str:
    """From what the response is made of, without rendering it: the programme row (its
    updated_at moves on every revision and status change), the version in force, and each
    exercise shown (an edit to the library moves its updated_at)."""
    version = programme.current_version
    parts = [
        RESPONSE_SHAPE,
        str(programme.pk),
        programme.updated_at.isoformat(),
        str(programme.current_version_id),
    ]
    if version is not None:
        parts += [
            f"{item.exercise_id}@{item.exercise.updated_at.isoformat()}"
            for item in version.items.all()
        ]
    return f'"{hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]}"'


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
        etag = _etag(programme)
        if etag in parse_etags(request.headers.get("If-None-Match", "")):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        response = Response(ProgrammeOutput(programme).data, headers={"ETag": etag})
        response["Cache-Control"] = "private, no-cache"
        return response


@extend_schema(tags=["programmes"])
class ProgrammeDetailApi(APIView):
    @extend_schema(responses={200: ProgrammeOutput})
    def get(self, request: Request, programme_id: int) -> Response:
        programme = selectors.programme_get(viewer=current_user(request), programme_id=programme_id)
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
        return self.get_paginated_response(ProgrammeVersionOutput(page, many=True).data)

    @extend_schema(
        request=ProgrammeReviseInput, responses={201: PrescribedOutput, **FORBIDDEN_OR_CONFLICT}
    )
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
    return Response(
        ProgrammeOutput(selectors.programme_get(viewer=viewer, programme_id=programme_id)).data
    )


@extend_schema(
    tags=["programmes"], request=None, responses={200: ProgrammeOutput, **FORBIDDEN_OR_CONFLICT}
)
class ProgrammeActivateApi(APIView):
    def post(self, request: Request, programme_id: int) -> Response:
        """Start a draft, or resume a paused programme."""
        return _status_change(request, programme_id, "activate")


@extend_schema(
    tags=["programmes"],
    request=PauseInput,
    responses={200: ProgrammeOutput, **FORBIDDEN_OR_CONFLICT},
)
class ProgrammePauseApi(APIView):
    def post(self, request: Request, programme_id: int) -> Response:
        """Pause (illness, flare, surgery…); reminders and adherence alerts stop."""
        return _status_change(request, programme_id, "pause")


@extend_schema(
    tags=["programmes"],
    request=NoteInput,
    responses={200: ProgrammeOutput, **FORBIDDEN_OR_CONFLICT},
)
class ProgrammeCompleteApi(APIView):
    def post(self, request: Request, programme_id: int) -> Response:
        return _status_change(request, programme_id, "complete")


class ProposalFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=ProposalStatus.choices)
    programme = IdFilter(field_name="programme_id")

    class Meta:
        model = ProgressionProposal
        fields = ["status", "programme"]


@extend_schema(tags=["progression"])
class ProposalListApi(generics.ListAPIView):
    """Progression proposals for my patients (clinicians)."""

    serializer_class = ProposalOutput
    filterset_class = ProposalFilter

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return ProgressionProposal.objects.none()
        return selectors.proposals_visible_to(current_user(self.request))


@extend_schema(
    tags=["progression"], request=None, responses={200: ProposalOutput, **FORBIDDEN_OR_CONFLICT}
)
class ProposalDecisionApi(APIView):
    decision = ""

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
        return Response(
            ProposalOutput(selectors.proposals_visible_to(viewer).get(pk=proposal.pk)).data
        )


class ProposalAcceptApi(ProposalDecisionApi):
    """Accept: the programme gets a new version with this change."""

    decision = "accept"


class ProposalDismissApi(ProposalDecisionApi):
    decision = "dismiss"
