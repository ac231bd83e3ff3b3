"""Django's error views, in the API's one JSON error shape (the console's 404 is a page)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from backend.core.errors import error_response


def bad_request(request: HttpRequest, exception: Exception) -> JsonResponse:
    return error_response(400, "bad_request", "The request could not be understood.")


def permission_denied(request: HttpRequest, exception: Exception) -> JsonResponse:
    return error_response(403, "permission_denied", "You may not do this.")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/console/"):
        # A person in the console (a patient not theirs, a link gone stale) gets a page.
        return render(request, "console/not_found.html", status=404)
    return error_response(404, "not_found", "Not found.")


def server_error(request: HttpRequest) -> JsonResponse:
    return error_response(
        500, "server_error", "Something went wrong on our side; it has been logged."
    )
