"""FHIR's side of HTTP for the bulk routes: its media types, errors as OperationOutcome
resources, and their OpenAPI description.

(The read and import sides answer FHIR too; when they land, what is shared moves up to
backend/fhir/.)"""

from __future__ import annotations

import json
from typing import Any

from drf_spectacular.utils import OpenApiResponse
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.core.exceptions import exception_handler
from backend.core.schema import AutoSchema
from backend.core.serializers import ErrorSerializer
from backend.fhir.export.rendering import FHIR_JSON, OperationOutcomeOutput
from backend.fhir.export.rendering import FhirJSONRenderer as FhirJsonRenderer

BUSY_RETRY_SECONDS = 30
FHIR_NDJSON = "application/fhir+ndjson"

# HTTP status → OperationOutcome issue type (http://hl7.org/fhir/issue-type).
ISSUE_TYPES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    429: "throttled",
}


class NdjsonRenderer(BaseRenderer):
    """For content negotiation of the NDJSON files (the view streams the file itself)."""

    media_type = FHIR_NDJSON
    format = "ndjson"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Any = None,
    ) -> bytes:
        return (json.dumps(data, separators=(",", ":")) + "\n").encode()


class FallbackNegotiation(DefaultContentNegotiation):
    """An Accept header the view cannot serve gets its first media type, not a 406 before
    the caller is even authenticated; the kick-off checks its own Accept (400)."""

    def select_renderer(self, request: Request, renderers: Any, format_suffix: Any = None) -> Any:
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except Exception:
            return renderers[0], renderers[0].media_type


def operation_outcome(
    status: int, diagnostics: str, errors: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One issue for the error, and one per field error (its name as `expression`)."""
    severity = "fatal" if status >= 500 else "error"
    code = ISSUE_TYPES.get(status, "exception" if status >= 500 else "processing")
    issues: list[dict[str, Any]] = []
    for name, messages in (errors or {}).items():
        for message in messages if isinstance(messages, list) else [messages]:
            issues.append(
                {
                    "severity": severity,
                    "code": code,
                    "diagnostics": str(message),
                    "expression": [str(name)],
                }
            )
    if not issues:
        issues.append({"severity": severity, "code": code, "diagnostics": diagnostics})
    return {"resourceType": "OperationOutcome", "issue": issues}


class FhirApiView(APIView):
    """Errors as OperationOutcome, always in `application/fhir+json` whatever was negotiated
    for success (a file's 404 is no NDJSON)."""

    content_negotiation_class = FallbackNegotiation

    def get_exception_handler(self) -> Any:
        return fhir_exception_handler

    def outcome(self, status: int, diagnostics: str, headers: dict[str, str] | None = None) -> Any:
        self.request.accepted_renderer = FhirJsonRenderer()
        self.request.accepted_media_type = FHIR_JSON
        return Response(operation_outcome(status, diagnostics), status=status, headers=headers)

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        request = getattr(self, "request", None)
        if request is not None:
            request.accepted_renderer = FhirJsonRenderer()
            request.accepted_media_type = FHIR_JSON
        return response


def fhir_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """The API's handler (same statuses, headers and rollback), its body as OperationOutcome."""
    response = exception_handler(exc, context)
    if response is None or not isinstance(response.data, dict):
        return response
    response.data = operation_outcome(
        response.status_code, str(response.data.get("detail", "")), response.data.get("errors")
    )
    if response.status_code == 429 and "Retry-After" not in response:
        response["Retry-After"] = str(BUSY_RETRY_SECONDS)  # an export in progress: poll later
    return response


# --- OpenAPI ---------------------------------------------------------------------------------


def outcome_responses(*codes: int) -> dict[Any, Any]:
    responses: dict[Any, Any] = {
        (code, FHIR_JSON): OpenApiResponse(OperationOutcomeOutput, description=why)
        for code, why in ((code, ERROR_DESCRIPTIONS[code]) for code in codes)
    }
    if 404 in codes:
        # A path that is no URL of this API at all (an id that is not a number) is answered
        # before any view, by the API's own 404, in its JSON error shape.
        responses[(404, "application/json")] = OpenApiResponse(
            ErrorSerializer, description=ERROR_DESCRIPTIONS[404]
        )
    return responses


ERROR_DESCRIPTIONS = {
    400: "A parameter or header is missing or invalid.",
    401: "Not signed in.",
    403: "Only organisation admins and clinicians export in bulk.",
    404: "No such export of yours (or it was cancelled, or has expired).",
    429: "An export of yours is still in progress.",
    500: "The export failed.",
}


class FhirAutoSchema(AutoSchema):
    """The API's schema, without its JSON error shape: these routes answer OperationOutcome
    (declared per view), except a 503 from the middleware when the database is down."""

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        bodies = super()._get_response_bodies(direction)
        if direction != "response":
            return bodies
        declared = self.get_response_serializers()
        keys: dict[Any, Any] = declared if isinstance(declared, dict) else {}
        codes = {str(key[0] if isinstance(key, tuple) else key) for key in keys}
        kept = {
            code: body
            for code, body in bodies.items()
            if code in codes or code in {"503", "414"} or int(code) < 400
        }
        if "503" in kept:  # the middleware's answer, in the API's JSON error shape
            content = next(iter(kept["503"].get("content", {}).values()), None)
            if content is not None:
                kept["503"] = {**kept["503"], "content": {"application/json": content}}
        return kept
