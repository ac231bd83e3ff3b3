"""Django's error views, answering in the API's one JSON error shape."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from backend.core.errors import error_response


def bad_request(request: HttpRequest, exception: Exception) -> JsonResponse:
    return error_response(400, "bad_request", "The request could not be understood.")


def permission_denied(request: HttpRequest, exception: Exception) -> JsonResponse:
    return error_response(403, "permission_denied", "You may not do this.")


def page_not_found(request: HttpRequest, exception: Exception) -> JsonResponse:
    return error_response(404, "not_found", "Not found.")


def server_error(request: HttpRequest) -> JsonResponse:
    return error_response(
        500, "server_error", "Something went wrong on our side; it has been logged."
    )
