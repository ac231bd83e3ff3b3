"""OpenAPI generation: every operation also documents the error responses it can give."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework.permissions import AllowAny

from backend.core.serializers import ErrorSerializer


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        bodies: dict[str, Any] = super()._get_response_bodies(direction)
        if direction != "response":
            return bodies
        for code in self._error_codes():
            bodies.setdefault(code, self._get_response_for_code(ErrorSerializer, code))
        return bodies

    def _error_codes(self) -> list[str]:
        codes = []
        if self.method in {"POST", "PUT", "PATCH"} and self.get_request_serializer() is not None:
            codes += ["400", "413", "415"]
        elif self.method == "GET" and getattr(self.view, "filterset_class", None):
            codes += ["400"]  # a filter value that does not parse
        public = any(isinstance(permission, AllowAny) for permission in self.view.get_permissions())
        if not public:
            codes += ["401"]
        if "{" in self.path or self._is_list_view():
            codes += ["404"]  # an object not visible to the caller, or a page past the end
        if getattr(self.view, "throttle_classes", None):
            codes += ["429"]
        codes += ["503"]  # the database is unreachable: retry after the Retry-After header
        return codes
