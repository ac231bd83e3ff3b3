from typing import Any

from django.urls import URLPattern
from django.urls.resolvers import RoutePattern

from backend.fhir.bulk import apis


class OperationRoutePattern(RoutePattern):
    """A route naming a FHIR operation (`$export`). Matching is path()'s; only the text
    the OpenAPI generator reads escapes the `$`, which it would otherwise strip as a regex
    anchor (`/fhir/export`)."""

    def __str__(self) -> str:
        return super().__str__().replace("$", "\\$")


def operation_path(route: str, view: Any, *, name: str) -> URLPattern:
    return URLPattern(OperationRoutePattern(route, name=name, is_endpoint=True), view, name=name)


urlpatterns = [
    operation_path("$export", apis.BulkExportKickOffApi.as_view(), name="fhir-bulk-export"),
    operation_path(
        "$export-status/<id:job_id>",
        apis.BulkExportStatusApi.as_view(),
        name="fhir-bulk-status",
    ),
    operation_path(
        "$export-file/<id:job_id>/<str:file_name>",
        apis.BulkExportFileApi.as_view(),
        name="fhir-bulk-file",
    ),
]
