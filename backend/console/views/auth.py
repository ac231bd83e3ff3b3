"""Signing in to the console: password with the API's throttles and lockout, then, where the
person has a device or their organisation requires one, a code from an authenticator app."""

from __future__ import annotations

from base64 import b32encode
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.exceptions import Throttled
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.views import APIView

from backend.accounts.lockout import LoginLocked, login_attempts_of
from backend.accounts.models import User
from backend.accounts.throttles import LoginIpThrottle, LoginUsernameThrottle
from backend.console.access import console_view
from backend.console.middleware import SECOND_FACTOR, VERIFY, second_factor_done
from backend.console.views.auth_forms import ConsoleSignInForm, SecondFactorForm

# The throttles take the API view they guard; they key on the request alone.
_SIGN_IN = APIView()
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


class ConsoleLoginView(LoginView):
    """Django's LoginView behind the API's door rules: the same per-IP throttle, the same
    per-username throttle of failures and the same lockout (backend.accounts.lockout), on
    the same cache keys, so five wrong passwords lock the pair for the API and the console."""

    template_name = "console/auth/login.html"
    authentication_form = ConsoleSignInForm

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.content_type not in FORM_TYPES:  # the throttles read the form's username
            return HttpResponse("Send the sign-in form.", status=415, content_type="text/plain")
        api_request = Request(request, parsers=[FormParser(), MultiPartParser()])
        attempts = login_attempts_of(api_request)
        if attempts is not None and (wait := attempts.locked_for()):
            return self._refused(LoginLocked(wait=wait))  # even the right password waits
        for throttle in (LoginIpThrottle(), LoginUsernameThrottle()):
            if not throttle.allow_request(api_request, _SIGN_IN):
                return self._refused(
                    Throttled(
                        wait=throttle.wait(),
                        detail="Too many sign-in attempts from your network.",
                    )
                )
        form = self.get_form()
        if form.is_valid():
            if attempts is not None:
                attempts.succeeded()
            return self.form_valid(form)
        if isinstance(form, ConsoleSignInForm) and form.password_was_wrong():
            LoginUsernameThrottle().failed(api_request, _SIGN_IN)
            if attempts is not None:
                attempts.failed()
        return self.form_invalid(form)

    def _refused(self, error: Throttled) -> HttpResponse:
        username = self.request.POST.get("username", "")
        form = ConsoleSignInForm(self.request, initial={"username": username})
        context = self.get_context_data(form=form, refusal=str(error.detail))
        return self.render_to_response(context, status=429)


def _next_url(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return resolve_url("console:home")


def _signed_in_user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101  # console_view lets only signed-in users in
    return user


@console_view
def totp_verify(request: HttpRequest) -> HttpResponse:
    """The second step for a person with a confirmed device: the code their app shows."""
    user = _signed_in_user(request)
    if request.session.get(SECOND_FACTOR) != VERIFY:
        return HttpResponseRedirect(_next_url(request))
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        for device in TOTPDevice.objects.devices_for_user(user, confirmed=True):
            if device.verify_token(form.cleaned_data["code"]):
                otp_login(request, device)
                second_factor_done(request)
                return HttpResponseRedirect(_next_url(request))
        form.add_error(
            "code",
            "That code is not right, or has expired. Type the code your app shows now "
            "(after several wrong codes, each try waits a little longer).",
        )
    return render(
        request,
        "console/auth/totp_verify.html",
        {"form": form, "next": _next_url(request)},
        status=200 if not form.errors else 400,
    )


def _qr_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// URL as an inline SVG (segno's paths: no style attributes)."""
    return segno.make(device.config_url, error="m").svg_inline(
        scale=5, title="QR code to scan with your authenticator app", svgclass="qr"
    )


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@console_view
def totp_enrol(request: HttpRequest) -> HttpResponse:
    """Turning on two-step sign-in: scan the QR code (or type the key), confirm one code.
    Required before any page when the organisation says so; open to anyone otherwise."""
    user = _signed_in_user(request)
    confirmed = TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()
    if confirmed:
        return render(
            request, "console/auth/totp_enrol.html", {"confirmed": True, "nav": "security"}
        )
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by(
        "-id"
    ).first() or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            otp_login(request, device)
            second_factor_done(request)
            messages.success(request, "Two-step sign-in is on: each sign-in now asks for a code.")
            return HttpResponseRedirect(_next_url(request))
        form.add_error("code", "That code is not right, or has expired. Type the code shown now.")
    return render(
        request,
        "console/auth/totp_enrol.html",
        {
            "form": form,
            "qr": _qr_svg(device),
            "secret": _grouped(b32encode(device.bin_key).decode()),
            "next": _next_url(request),
            "nav": "security",
        },
        status=200 if not form.errors else 400,
    )
