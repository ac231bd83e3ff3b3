"""Fakes for what is outside the machine, behind the same interface as the real thing."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

from backend.alerts.push import PushResult


class RecordingPushSender:
    """Records every push instead of sending it. Tokens starting with "dead-" are reported
    invalid and "flaky-" as a transient failure, like FCM would. With PUSH_RECORD_FILE set
    (a worker in another process) each push is appended there as a JSON line."""

    sent: ClassVar[list[dict[str, Any]]] = []
    _lock = threading.Lock()

    def send(
        self, *, token: str, platform: str, title: str, body: str, data: dict[str, str]
    ) -> PushResult:
        if token.startswith("dead-"):
            return PushResult(ok=False, invalid_token=True, error="UNREGISTERED")
        if token.startswith("flaky-"):
            return PushResult(ok=False, transient=True, error="503 unavailable")
        record = {"token": token, "platform": platform, "title": title, "body": body, "data": data}
        with self._lock:
            self.sent.append(record)
            path = os.environ.get("PUSH_RECORD_FILE")
            if path:
                with Path(path).open("a") as file:
                    file.write(json.dumps(record) + "\n")
        return PushResult(ok=True)


class RecordingEmailBackend(BaseEmailBackend):
    """Records e-mails instead of sending them: appended as JSON lines to EMAIL_RECORD_FILE,
    so a test can read what a worker in another process sent."""

    _lock = threading.Lock()

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        with self._lock, Path(os.environ["EMAIL_RECORD_FILE"]).open("a") as file:
            for message in email_messages:
                file.write(json.dumps({"to": message.to, "subject": message.subject}) + "\n")
        return len(email_messages)
