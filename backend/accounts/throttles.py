"""Login and activation throttles: failed sign-ins per submitted username and client IP, and
all attempts per client IP, so one attacker can try neither many passwords for one account nor
many accounts from one IP, and nobody can hold back an account's owner from elsewhere."""

from __future__ import annotations

import hashlib

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView


class _IpThrottle(SimpleRateThrottle):
    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginIpThrottle(_IpThrottle):
    scope = "login_ip"


class ActivationIpThrottle(_IpThrottle):
    scope = "activation_ip"


class TokenRefreshIpThrottle(_IpThrottle):
    scope = "token_refresh"


def submitted_username(request: Request) -> str | None:
    """The username a sign-in names, as the throttle and the lockout key it; None if none."""
    data = request.data if isinstance(request.data, dict) else {}
    username = data.get("username")
    if isinstance(username, int | float) and not isinstance(username, bool):
        username = str(username)  # the serializer accepts numbers as usernames too
    if not isinstance(username, str) or not username.strip():
        return None
    return username.strip().lower()


class LoginUsernameThrottle(SimpleRateThrottle):
    """Paces password guessing for one username from one client IP: only failed sign-ins
    count (the view calls `failed()`), and only from the IP that made them. Counting every
    attempt from anywhere let anyone who knew a username keep its owner at 429."""

    scope = "login_username"
    num_requests: int  # set from the rate by SimpleRateThrottle (absent from its stubs)
    duration: int

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        username = submitted_username(request)
        if username is None:
            return None  # nothing to key on; the IP throttle still applies
        pair = f"{username}\n{self.get_ident(request)}"  # hashed: a username may hold anything
        ident = hashlib.sha256(pair.encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request: Request, view: APIView) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            return self.throttle_failure()
        return True  # an attempt is counted only once it has failed

    def failed(self, request: Request, view: APIView) -> None:
        """Counts one failed sign-in of the request's username from its IP."""
        if self.rate is None or (key := self.get_cache_key(request, view)) is None:
            return
        now = self.timer()
        history = [at for at in self.cache.get(key, []) if at > now - self.duration]
        history.insert(0, now)
        self.cache.set(key, history, self.duration)
