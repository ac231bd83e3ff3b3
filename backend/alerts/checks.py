"""System checks: production must not write notification content (health data) to logs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

CONSOLE_PUSH_SENDER = "backend.alerts.push.ConsoleSender"
# Django's own backends that write whole messages (subjects and bodies) to a stream or file.
CONTENT_WRITING_EMAIL_BACKENDS = frozenset(
    {
        "django.core.mail.backends.console.EmailBackend",
        "django.core.mail.backends.filebased.EmailBackend",
    }
)


@register("security")
def notification_content_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Without DEBUG, the console push sender is refused unless PUSH_SENDER names it (it is
    otherwise the silent fallback when FCM is not configured, and pushes would go nowhere),
    and e-mail backends that write message bodies are refused outright."""
    if settings.DEBUG:
        return []
    errors: list[CheckMessage] = []
    if settings.PUSH_SENDER == CONSOLE_PUSH_SENDER and not settings.PUSH_SENDER_EXPLICIT:
        errors.append(
            Error(
                "No push service is configured: set FCM_PROJECT_ID and FCM_CREDENTIALS_FILE, "
                f"or PUSH_SENDER={CONSOLE_PUSH_SENDER} to run without push on purpose.",
                id="alerts.E001",
            )
        )
    if settings.EMAIL_BACKEND in CONTENT_WRITING_EMAIL_BACKENDS:
        errors.append(
            Error(
                f"EMAIL_BACKEND={settings.EMAIL_BACKEND} writes alert e-mails, health data "
                "included, to the logs; use SMTP or backend.alerts.mail.ConsoleEmailBackend.",
                id="alerts.E002",
            )
        )
    return errors
