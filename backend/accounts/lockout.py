"""Lockout after repeated failed sign-ins, keyed on the username and the client IP together.

The throttles (backend.accounts.throttles) limit the pace of attempts; the lockout stops a
slow guesser: LOGIN_LOCKOUT_ATTEMPTS failures for one username from one IP within
LOGIN_LOCKOUT_WINDOW lock that pair for LOGIN_LOCKOUT_COOL_OFF, even with the right password.
Only the pair: the account's owner signing in from elsewhere is not locked out by an attacker.
A successful sign-in clears the pair's failures. State lives in the cache (Redis in
production, core.E001): the failures are one counter per pair, incremented atomically (INCR in
Redis) so concurrent failures from many web processes are all counted; the window starts at
the first failure counted, whose expiry ends it. The lock's end is stored in its value.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from backend.accounts.throttles import submitted_username


class LoginLocked(Throttled):
    default_detail = "Too many failed sign-ins for this account from your network."
    default_code = "login_locked"
    extra_detail_singular = "Try again in {wait} second."
    extra_detail_plural = "Try again in {wait} seconds."


@dataclass(frozen=True)
class LoginAttempts:
    """The failed sign-ins of one username from one client IP."""

    username: str
    ip: str

    def _key(self, kind: str) -> str:
        digest = hashlib.sha256(f"{self.username}\n{self.ip}".encode()).hexdigest()
        return f"login-lockout:{kind}:{digest}"

    def locked_for(self) -> int:
        """Seconds until the pair may try again; 0 when it is not locked."""
        until = cache.get(self._key("until"))
        return max(0, math.ceil(until - time.time())) if until else 0

    def failed(self) -> None:
        failures = self._key("failures")
        window = math.ceil(settings.LOGIN_LOCKOUT_WINDOW.total_seconds())
        # add() starts a window only when none is open; incr() is one atomic step, so two
        # processes never both read 3 and write 4.
        cache.add(failures, 0, timeout=window)
        try:
            count = cache.incr(failures)
        except ValueError:  # the window ended between add() and incr(): this failure opens one
            cache.add(failures, 0, timeout=window)
            count = cache.incr(failures)
        if count == 1:
            # The first failure of the window sets its end, even if the key was recreated
            # without an expiry (Redis's INCR on a key that expired after Django's EXISTS).
            cache.touch(failures, timeout=window)
        if count >= settings.LOGIN_LOCKOUT_ATTEMPTS:
            cool_off = settings.LOGIN_LOCKOUT_COOL_OFF.total_seconds()
            cache.set(self._key("until"), time.time() + cool_off, timeout=int(cool_off) + 1)
            cache.delete(failures)

    def succeeded(self) -> None:
        cache.delete(self._key("failures"))


def login_attempts_of(request: Request) -> LoginAttempts | None:
    """None when the request names no username (the serializer refuses it anyway)."""
    username = submitted_username(request)
    if username is None:
        return None
    return LoginAttempts(username=username, ip=BaseThrottle().get_ident(request))
