"""E-mail for development: shows that an alert e-mail was sent and to whom, never what it says
(Django's console backend prints subjects and bodies, which carry symptoms and alerts)."""

from __future__ import annotations

from django.core.mail.backends.console import EmailBackend as DjangoConsoleBackend
from django.core.mail.message import EmailMessage


class ConsoleEmailBackend(DjangoConsoleBackend):
    def write_message(self, message: EmailMessage) -> None:
        size = len(message.subject) + len(message.body)
        recipients = ", ".join(message.recipients())
        self.stream.write(
            f"e-mail from {message.from_email} to {recipients}: "
            f"subject and body withheld ({size} characters)\n"
        )
