"""The console's session rules: automatic sign-out after inactivity (HIPAA automatic log-off)
and the second sign-in step (TOTP) before any page (of the admin too, which shares the session).

Both read and write only the session, which the request has loaded already for its user, so
they add no query to a page: the second-factor decision is made once, at sign-in
(`second_factor_at_sign_in`), and kept in the session until the code is given.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

LAST_SEEN = "console_last_seen"  # epoch seconds of the person's last request
SECOND_FACTOR = "console_second_factor"  # pending step after the password: ENROL or VERIFY
ENROL, VERIFY = "enrol", "verify"
# The last-seen time is written at most this often, so a page is not a session write each time
# (the sign-out comes at most this much later than the timeout).
LAST_SEEN_GRANULARITY = 60
# Requests the page makes by itself (the header's emergency count, every 30 s): they are not
# the person's activity, or an open tab would never sign out.
PASSIVE_VIEWS = frozenset({"emergency_count"})
# Pages a person with a pending second step may open: the steps themselves and the way out.
SECOND_FACTOR_STEPS = frozenset({"login", "logout", "totp_verify", "totp_enrol"})


@receiver(user_logged_in)
def second_factor_at_sign_in(sender: Any, request: HttpRequest | None, user: Any, **_: Any) -> None:
    """On every session sign-in: start the activity clock, and say which second step the
    person owes: the code of their confirmed device, or enrolling one when their organisation
    requires it."""
    if request is None or not hasattr(request, "session"):
        return
    request.session[LAST_SEEN] = int(time.time())
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        request.session[SECOND_FACTOR] = VERIFY
    elif user.organisation_id is not None and user.organisation.console_requires_totp:
        request.session[SECOND_FACTOR] = ENROL
    else:
        request.session.pop(SECOND_FACTOR, None)


def second_factor_done(request: HttpRequest) -> None:
    request.session.pop(SECOND_FACTOR, None)


def idle_timeout_minutes() -> int:
    return max(1, round(settings.CONSOLE_IDLE_TIMEOUT_SECONDS / 60))


class ConsoleSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        match = request.resolver_match
        if match is None or not request.user.is_authenticated:
            return None
        if match.namespace == "admin":
            # The admin shares the session: its own sign-in must not skip the second step.
            return None if match.url_name == "logout" else self._second_step(request, None)
        if match.namespace != "console":
            return None
        return self._signed_out_when_idle(request, match.url_name) or self._second_step(
            request, match.url_name
        )

    def _signed_out_when_idle(self, request: HttpRequest, name: str | None) -> HttpResponse | None:
        now = int(time.time())
        last_seen = request.session.get(LAST_SEEN)
        if isinstance(last_seen, int) and now - last_seen > settings.CONSOLE_IDLE_TIMEOUT_SECONDS:
            logout(request)
            messages.info(
                request,
                f"You were signed out after {idle_timeout_minutes()} minutes without "
                "activity. Sign in again to go on.",
            )
            login = redirect_to_login(request.get_full_path(), "console:login")
            if getattr(request, "htmx", False):  # a fragment request: move the whole page
                response = HttpResponse(status=204)
                response["HX-Redirect"] = login["Location"]
                return response
            return login
        if name not in PASSIVE_VIEWS and (
            not isinstance(last_seen, int) or now - last_seen >= LAST_SEEN_GRANULARITY
        ):
            request.session[LAST_SEEN] = now
        return None

    def _second_step(self, request: HttpRequest, name: str | None) -> HttpResponse | None:
        pending = request.session.get(SECOND_FACTOR)
        if pending not in (ENROL, VERIFY) or name in SECOND_FACTOR_STEPS:
            return None
        step = reverse("console:totp_verify" if pending == VERIFY else "console:totp_enrol")
        return HttpResponseRedirect(f"{step}?{urlencode({'next': request.get_full_path()})}")
