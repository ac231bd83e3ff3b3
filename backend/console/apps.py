from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The care-team web console at /console/: server-rendered pages over the API's services."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "backend.console"
    label = "console"

    def ready(self) -> None:
        from backend.console import middleware  # noqa: F401  # connects the sign-in receiver
