from django.urls import URLPattern, URLResolver, path

from backend.console.views import enrol

urlpatterns: list[URLPattern | URLResolver] = [
    path("", enrol.enrol_patient, name="enrol"),
]
