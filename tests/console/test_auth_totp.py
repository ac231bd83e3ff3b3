"""The second sign-in step: enrolling an authenticator app (required when the organisation
says so) and giving its code at each sign-in, with real codes computed from the device's key."""

from __future__ import annotations

import re
from base64 import b32encode
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from backend.accounts.models import User
from tests.conftest import World
from tests.factories import TEST_PASSWORD

LOGIN = "/console/login/"
HOME = "/console/"
ENROL = "/console/security/two-step/"
VERIFY = "/console/login/code/"


def code_of(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def sign_in(client: Client, user: User, next_page: str = "") -> None:
    response = client.post(
        LOGIN, {"username": user.username, "password": TEST_PASSWORD, "next": next_page}
    )
    assert response.status_code == 302, response.content.decode()


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


@pytest.fixture
def required(world: World) -> World:
    world.org.console_requires_totp = True
    world.org.save()
    return world


@pytest.mark.django_db
def test_without_a_device_or_a_requirement_there_is_no_second_step(world: World):
    client = Client()
    sign_in(client, world.physio)

    assert client.get(HOME).status_code == 200


@pytest.mark.django_db
def test_when_the_organisation_requires_it_a_clinician_enrols_before_any_page(required, clock):
    client = Client()
    sign_in(client, required.physio, next_page="/console/?urgency=emergency")

    # every page sends them to enrol first, keeping where they were going
    held = client.get("/console/?urgency=emergency")
    assert held.status_code == 302
    assert held["Location"].startswith(ENROL)
    assert client.get("/console/patients/")["Location"].startswith(ENROL)
    page = client.get(held["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html
    assert "QR code to scan" in html
    assert "style=" not in html  # the CSP forbids inline styles; the QR code has none
    device = TOTPDevice.objects.get(user=required.physio, confirmed=False)
    shown = re.search(r'class="secret">([^<]+)<', html)
    assert shown is not None
    assert shown.group(1).replace(" ", "") == b32encode(device.bin_key).decode()  # typed by hand

    # a wrong code is refused with a clear message
    wrong_code = "000000" if code_of(device) != "000000" else "111111"
    wrong = client.post(held["Location"], {"code": wrong_code})
    assert wrong.status_code == 400
    assert "That code is not right" in wrong.content.decode()

    # the code the app shows confirms the device and opens the console
    clock.shift(timedelta(seconds=31))  # a new time step: no throttle delay from the miss
    done = client.post(
        held["Location"], {"code": code_of(device), "next": "/console/?urgency=emergency"}
    )
    assert done.status_code == 302
    assert done["Location"] == "/console/?urgency=emergency"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(HOME).status_code == 200


@pytest.mark.django_db
def test_with_a_confirmed_device_each_sign_in_asks_for_its_code(world: World, clock):
    device = TOTPDevice.objects.create(user=world.nurse, name="phone", confirmed=True)
    client = Client()
    sign_in(client, world.nurse)

    held = client.get(HOME)
    assert held.status_code == 302
    assert held["Location"].startswith(VERIFY)
    assert "Sign out" in client.get(held["Location"]).content.decode()  # a way out remains

    refused = client.post(VERIFY, {"code": "12345x"})
    assert refused.status_code == 400
    assert client.get(HOME).status_code == 302

    clock.shift(timedelta(seconds=31))
    accepted = client.post(VERIFY, {"code": code_of(device), "next": HOME})
    assert accepted.status_code == 302
    assert accepted["Location"] == HOME
    assert client.get(HOME).status_code == 200


@pytest.mark.django_db
def test_a_code_is_good_once(world: World, clock):
    device = TOTPDevice.objects.create(user=world.nurse, name="phone", confirmed=True)
    first, second = Client(), Client()
    sign_in(first, world.nurse)
    sign_in(second, world.nurse)
    code = code_of(device)

    assert first.post(VERIFY, {"code": code}).status_code == 302
    assert second.post(VERIFY, {"code": code}).status_code == 400  # replayed within its step


@pytest.mark.django_db
def test_a_clinician_may_turn_two_step_sign_in_on_without_a_requirement(world: World, clock):
    client = Client()
    sign_in(client, world.physio)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=world.physio)

    client.post(ENROL, {"code": code_of(device)})
    clock.shift(timedelta(seconds=31))
    client.post("/console/logout/")
    sign_in(client, world.physio)

    assert client.get(HOME)["Location"].startswith(VERIFY)
    clock.shift(timedelta(seconds=31))
    client.post(VERIFY, {"code": code_of(device)})
    assert "Two-step sign-in is on for your account" in client.get(ENROL).content.decode()


@pytest.mark.django_db
def test_the_admin_sign_in_does_not_skip_the_second_step(world: World):
    TOTPDevice.objects.create(user=world.org_admin, name="phone", confirmed=True)
    client = Client()

    signed_in = client.post(
        "/admin/login/", {"username": world.org_admin.username, "password": TEST_PASSWORD}
    )
    held = client.get("/admin/accounts/organisation/")

    assert signed_in.status_code == 302
    assert held.status_code == 302
    assert held["Location"].startswith(VERIFY)
