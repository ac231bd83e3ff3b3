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


class LoginUsernameThrottle(SimpleRateThrottle):
    scope = "login_username"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        data = request.data if isinstance(request.data, dict) else {}
        username = data.get("username")
        if isinstance(username, int | float) and not isinstance(username, bool):
            username = str(username)  # the serializer accepts numbers as usernames too
        if not isinstance(username, str) or not username.strip():
            return None  # nothing to key on; the IP throttle still applies
        return self.cache_format % {"scope": self.scope, "ident": username.strip().lower()}
