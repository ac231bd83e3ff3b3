"""Per-user budgets for writes: a patient's or caregiver's token looping uploads must not
flood the database, the care team or the queues (finding 4 of the second trust review).

Two budgets, keyed by user id, rates from the environment (config/settings.py):
- `writes` (THROTTLE_WRITES, 120/min): one log, symptom report, correction, assessment,
  device; a phone does a handful a day, a busy clinician's screen a few a minute;
- `sync` (THROTTLE_SYNC, 20/min): batches of up to 100 offline logs; a phone back online
  after a week sends one (a few if it has more than 100), and retries.
Reads are never counted. A write that carries symptoms is still counted, but its symptoms are
stored and alerted before it is answered 429 (see `SymptomSafeThrottling`): a reported
symptom is never lost (shared/DOMAIN.md 7).

When the cache (Redis in production) cannot be reached the request goes through uncounted:
unlike sign-in, refusing writes would refuse red flags, and the database still answers.
"""

from __future__ import annotations

import logging
from typing import Any, NoReturn

from rest_framework.exceptions import Throttled
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from backend.core.middleware import CacheUnavailable

logger = logging.getLogger(__name__)


class _UserWriteThrottle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        # Read at each request (DRF binds the rates at import), so an override applies.
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(str(self.scope))
        return str(rate) if rate is not None else None

    def applies_to(self, method: str) -> bool:
        return method not in SAFE_METHODS

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None  # refused by authentication anyway
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}

    def allow_request(self, request: Request, view: APIView) -> bool:
        if not self.applies_to(request.method or ""):
            return True
        try:
            return super().allow_request(request, view)
        except CacheUnavailable as error:
            logger.warning("write throttle not applied, cache unavailable: %s", error)
            return True


class WriteThrottle(_UserWriteThrottle):
    scope = "writes"


class SyncThrottle(_UserWriteThrottle):
    scope = "sync"


class ThrottledWithSymptoms(Throttled):
    """A 429 whose body also carries what the request's symptoms stored and the safety
    message the app must show (rendered by backend.core.exceptions)."""

    def __init__(self, wait: float | None, extra_body: dict[str, Any]) -> None:
        super().__init__(wait)
        self.extra_body = extra_body


# No docstring: drf-spectacular would show it as the description of the views' operations.
class SymptomSafeThrottling:
    # For views whose writes may carry symptoms: when a write is throttled, the view's
    # `symptoms_when_throttled` stores and alerts them first (in their own transaction), and
    # the 429 carries `safety_message` and the report ids. The log or change itself is not
    # stored: the phone retries after Retry-After with the same client_id, and the reports
    # already stored for that log are not stored or alerted again.

    def symptoms_when_throttled(self, request: Request) -> dict[str, Any]:
        raise NotImplementedError

    def throttled(self, request: Request, wait: float) -> NoReturn:
        raise ThrottledWithSymptoms(wait, self.symptoms_when_throttled(request))
