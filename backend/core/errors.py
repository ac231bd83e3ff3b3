"""The one JSON error shape every 4xx and 5xx of the API uses, and the domain error type."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import Any

from django.http import JsonResponse

from backend.core.request_context import current_request_id


class DomainError(Exception):
    """A business rule refused the operation; rendered as a 4xx by the exception handler."""

    def __init__(
        self,
        detail: str,
        *,
        code: str = "invalid",
        status: int = 400,
        errors: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.status = status
        self.errors = errors


def require_role(user: Any, roles: AbstractSet[str], detail: str) -> None:
    """403 unless the user holds one of `roles`: function-level refusal (a record the user may
    not see is refused by the selectors, with 404)."""
    if user.role not in roles:
        raise DomainError(detail, code="permission_denied", status=403)


def error_body(
    status: int, code: str, detail: str, errors: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status, "code": code, "detail": detail}
    if errors:
        body["errors"] = errors
    body["request_id"] = current_request_id.get()
    return body


def error_response(
    status: int, code: str, detail: str, errors: dict[str, Any] | None = None
) -> JsonResponse:
    return JsonResponse(error_body(status, code, detail, errors), status=status)
