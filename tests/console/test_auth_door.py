"""The console's door without a browser: who is refused at the sign-in form, the API's
throttles and lockout shared with it, automatic sign-out after inactivity, the CSP header and
CSRF on every form."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from backend.accounts.throttles import LoginIpThrottle
from backend.audit.models import AccessEvent
from tests.conftest import World
from tests.factories import TEST_PASSWORD, ClinicianFactory, UserFactory

LOGIN = "/console/login/"
HOME = "/console/"
BADGE = "/console/alerts/emergencies/"
APP_POINTER = "use the PhysioTrack mobile app"


def sign_in(client: Client, username: str, password: str = TEST_PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


# --- Who is refused -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_physiotherapist_signs_in_and_is_sent_to_today(world: World):
    client = Client()

    response = sign_in(client, world.physio.username)

    assert response.status_code == 302
    assert response["Location"] == HOME
    assert client.get(HOME).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["patient", "caregiver"])
def test_patients_and_caregivers_are_refused_at_the_form_and_pointed_to_the_app(world, who):
    user = world.patient.user if who == "patient" else world.caregiver
    client = Client()

    response = sign_in(client, user.username)

    assert response.status_code == 200
    assert APP_POINTER in response.content.decode()
    assert not signed_in(client)


@pytest.mark.django_db
def test_an_inactive_account_is_refused_like_a_wrong_password(world: World):
    world.nurse.is_active = False
    world.nurse.deactivated_at = timezone.now()
    world.nurse.save()
    client = Client()

    response = sign_in(client, world.nurse.username)

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert not signed_in(client)


@pytest.mark.django_db
def test_five_wrong_passwords_lock_the_console_and_the_api_even_for_the_right_one(clock):
    physio = ClinicianFactory.create()
    client = Client()
    for attempt in range(5):
        wrong = sign_in(client, physio.username, f"wrong-{attempt}")
        assert wrong.status_code == 200
        assert "Please enter a correct username and password" in wrong.content.decode()
        clock.shift(timedelta(seconds=20))  # slower than the per-username throttle (5/min)

    locked = sign_in(client, physio.username)
    api = APIClient().post(
        "/api/v1/auth/token/",
        {"username": physio.username, "password": TEST_PASSWORD},
        format="json",
    )

    assert locked.status_code == 429
    assert "Too many failed sign-ins for this account from your network" in locked.content.decode()
    assert not signed_in(client)
    assert api.status_code == 429  # one lockout for both doors
    clock.shift(timedelta(minutes=16))
    assert sign_in(client, physio.username).status_code == 302


@pytest.mark.django_db
def test_failures_counted_by_the_api_lock_the_console_too(clock):
    physio = ClinicianFactory.create()
    api = APIClient()
    for attempt in range(5):
        api.post(
            "/api/v1/auth/token/",
            {"username": physio.username, "password": f"wrong-{attempt}"},
            format="json",
        )
        clock.shift(timedelta(seconds=20))

    assert sign_in(Client(), physio.username).status_code == 429


@pytest.mark.django_db
def test_the_per_ip_throttle_of_the_api_paces_console_attempts(monkeypatch):
    # DRF reads the rates into the class when it is imported: the test lowers them there.
    rates = {**LoginIpThrottle.THROTTLE_RATES, "login_ip": "3/min"}
    monkeypatch.setattr(LoginIpThrottle, "THROTTLE_RATES", rates)
    users = UserFactory.create_batch(4, role="physiotherapist")

    statuses = [sign_in(Client(), u.username, "wrong").status_code for u in users]

    assert statuses == [200, 200, 200, 429]


# --- Automatic sign-out after inactivity -----------------------------------------------------


@pytest.mark.django_db
def test_thirty_minutes_without_a_request_sign_the_person_out(world: World, clock):
    client = Client()
    sign_in(client, world.physio.username)

    clock.shift(timedelta(minutes=29))
    assert client.get(HOME).status_code == 200  # activity: the clock starts again
    clock.shift(timedelta(minutes=29))
    assert client.get(HOME).status_code == 200
    clock.shift(timedelta(minutes=31))
    expired = client.get(HOME)

    assert expired.status_code == 302
    assert expired["Location"].startswith(LOGIN)
    assert not signed_in(client)
    page = client.get(expired["Location"])
    assert "signed out after 30 minutes without activity" in page.content.decode()


@pytest.mark.django_db
def test_the_polled_emergency_count_is_not_activity(world: World, clock):
    client = Client()
    sign_in(client, world.physio.username)

    polls = []
    for _ in range(70):  # 35 minutes of an open tab polling every 30 s
        clock.shift(timedelta(seconds=30))
        polled = client.get(BADGE, HTTP_HX_REQUEST="true")
        polls.append(polled.status_code)
        if polled.status_code != 200:
            break

    assert len(polls) == 61  # the first poll past 30 minutes signs out
    assert polled.status_code == 204
    assert polled["HX-Redirect"].startswith(LOGIN)  # htmx moves the page to the sign-in
    assert not signed_in(client)


@pytest.mark.django_db
def test_a_poll_after_signing_out_elsewhere_moves_the_page_to_the_sign_in(world: World):
    client = Client()
    sign_in(client, world.physio.username)
    client.post("/console/logout/")  # e.g. in another tab

    polled = client.get(BADGE, HTTP_HX_REQUEST="true")

    assert polled.status_code == 204
    assert polled["HX-Redirect"].startswith(LOGIN)  # not the sign-in page inside the badge


@pytest.mark.django_db
def test_the_idle_timeout_is_a_setting(world: World, clock, settings):
    settings.CONSOLE_IDLE_TIMEOUT_SECONDS = 5 * 60
    client = Client()
    sign_in(client, world.physio.username)

    clock.shift(timedelta(minutes=6))

    assert client.get(HOME).status_code == 302
    assert not signed_in(client)


# --- Headers and forms ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", [LOGIN, HOME, BADGE])
def test_console_pages_carry_the_strict_content_security_policy(world: World, path):
    client = Client()
    client.force_login(world.physio)

    policy = client.get(path)["Content-Security-Policy"]

    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["img-src"] == "'self' data:"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert directives["base-uri"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe" not in policy


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_api_docs_with_their_inline_scripts_still_load(path):
    response = Client().get(path)

    assert response.status_code == 200
    assert "Content-Security-Policy" not in response


@pytest.mark.django_db
def test_a_post_without_the_csrf_token_is_refused(world: World):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.physio)

    refused = client.post("/console/logout/")
    login = Client(enforce_csrf_checks=True).post(
        LOGIN, {"username": world.physio.username, "password": TEST_PASSWORD}
    )

    assert refused.status_code == 403
    assert login.status_code == 403
    assert signed_in(client)


@pytest.mark.django_db
def test_signing_in_reads_no_patient_record(world: World):
    sign_in(Client(), world.physio.username)

    assert not AccessEvent.objects.exists()
