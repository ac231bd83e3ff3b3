"""POST /fhir/Observation and POST /fhir/Bundle: a sending system imports results."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import renderers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.audit.models import Action, Resource
from backend.audit.services import record_access
from backend.core.parsers import JSONParser
from backend.core.throttles import SyncThrottle, WriteThrottle
from backend.fhir.imports import parsing, services
from backend.fhir.imports.authentication import (
    IsServiceAccount,
    ServiceAccountAuthentication,
    service_account_of,
)
from backend.fhir.imports.outcomes import fhir_exception_handler
from backend.fhir.imports.render import (
    observation_location,
    observation_resource,
    transaction_response,
)
from backend.fhir.imports.schema import (
    ObservationSchema,
    OperationOutcomeSchema,
    TransactionResponseSchema,
    TransactionSchema,
)

FHIR_JSON = "application/fhir+json"


class FhirJSONParser(JSONParser):
    media_type = FHIR_JSON


class FhirJSONRenderer(renderers.JSONRenderer):
    media_type = FHIR_JSON
    format = "fhir"


def _refusals(*statuses: int) -> dict[int, OpenApiResponse]:
    return {
        code: OpenApiResponse(OperationOutcomeSchema, description="Refused; nothing stored.")
        for code in statuses
    }


class _ImportApi(APIView):
    """A sending system's key, JSON or FHIR JSON in, FHIR JSON out, refusals as an
    OperationOutcome."""

    authentication_classes = [ServiceAccountAuthentication]
    permission_classes = [IsServiceAccount]
    parser_classes = [FhirJSONParser, JSONParser]
    renderer_classes = [FhirJSONRenderer, renderers.JSONRenderer]

    def get_exception_handler(self) -> Any:
        return fhir_exception_handler

    def _audit(self, request: Request, results: list[services.Imported]) -> None:
        """A new result is a write by the sending system; a resend shows it a stored one."""
        created = [r.assessment for r in results if r.created]
        resent = [r.assessment for r in results if not r.created]
        if created:
            record_access(request, Action.CREATE, Resource.ASSESSMENT, created)
        if resent:
            record_access(request, Action.READ, Resource.ASSESSMENT, resent)


OBSERVATION_IMPORT_SCHEMA = extend_schema(
    tags=["fhir"],
    request=ObservationSchema,
    responses={
        201: OpenApiResponse(ObservationSchema, description="Imported: the stored result."),
        200: OpenApiResponse(ObservationSchema, description="A resend: the stored result."),
        **_refusals(400, 401, 403, 404, 409, 413, 415, 422, 429),
    },
)


@OBSERVATION_IMPORT_SCHEMA
class ObservationImportApi(_ImportApi):
    throttle_classes = [WriteThrottle]

    def post(self, request: Request) -> Response:
        """Import one lab result or outcome measure for a patient of the organisation. An
        identifier already imported answers 200 with the stored result."""
        parsed = parsing.observation_parse(request.data)
        result = services.observation_import(account=service_account_of(request), parsed=parsed)
        self._audit(request, [result])
        answer = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        headers = {"Location": observation_location(result)}
        return Response(observation_resource(result), status=answer, headers=headers)


@extend_schema(
    tags=["fhir"],
    request=TransactionSchema,
    responses={
        200: OpenApiResponse(
            TransactionResponseSchema, description="Every entry imported (or resent)."
        ),
        **_refusals(400, 401, 403, 404, 409, 413, 415, 422, 429),
    },
)
class BundleImportApi(_ImportApi):
    throttle_classes = [SyncThrottle]

    def post(self, request: Request) -> Response:
        """Import a transaction of Observations: all or nothing; a refusal names the entry."""
        entries = parsing.transaction_parse(request.data)
        results = services.transaction_import(account=service_account_of(request), entries=entries)
        self._audit(request, results)
        return Response(transaction_response(results), status=status.HTTP_200_OK)
