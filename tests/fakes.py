"""Fakes for what is outside the machine, behind the same interface as the real thing."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, ClassVar

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
