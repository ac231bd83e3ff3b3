"""Lockout: repeated failed sign-ins lock one username from one IP for a cool-off."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from backend.accounts.lockout import LoginAttempts
from tests.concurrency import all_at_once
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


@pytest.fixture
def in_process_cache(settings):
    """The default cache in this process, whatever CACHE_URL says: the window ends when its
    counter expires, and Redis expires keys on its own clock, not on the test's frozen one."""
    from django.core.cache import cache

    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "lockout-window-tests",
        },
    }
    cache.clear()
    yield
    cache.clear()


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


def test_failures_older_than_the_window_do_not_count(api_client, clock, in_process_cache):
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


@pytest.mark.redis
def test_concurrent_failures_from_many_processes_are_all_counted(settings):
    """Each web process reads and writes the counter: counted by read-then-write, failures
    at the same instant overwrite each other and a guesser gets more tries than the limit."""
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    settings.LOGIN_LOCKOUT_ATTEMPTS = 20
    attempts = LoginAttempts(username="amelia.k", ip=ATTACKER_IP)

    # When 19 failures arrive at the same instant, then one more
    errors = all_at_once(19, lambda _: attempts.failed())
    before = attempts.locked_for()
    attempts.failed()

    # Then all were counted: the 20th, and not one before, locks the pair
    assert errors == [None] * 19
    assert before == 0
    assert attempts.locked_for() > 0


def test_the_count_locks_at_the_threshold_within_the_window_of_the_first_failure(
    clock, in_process_cache
):
    # Given five failures 3 min 20 s apart
    attempts = LoginAttempts(username="amelia.k", ip=ATTACKER_IP)
    locked_for = []
    for _ in range(5):
        clock.shift(timedelta(minutes=3, seconds=20))
        attempts.failed()
        locked_for.append(attempts.locked_for())

    # Then the fifth, 13 min 20 s after the first, locks the pair for the cool-off
    assert locked_for == [0, 0, 0, 0, 15 * 60]


def test_a_window_ends_with_the_window_after_its_first_failure(clock, in_process_cache):
    # Given four failures within a minute
    attempts = LoginAttempts(username="amelia.k", ip=ATTACKER_IP)
    for _ in range(4):
        attempts.failed()
        clock.shift(timedelta(seconds=15))

    # When the window of the first one has ended, a failure starts a new count
    clock.shift(timedelta(minutes=14))
    attempts.failed()
    not_yet = [attempts.locked_for()]
    for _ in range(3):
        attempts.failed()
        not_yet.append(attempts.locked_for())
    attempts.failed()

    # Then four more pass unlocked and the fifth of the new window locks
    assert not_yet == [0, 0, 0, 0]
    assert attempts.locked_for() > 0


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
