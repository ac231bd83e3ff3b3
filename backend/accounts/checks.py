"""System checks: token revocation fails silently when misconfigured, so refuse to start."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.checks import CheckMessage, Error, register

BLACKLIST_APP = "rest_framework_simplejwt.token_blacklist"


@register("security")
def token_revocation_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Without these, a stolen refresh token keeps working after rotation and after logout,
    and nothing fails: simplejwt just stops blacklisting."""
    from rest_framework_simplejwt.settings import api_settings

    errors: list[CheckMessage] = []
    if not apps.is_installed(BLACKLIST_APP):
        errors.append(
            Error(
                f"{BLACKLIST_APP} is not installed: logout cannot revoke tokens.",
                id="accounts.E001",
            )
        )
    for name in ("ROTATE_REFRESH_TOKENS", "BLACKLIST_AFTER_ROTATION"):
        if not getattr(api_settings, name):
            errors.append(
                Error(
                    f"SIMPLE_JWT['{name}'] must be True: an old refresh token would keep working.",
                    id="accounts.E002",
                )
            )
    return errors
