from django.urls import include, path

# Export (read, search, $everything, $export) and import (Observation, Bundle) are separate
# modules so each side's routes live next to its views.
urlpatterns = [
    path("", include("backend.fhir.export.urls")),
    path("", include("backend.fhir.imports.urls")),
    path("", include("backend.fhir.bulk.urls")),
]
