"""Renders every exception an API view raises into the shape of backend.core.errors."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from backend.core.errors import DomainError, error_body

_DEFAULT_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "throttled",
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        set_rollback()
        return Response(error_body(exc.status, exc.code, exc.detail, exc.errors), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a genuine bug: let Django log it and answer 500

    set_rollback()
    status_code = exc.status_code
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
    wait = getattr(exc, "wait", None)  # set by Throttled
    if wait is not None:
        headers["Retry-After"] = str(int(wait))

    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body = error_body(
            status.HTTP_400_BAD_REQUEST,
            "invalid",
            first_message(errors) or "Invalid input.",
            errors,
        )
    else:
        detail = exc.detail
        if isinstance(detail, dict):  # simplejwt wraps its message: {"detail": ..., "code": ...}
            code = str(detail.get("code", _DEFAULT_CODES.get(status_code, "error")))
            message = str(detail.get("detail", ""))
        else:
            code = getattr(detail, "code", None) or _DEFAULT_CODES.get(status_code, "error")
            message = str(detail)
        if status_code in _DEFAULT_CODES and code in {"error", "invalid"}:
            code = _DEFAULT_CODES[status_code]
        body = error_body(status_code, code, message)
    # A throttled write still stored its symptoms: the safety message and report ids.
    body.update(getattr(exc, "extra_body", None) or {})
    return Response(body, status=status_code, headers=headers)


def first_message(errors: Any, path: str = "") -> str:
    """The first error as 'field: message', so a client without field mapping shows something."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            found = first_message(value, f"{path}.{key}" if path else str(key))
            if found:
                return found
    elif isinstance(errors, list):
        for index, value in enumerate(errors):
            if isinstance(value, dict | list):
                found = first_message(value, f"{path}[{index}]")
            else:
                found = f"{path}: {value}" if path and path != "non_field_errors" else str(value)
            if found:
                return found
    elif errors:
        return f"{path}: {errors}" if path else str(errors)
    return ""
