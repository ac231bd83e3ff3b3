from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "backend.accounts"
    label = "accounts"
    verbose_name = "People and care teams"

    def ready(self) -> None:
        from backend.accounts import checks  # noqa: F401  # registers the system checks
