from django.urls import include, path

from backend.fhir.observation import ObservationApi

# Export (read, search, $everything, $export) and import (Observation, Bundle) are separate
# modules so each side's routes live next to its views.
urlpatterns = [
    # Searched by people and written by sending systems: backend/fhir/observation.py.
    path("Observation", ObservationApi.as_view(), name="fhir-observation"),
    path("", include("backend.fhir.export.urls")),
    path("", include("backend.fhir.imports.urls")),
    path("", include("backend.fhir.bulk.urls")),
]
