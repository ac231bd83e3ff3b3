from django.urls import URLPattern, URLResolver, path

from backend.console.views import inbox

urlpatterns: list[URLPattern | URLResolver] = [
    path("", inbox.home, name="home"),
]
