from django.urls import URLPattern, URLResolver, path

from backend.console.views import programmes

urlpatterns: list[URLPattern | URLResolver] = [
    path("templates/", programmes.template_list, name="templates"),
]
