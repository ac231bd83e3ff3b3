from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The care-team web console at /console/: server-rendered pages over the API's services."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "backend.console"
    label = "console"
