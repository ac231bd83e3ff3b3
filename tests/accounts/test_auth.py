"""Sign-in for the mobile app: JWT pairs, rotation, logout and throttling."""

from __future__ import annotations

import pytest

from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
REFRESH_URL = "/api/v1/auth/token/refresh/"
LOGOUT_URL = "/api/v1/auth/logout/"


def _login(api_client, username: str, password: str = TEST_PASSWORD):
    return api_client.post(TOKEN_URL, {"username": username, "password": password}, format="json")


def test_login_returns_a_token_pair_that_opens_the_api(api_client):
    user = UserFactory.create()

    response = _login(api_client, user.username)

    assert response.status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    me = api_client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["username"] == user.username


def test_wrong_password_is_401_in_the_error_shape(api_client):
    user = UserFactory.create()

    response = _login(api_client, user.username, "not-the-password")

    assert response.status_code == 401
    body = response.json()
    assert body["status"] == 401
    assert body["detail"]
    assert body["request_id"] == response["X-Request-ID"]


def test_a_not_yet_activated_account_cannot_sign_in(api_client):
    user = UserFactory.create(is_active=False)

    assert _login(api_client, user.username).status_code == 401


def test_refresh_rotates_and_the_old_refresh_token_stops_working(api_client):
    user = UserFactory.create()
    first = _login(api_client, user.username).json()

    rotated = api_client.post(REFRESH_URL, {"refresh": first["refresh"]}, format="json")
    replayed = api_client.post(REFRESH_URL, {"refresh": first["refresh"]}, format="json")

    assert rotated.status_code == 200
    assert rotated.json()["refresh"] != first["refresh"]
    assert replayed.status_code == 401
    again = api_client.post(REFRESH_URL, {"refresh": rotated.json()["refresh"]}, format="json")
    assert again.status_code == 200


def test_logout_blacklists_the_refresh_token(api_client):
    user = UserFactory.create()
    pair = _login(api_client, user.username).json()

    logout = api_client.post(LOGOUT_URL, {"refresh": pair["refresh"]}, format="json")
    refresh = api_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json")
    logout_again = api_client.post(LOGOUT_URL, {"refresh": pair["refresh"]}, format="json")

    assert logout.status_code == 204
    assert refresh.status_code == 401
    assert logout_again.status_code == 401


def test_logout_with_garbage_is_401_not_500(api_client):
    response = api_client.post(LOGOUT_URL, {"refresh": "not-a-token"}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_login_is_throttled_per_username(api_client):
    user = UserFactory.create()
    statuses = [
        _login(api_client, user.username, f"wrong-{attempt}").status_code for attempt in range(6)
    ]

    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    # Even the right password waits out the limit: the throttle is not a hint about it.
    throttled = _login(api_client, user.username)
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0
    assert throttled.json()["code"] == "throttled"


def test_login_is_throttled_per_ip_across_usernames(api_client):
    statuses = [_login(api_client, f"nobody{n}", "x").status_code for n in range(21)]

    assert statuses[:20] == [401] * 20
    assert statuses[20] == 429


def test_the_username_throttle_does_not_lock_out_other_ips_per_username(api_client):
    """A different IP trying another account is not blocked by the first account's limit."""
    victim, other = UserFactory.create(), UserFactory.create()
    for attempt in range(6):
        _login(api_client, victim.username, f"wrong-{attempt}")

    response = api_client.post(
        TOKEN_URL,
        {"username": other.username, "password": TEST_PASSWORD},
        format="json",
        REMOTE_ADDR="10.9.8.7",
    )

    assert response.status_code == 200
