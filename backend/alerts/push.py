"""Push senders behind one interface. Development logs to the console; production uses
Firebase Cloud Messaging HTTP v1 (Android and, through APNs, iOS); tests use a recording fake."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PushResult:
    ok: bool
    invalid_token: bool = False  # the service says this token will never work again
    transient: bool = False  # worth retrying later
    error: str = ""


class PushSender(Protocol):
    def send(
        self, *, token: str, platform: str, title: str, body: str, data: dict[str, str]
    ) -> PushResult: ...


class ConsoleSender:
    """Logs that a push would be sent, never what it says: titles and bodies carry symptoms
    and alerts, and logs are kept and read far more widely than health records. The fallback
    when no push service is configured; production refuses it unless PUSH_SENDER names it
    (system check alerts.E001)."""

    def send(
        self, *, token: str, platform: str, title: str, body: str, data: dict[str, str]
    ) -> PushResult:
        logger.info(
            "push to %s… (%s): title and body withheld (%d characters), data keys %s",
            token[:6],
            platform,
            len(title) + len(body),
            json.dumps(sorted(data)),
        )
        return PushResult(ok=True)


class FcmSender:
    """Firebase Cloud Messaging HTTP v1, authenticated with a service account
    (FCM_PROJECT_ID, FCM_CREDENTIALS_FILE)."""

    SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
    TIMEOUT_SECONDS = 10

    def __init__(self) -> None:
        from google.oauth2 import service_account

        self.project_id = settings.FCM_PROJECT_ID
        self.credentials = service_account.Credentials.from_service_account_file(
            settings.FCM_CREDENTIALS_FILE, scopes=[self.SCOPE]
        )

    def _token(self) -> str:
        from google.auth.transport.requests import Request

        if not self.credentials.valid:
            self.credentials.refresh(Request())
        return str(self.credentials.token)

    def send(
        self, *, token: str, platform: str, title: str, body: str, data: dict[str, str]
    ) -> PushResult:
        import requests

        url = f"https://fcm.googleapis.com/v1/projects/{self.project_id}/messages:send"
        message: dict[str, Any] = {
            "token": token,
            "notification": {"title": title, "body": body},
            "data": data,
        }
        try:
            response = requests.post(
                url,
                json={"message": message},
                headers={"Authorization": f"Bearer {self._token()}"},
                timeout=self.TIMEOUT_SECONDS,
            )
        except requests.RequestException as error:
            return PushResult(ok=False, transient=True, error=str(error)[:300])
        return self.result_of(response.status_code, response.text)

    @staticmethod
    def result_of(status: int, text: str) -> PushResult:
        """Maps FCM's answer: 404 UNREGISTERED and INVALID_ARGUMENT about the token mean the
        token is dead; 429 and 5xx are worth a retry; anything else is a permanent failure."""
        if status == 200:
            return PushResult(ok=True)
        if (
            status == 404
            or "UNREGISTERED" in text
            or (status == 400 and "registration token" in text.lower())
        ):
            return PushResult(ok=False, invalid_token=True, error=text[:300])
        if status == 429 or status >= 500:
            return PushResult(ok=False, transient=True, error=f"{status}: {text[:280]}")
        return PushResult(ok=False, error=f"{status}: {text[:280]}")


@cache
def push_sender() -> PushSender:
    sender: PushSender = import_string(settings.PUSH_SENDER)()
    return sender
