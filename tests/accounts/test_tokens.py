"""Refresh tokens: rotation and logout really revoke them, and misconfiguration is caught."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings
from rest_framework_simplejwt.settings import api_settings

from backend.accounts.checks import token_revocation_check
from tests.factories import TEST_PASSWORD, UserFactory

TOKEN_URL = "/api/v1/auth/token/"
REFRESH_URL = "/api/v1/auth/token/refresh/"
LOGOUT_URL = "/api/v1/auth/logout/"


def _pair(client: Any) -> dict[str, str]:
    user = UserFactory.create()
    response = client.post(TOKEN_URL, {"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 200
    return response.json()


def test_the_settings_rotate_and_blacklist_refresh_tokens():
    assert api_settings.ROTATE_REFRESH_TOKENS is True
    assert api_settings.BLACKLIST_AFTER_ROTATION is True
    assert "rest_framework_simplejwt.token_blacklist" in settings.INSTALLED_APPS
    assert token_revocation_check() == []


@pytest.mark.parametrize("name", ["ROTATE_REFRESH_TOKENS", "BLACKLIST_AFTER_ROTATION"])
def test_start_up_refuses_settings_that_would_stop_revocation(name):
    with override_settings(SIMPLE_JWT={**settings.SIMPLE_JWT, name: False}):
        errors = token_revocation_check()
        with pytest.raises(SystemCheckError, match=name):
            call_command("check")

    assert [error.id for error in errors] == ["accounts.E002"]


@pytest.mark.django_db
def test_an_old_refresh_token_after_rotation_is_401_even_once_the_new_one_is_used(api_client):
    first = _pair(api_client)
    second = api_client.post(REFRESH_URL, {"refresh": first["refresh"]}).json()
    third = api_client.post(REFRESH_URL, {"refresh": second["refresh"]})

    replay_first = api_client.post(REFRESH_URL, {"refresh": first["refresh"]})
    replay_second = api_client.post(REFRESH_URL, {"refresh": second["refresh"]})

    assert third.status_code == 200
    assert replay_first.status_code == 401
    assert replay_second.status_code == 401
    assert replay_second.json()["code"] == "token_not_valid"


@pytest.mark.django_db
def test_a_refresh_token_is_401_after_logout_and_cannot_be_rotated_first(api_client):
    pair = _pair(api_client)
    assert api_client.post(LOGOUT_URL, {"refresh": pair["refresh"]}).status_code == 204

    refreshed = api_client.post(REFRESH_URL, {"refresh": pair["refresh"]})

    assert refreshed.status_code == 401
    assert refreshed.json()["code"] == "token_not_valid"


@pytest.mark.django_db
def test_token_refresh_is_throttled_per_ip(api_client):
    statuses = [
        api_client.post(REFRESH_URL, {"refresh": f"garbage-{n}"}).status_code for n in range(31)
    ]

    assert statuses[:30] == [401] * 30
    assert statuses[30] == 429


@pytest.mark.django_db
def test_logout_shares_the_refresh_throttle(api_client):
    for n in range(30):
        api_client.post(REFRESH_URL, {"refresh": f"garbage-{n}"})

    assert api_client.post(LOGOUT_URL, {"refresh": "garbage"}).status_code == 429


@pytest.mark.django_db
def test_a_password_change_or_admin_reset_ends_existing_sessions(api_client):
    """Finding 7 of [2/5]: an admin reset left the old access and refresh tokens working."""
    from datetime import timedelta

    import time_machine
    from django.test import Client
    from django.utils import timezone
    from rest_framework.test import APIClient

    new_password = "a-new-horse-battery-42"
    with time_machine.travel(timezone.now(), tick=False) as clock:
        # Given a patient signed in on their phone
        patient = UserFactory.create()
        phone = api_client.post(
            TOKEN_URL, {"username": patient.username, "password": TEST_PASSWORD}
        ).json()
        clock.shift(timedelta(minutes=1))

        # When a platform superuser resets the password in the admin
        root = UserFactory.create(role="", organisation=None, is_staff=True, is_superuser=True)
        admin = Client()
        admin.force_login(root)
        reset = admin.post(
            f"/admin/accounts/user/{patient.pk}/password/",
            {"password1": new_password, "password2": new_password},
        )

        # Then the old access token and the old refresh token are refused, and the new
        # password opens a new session
        assert reset.status_code == 302, reset.content.decode()[:2000]
        old = APIClient()
        old.credentials(HTTP_AUTHORIZATION=f"Bearer {phone['access']}")
        stale = old.get("/api/v1/me/")
        assert stale.status_code == 401
        assert stale.json()["code"] == "password_changed"
        refreshed = APIClient().post(REFRESH_URL, {"refresh": phone["refresh"]})
        assert refreshed.status_code == 401
        fresh = APIClient().post(
            TOKEN_URL, {"username": patient.username, "password": new_password}
        )
        assert fresh.status_code == 200
        new = APIClient()
        new.credentials(HTTP_AUTHORIZATION=f"Bearer {fresh.json()['access']}")
        assert new.get("/api/v1/me/").status_code == 200
