"""`/fhir/Observation` answers two callers: GET searches for people (the API's tokens, the
export side) and POST imports for sending systems (a service account's key, the import side).
Django routes by path alone, so one view answers both: a POST is handed whole to the import
view, everything else is the search. The schema generator and the access matrix read both
methods off this class; for POST it describes the import view's own authentication, parsers,
renderers and responses."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponseBase
from drf_spectacular.utils import extend_schema_view

from backend.fhir.export.apis import ObservationSearchApi, search_schema
from backend.fhir.imports.apis import OBSERVATION_IMPORT_SCHEMA, ObservationImportApi

_import_view = ObservationImportApi.as_view()


@extend_schema_view(
    get=search_schema("fhir_observation_search"),
    post=OBSERVATION_IMPORT_SCHEMA,
)
class ObservationApi(ObservationSearchApi):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method == "POST":
            return _import_view(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    # Never called (dispatch hands POSTs over): declares the method for the schema and matrix.
    post = ObservationImportApi.post

    def _importing(self) -> bool:
        request = getattr(self, "request", None)  # the schema generator's request, if any
        return request is not None and request.method == "POST"

    def get_authenticators(self) -> Any:
        if self._importing():
            return ObservationImportApi().get_authenticators()
        return super().get_authenticators()

    def get_parsers(self) -> Any:
        if self._importing():
            return ObservationImportApi().get_parsers()
        return super().get_parsers()

    def get_renderers(self) -> Any:
        if self._importing():
            return ObservationImportApi().get_renderers()
        return super().get_renderers()

    def get_throttles(self) -> Any:
        if self._importing():
            return ObservationImportApi().get_throttles()
        return super().get_throttles()
