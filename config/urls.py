from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from backend.core.apis import HealthApi

# Unknown URLs and unhandled errors answer in the API's JSON error shape.
handler400 = "backend.core.views.bad_request"
handler403 = "backend.core.views.permission_denied"
handler404 = "backend.core.views.page_not_found"
handler500 = "backend.core.views.server_error"

api_v1 = [
    path("", include("backend.accounts.urls")),
    path("", include("backend.exercise.urls")),
    path("", include("backend.alerts.urls")),
    path("", include("backend.symptoms.urls")),
    path("", include("backend.audit.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("fhir/", include("backend.fhir.urls")),
    path("console/", include("backend.console.urls")),
    path("", RedirectView.as_view(pattern_name="console:home", permanent=False), name="root"),
    path("health/", HealthApi.as_view(), name="health"),
    path(settings.ADMIN_URL, admin.site.urls),
]
