"""FHIR's media type, its error resource (OperationOutcome) and the schema of both."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from backend.core.exceptions import exception_handler
from backend.core.schema import RETRY_AFTER, AutoSchema
from backend.core.serializers import ErrorSerializer
from backend.fhir.export.search import SearchError

FHIR_JSON = "application/fhir+json"

# FHIR's issue-type codes for the statuses the export answers with.
ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    415: "not-supported",
    429: "throttled",
}


class FhirJSONRenderer(JSONRenderer):
    """JSON under FHIR's media type; plain application/json is served too (Accept)."""

    media_type = FHIR_JSON
    format = "fhir"


def operation_outcome(
    status: int, diagnostics: str, expression: str | None = None
) -> dict[str, Any]:
    issue: dict[str, Any] = {
        "severity": "error",
        "code": ISSUE_CODES.get(status, "exception"),
        "diagnostics": diagnostics,
    }
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def fhir_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """The API's handler decides the status and headers (401's WWW-Authenticate, 429's
    Retry-After); the body is an OperationOutcome instead of the API's error shape."""
    if isinstance(exc, SearchError):
        return Response(operation_outcome(400, str(exc), exc.parameter), status=400)
    response = exception_handler(exc, context)
    if response is None:
        return None
    data = response.data if isinstance(response.data, dict) else {}
    response.data = operation_outcome(response.status_code, str(data.get("detail") or "Error."))
    return response


# --- Schema -----------------------------------------------------------------------------------


class IssueOutput(serializers.Serializer):
    severity = serializers.ChoiceField(choices=["fatal", "error", "warning", "information"])
    code = serializers.CharField(help_text="FHIR issue type, e.g. `not-found`, `invalid`.")
    diagnostics = serializers.CharField(help_text="A message that can be shown to a person.")
    expression = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="The parameter at fault."
    )


class OperationOutcomeOutput(serializers.Serializer):
    """Every error of /fhir/ (FHIR R4 OperationOutcome)."""

    resourceType = serializers.ChoiceField(choices=["OperationOutcome"])  # FHIR's name
    issue = IssueOutput(many=True)


class FhirResourceOutput(serializers.Serializer):
    """A FHIR R4 resource (its other elements as FHIR defines them for its type)."""

    resourceType = serializers.CharField()  # FHIR's name
    id = serializers.CharField(required=False)


class BundleLinkOutput(serializers.Serializer):
    relation = serializers.CharField(help_text="`self` or `next`.")
    url = serializers.URLField()


class BundleEntryOutput(serializers.Serializer):
    fullUrl = serializers.URLField()  # FHIR's name
    resource = FhirResourceOutput()
    search = serializers.DictField(required=False)


class BundleOutput(serializers.Serializer):
    """A FHIR R4 Bundle of type searchset."""

    resourceType = serializers.ChoiceField(choices=["Bundle"])  # FHIR's name
    type = serializers.ChoiceField(choices=["searchset"])
    timestamp = serializers.DateTimeField()
    total = serializers.IntegerField(required=False)
    link = BundleLinkOutput(many=True)
    entry = BundleEntryOutput(many=True, required=False)


class CapabilityStatementOutput(FhirResourceOutput):
    """A FHIR R4 CapabilityStatement."""

    fhirVersion = serializers.CharField()  # FHIR's name
    rest = serializers.ListField(child=serializers.DictField())


class FhirAutoSchema(AutoSchema):
    """The API's documented error statuses, with FHIR's body: an OperationOutcome (the 503 of
    an unreachable database comes from middleware, in the API's error shape)."""

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        bodies: dict[str, Any] = SpectacularAutoSchema._get_response_bodies(self, direction)
        if direction != "response":
            return bodies
        for code in self._error_codes():
            body = ErrorSerializer if code == "503" else OperationOutcomeOutput
            bodies.setdefault(code, self._get_response_for_code(body, code))
        if "429" in bodies:
            bodies["429"] = {**bodies["429"], "headers": {"Retry-After": RETRY_AFTER}}
        return bodies
