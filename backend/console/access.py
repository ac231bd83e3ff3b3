"""Who may use the console: signed-in clinicians and organisation admins, nobody else.

Every console view is wrapped in `console_view`; the patient data each page shows is then
scoped by the same selectors as the API (`patients_visible_to(viewer)` and friends), so a
page never decides access on its own.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from backend.accounts.models import Role

CONSOLE_ROLES = frozenset({Role.PHYSIOTHERAPIST, Role.NURSE, Role.PHYSICIAN, Role.ORG_ADMIN})

View = Callable[..., HttpResponse]


def may_use_console(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role in CONSOLE_ROLES)


def console_view(view: View) -> View:
    """Sign-in required; patients and caregivers get a page pointing them to the app."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            login = redirect_to_login(request.get_full_path(), login_url="console:login")
            if getattr(request, "htmx", False):
                # A fragment request (the header's poll) after the session ended elsewhere:
                # move the whole page to the sign-in, not the sign-in into the fragment.
                response = HttpResponse(status=204)
                response["HX-Redirect"] = login["Location"]
                return response
            return login
        if not may_use_console(user):
            return render(request, "console/not_for_you.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped
