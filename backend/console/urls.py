from django.urls import include, path

app_name = "console"

# One URL module per area of the console, so each area's pages live next to their views.
urlpatterns = [
    path("", include("backend.console.views.auth_urls")),
    path("", include("backend.console.views.inbox_urls")),
    path("patients/", include("backend.console.views.patients_urls")),
    path("programmes/", include("backend.console.views.programmes_urls")),
    path("enrol/", include("backend.console.views.enrol_urls")),
    path("organisation/", include("backend.console.views.organisation_urls")),
]
