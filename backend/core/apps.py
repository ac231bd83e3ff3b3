from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "backend.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.urls import register_converter

        from backend.core import checks  # noqa: F401  # registers the system checks
        from backend.core.converters import IdConverter

        register_converter(IdConverter, "id")
