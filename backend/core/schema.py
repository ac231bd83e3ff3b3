"""OpenAPI generation: every operation also documents the error responses it can give."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import force_instance, is_serializer
from drf_spectacular.utils import OpenApiParameter
from rest_framework.permissions import AllowAny

from backend.core import idempotency
from backend.core.serializers import ErrorSerializer, IdField

# gunicorn's limit_request_line (config/gunicorn.py): a longer request line never reaches
# Django and is answered with gunicorn's own HTML page.
URI_TOO_LONG = {
    "description": "The request line (path and query) is longer than the server accepts "
    "(4094 bytes); answered by the HTTP server, not in the JSON error shape."
}

RETRY_AFTER = {
    "schema": {"type": "integer", "minimum": 0},
    "description": "Seconds to wait before retrying.",
}

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name=idempotency.HEADER,
    # What backend.core.idempotency accepts (anything else is a 400).
    type={"type": "string", "pattern": idempotency.KEY_PATTERN, "maxLength": 255},
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Optional, e.g. a UUID (IETF draft-ietf-httpapi-idempotency-key-header). A retry with "
        "the same key and body gets the first answer again, with `Idempotent-Replayed: true`, "
        "and the work is done once; the same key with another body or endpoint is 422, and "
        "while the first request is still running 409. Keys are kept 24 hours."
    ),
)


class AutoSchema(SpectacularAutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> Any:
        operation = super().get_operation(*args, **kwargs)
        # Only where the client builds a query string (filters, pages) is a long URL likely.
        if operation and any(p.get("in") == "query" for p in operation.get("parameters", [])):
            operation["responses"].setdefault("414", URI_TOO_LONG)
        return operation

    def get_override_parameters(self) -> list[Any]:
        parameters: list[Any] = list(super().get_override_parameters())
        if self._is_idempotent():
            parameters.append(IDEMPOTENCY_KEY_PARAMETER)
        return parameters

    def _is_idempotent(self) -> bool:
        return idempotency.is_idempotent(getattr(self.view, self.method.lower(), None))

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        bodies: dict[str, Any] = super()._get_response_bodies(direction)
        if direction != "response":
            return bodies
        for code in self._error_codes():
            bodies.setdefault(code, self._get_response_for_code(ErrorSerializer, code))
        if "429" in bodies:
            bodies["429"] = {**bodies["429"], "headers": {"Retry-After": RETRY_AFTER}}
        return bodies

    def _is_throttled(self) -> bool:
        """A throttle applies to this method (write throttles skip reads)."""
        return any(
            getattr(throttle, "applies_to", lambda method: True)(self.method)
            for throttle in self.view.get_throttles()
        )

    def _error_codes(self) -> list[str]:
        codes = []
        body = self.get_request_serializer() if self.method in {"POST", "PUT", "PATCH"} else None
        query = [force_instance(p) for p in self.get_override_parameters() if is_serializer(p)]
        if body is not None:
            codes += ["400", "413", "415"]
        elif self.method == "GET" and (getattr(self.view, "filterset_class", None) or query):
            codes += ["400"]  # a filter or query value that does not parse
        public = any(isinstance(permission, AllowAny) for permission in self.view.get_permissions())
        if not public:
            codes += ["401"]
        if "{" in self.path or self._is_list_view() or _names_a_patient(body, *query):
            # An object not visible to the caller (a path id, or a patient named in the body
            # or query), or a page past the end.
            codes += ["404"]
        if self._is_throttled():
            codes += ["429"]
        if self._is_idempotent():
            # A malformed Idempotency-Key (also where there is no body) / a key still in use /
            # a key reused for another request.
            codes += ["400", "409", "422"]
        codes += ["503"]  # the database is unreachable: retry after the Retry-After header
        return codes


def _names_a_patient(*serializers: Any) -> bool:
    return any(
        isinstance(force_instance(serializer).fields.get("patient"), IdField)
        for serializer in serializers
        if is_serializer(serializer)
    )
