"""Login and activation throttles: per submitted username and per client IP, separately,
so one attacker cannot try many passwords for one account nor many accounts from one IP."""

from __future__ import annotations

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
    scope = "login_username"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        username = submitted_username(request)
        if username is None:
            return None  # nothing to key on; the IP throttle still applies
        return self.cache_format % {"scope": self.scope, "ident": username}
