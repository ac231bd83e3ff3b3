from django.urls import URLPattern, URLResolver, path, re_path

from backend.fhir.export import apis

urlpatterns: list[URLPattern | URLResolver] = [
    path("metadata", apis.MetadataApi.as_view(), name="fhir-metadata"),
    path("Patient/<str:patient_id>", apis.PatientReadApi.as_view(), name="fhir-patient"),
    # A regex, its "$" escaped: the schema generator reads a route's text, where a bare "$"
    # is an end-of-line anchor to strip (the path would read /everything).
    re_path(
        r"^Patient/(?P<patient_id>[^/]+)/\$everything\Z",
        apis.PatientEverythingApi.as_view(),
        name="fhir-patient-everything",
    ),
    path("CarePlan", apis.CarePlanSearchApi.as_view(), name="fhir-careplan-search"),
    path(
        "ServiceRequest",
        apis.ServiceRequestSearchApi.as_view(),
        name="fhir-servicerequest-search",
    ),
    path(
        "DetectedIssue",
        apis.DetectedIssueSearchApi.as_view(),
        name="fhir-detectedissue-search",
    ),
    path("Flag", apis.FlagSearchApi.as_view(), name="fhir-flag-search"),
]
