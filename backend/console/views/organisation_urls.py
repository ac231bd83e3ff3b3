from django.urls import URLPattern, URLResolver, path

from backend.console.views import organisation

urlpatterns: list[URLPattern | URLResolver] = [
    path("", organisation.organisation_home, name="organisation"),
]
