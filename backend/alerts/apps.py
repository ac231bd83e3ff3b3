from django.apps import AppConfig


class AlertsConfig(AppConfig):
    """Adherence engine, care-team alerts and notifications (issue [3/5])."""

    name = "backend.alerts"
    label = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from backend.alerts import checks  # noqa: F401  # registers the system checks
