from django.urls import URLPattern, URLResolver, path

from backend.console.views import inbox

urlpatterns: list[URLPattern | URLResolver] = [
    path("", inbox.home, name="home"),
    path("alerts/emergencies/", inbox.emergency_count, name="emergency_count"),
    path("alerts/<int:alert_id>/acknowledge/", inbox.alert_acknowledge, name="alert_acknowledge"),
    path("alerts/<int:alert_id>/resolve/", inbox.alert_resolve, name="alert_resolve"),
]
