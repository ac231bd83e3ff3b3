"""Lockout: repeated failed sign-ins lock one username from one IP for a cool-off."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
HOME_IP = "10.1.1.1"
ATTACKER_IP = "10.6.6.6"


def login(client, username: str, password: str = TEST_PASSWORD, ip: str = ATTACKER_IP):
    return client.post(
        TOKEN_URL, {"username": username, "password": password}, format="json", REMOTE_ADDR=ip
    )


@pytest.fixture
def clock():
    """Frozen time that the test moves on; DRF's throttle clock moves with it."""
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def fail(client, username: str, times: int, clock, ip: str = ATTACKER_IP) -> list[int]:
    """Wrong passwords, 20 s apart so the per-username throttle (5/min) is not what stops them."""
    statuses = []
    for attempt in range(times):
        statuses.append(login(client, username, f"wrong-{attempt}", ip).status_code)
        clock.shift(timedelta(seconds=20))
    return statuses


def test_five_failures_lock_the_pair_even_for_the_right_password(api_client, clock):
    user = UserFactory.create()

    assert fail(api_client, user.username, 5, clock) == [401] * 5
    locked = login(api_client, user.username)

    assert locked.status_code == 429
    body = locked.json()
    assert body["code"] == "login_locked"
    assert "Too many failed sign-ins" in body["detail"]
    assert 14 * 60 < int(locked["Retry-After"]) <= 15 * 60


def test_the_owner_signs_in_from_another_ip_while_the_attacker_is_locked(api_client, clock):
    user = UserFactory.create()
    fail(api_client, user.username, 5, clock)

    from_home = login(api_client, user.username, ip=HOME_IP)
    from_attacker = login(api_client, user.username)

    assert from_home.status_code == 200
    assert from_attacker.status_code == 429


def test_the_lock_lifts_after_the_cool_off(api_client, clock):
    user = UserFactory.create()
    fail(api_client, user.username, 5, clock)

    clock.shift(timedelta(minutes=14))
    still_locked = login(api_client, user.username)
    clock.shift(timedelta(minutes=1, seconds=1))
    after = login(api_client, user.username)

    assert still_locked.status_code == 429
    assert after.status_code == 200


def test_a_success_resets_the_count(api_client, clock):
    user = UserFactory.create()
    fail(api_client, user.username, 4, clock)
    assert login(api_client, user.username).status_code == 200
    clock.shift(timedelta(minutes=1))

    assert fail(api_client, user.username, 4, clock) == [401] * 4
    assert login(api_client, user.username).status_code == 200


def test_failures_older_than_the_window_do_not_count(api_client, clock):
    user = UserFactory.create()
    fail(api_client, user.username, 4, clock)
    clock.shift(timedelta(minutes=16))

    fail(api_client, user.username, 1, clock)

    assert login(api_client, user.username).status_code == 200


def test_another_username_from_the_locked_ip_is_not_locked(api_client, clock):
    victim, other = UserFactory.create(), UserFactory.create()
    fail(api_client, victim.username, 5, clock)

    assert login(api_client, other.username).status_code == 200


def test_the_username_is_matched_whatever_its_case(api_client, clock):
    UserFactory.create(username="amelia.k")
    fail(api_client, "AMELIA.K", 5, clock)

    assert login(api_client, "amelia.k").status_code == 429


def test_the_threshold_and_cool_off_come_from_settings(api_client, clock, settings):
    settings.LOGIN_LOCKOUT_ATTEMPTS = 2
    settings.LOGIN_LOCKOUT_COOL_OFF = timedelta(minutes=1)
    user = UserFactory.create()

    fail(api_client, user.username, 2, clock)
    locked = login(api_client, user.username)
    clock.shift(timedelta(minutes=1))

    assert locked.status_code == 429
    assert int(locked["Retry-After"]) <= 60
    assert login(api_client, user.username).status_code == 200


@pytest.mark.redis
def test_the_lockout_lives_in_the_shared_cache(api_client, clock, settings):
    """With CACHE_URL on Redis, another web process sees the same lock."""
    from django.core.cache import cache

    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    user = UserFactory.create()
    fail(api_client, user.username, 5, clock)

    assert any(key.startswith(b":1:login-lockout:until:") for key in _redis_keys(cache))


def _redis_keys(cache) -> list[bytes]:
    client = cache._cache.get_client()  # the raw redis client of Django's RedisCache
    return list(client.scan_iter(match=b"*login-lockout*"))


def test_anyone_who_knows_a_username_cannot_block_that_persons_sign_in(api_client, clock):
    """Finding 10 of [2/5]: the per-username throttle counted every attempt from any IP, so a
    stranger kept the owner at 429. It now counts failures per username and IP, like the
    lockout."""
    # Given a stranger who fails six times in a minute with someone's username
    owner = UserFactory.create()
    strangers = [login(api_client, owner.username, f"wrong-{n}").status_code for n in range(6)]

    # When the owner signs in from home in that same minute
    from_home = login(api_client, owner.username, ip=HOME_IP)

    # Then the stranger is held back and the owner is not
    assert strangers[-1] == 429
    assert from_home.status_code == 200


def test_successful_sign_ins_are_not_counted_by_the_username_throttle(api_client, clock):
    # Given a family sharing one network, signing in on six devices within a minute
    owner = UserFactory.create()

    # When each device signs in with the right password
    statuses = [login(api_client, owner.username, ip=HOME_IP).status_code for _ in range(6)]

    # Then none is throttled: only failures count
    assert statuses == [200] * 6
