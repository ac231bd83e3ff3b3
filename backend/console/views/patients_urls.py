from django.urls import URLPattern, URLResolver, path

from backend.console.views import patients

urlpatterns: list[URLPattern | URLResolver] = [
    path("", patients.patient_list, name="patients"),
]
