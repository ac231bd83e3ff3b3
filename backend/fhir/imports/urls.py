from django.urls import URLPattern, URLResolver, path

from backend.fhir.imports import apis

# FHIR's own paths: no trailing slash.
urlpatterns: list[URLPattern | URLResolver] = [
    path("Bundle", apis.BundleImportApi.as_view(), name="fhir-bundle-import"),
]
