from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse

from backend.core.errors import error_response
from backend.core.request_context import current_request_id

logger = logging.getLogger(__name__)

# Accept a caller's id only when it is short and plain, so it cannot forge log lines.
_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Gives every request an id (the caller's X-Request-ID if sane), echoed in the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _CLIENT_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]  # read by the error handler
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class BodySizeLimitMiddleware:
    """Refuses bodies over REQUEST_BODY_MAX_BYTES with 413 before anything parses them.

    DRF's parsers read the request stream directly, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE
    does not protect JSON endpoints. Under WSGI a body is read only up to its declared
    Content-Length, so checking the declared length covers every body a view can see.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit: int = settings.REQUEST_BODY_MAX_BYTES
        declared = request.META.get("CONTENT_LENGTH") or "0"
        try:
            too_big = int(declared) > limit
        except ValueError:
            return error_response(400, "bad_request", "Content-Length is not a number.")
        if too_big:
            return error_response(
                413,
                "payload_too_large",
                f"Request body is larger than the limit of {limit} bytes.",
            )
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """503 with Retry-After, not 500, when a view cannot reach the database (a restart or a
    failover): a moment's outage the client should retry after, not a bug. psycopg raises
    OperationalError for a refused or lost connection, Django InterfaceError for one already
    closed; an open transaction was rolled back by the server. DRF's exception handler leaves
    both to Django, so this covers API views and the admin alike."""

    RETRY_AFTER_SECONDS = 10

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning("database unavailable: %s", str(exception).strip())
        response = error_response(
            503,
            "service_unavailable",
            "The service cannot reach its database just now. Please try again in a few seconds.",
        )
        response["Retry-After"] = str(self.RETRY_AFTER_SECONDS)
        return response
