"""Races that only a real PostgreSQL server shows."""

from __future__ import annotations

import pytest

from backend.accounts.models import PushDevice
from backend.accounts.services import account_activate, activation_code_issue, device_register
from backend.core.errors import DomainError
from tests.concurrency import all_at_once
from tests.factories import UserFactory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_of_one_push_token_make_one_device():
    user = UserFactory.create()

    results = all_at_once(8, lambda _: device_register(user=user, platform="ios", token="t-1"))

    assert not [r for r in results if isinstance(r, Exception)], results
    assert PushDevice.objects.count() == 1
    created_flags = [result[1] for result in results if isinstance(result, tuple)]
    assert created_flags.count(True) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_activation_code_used_concurrently_activates_once():
    user = UserFactory.create(is_active=False, password=None)  # enrolled, never activated
    issued = activation_code_issue(user=user, by=None)

    results = all_at_once(
        6, lambda n: account_activate(code=issued.code, password=f"concurrent-password-{n}x")
    )

    successes = [r for r in results if not isinstance(r, Exception)]
    refusals = [r for r in results if isinstance(r, DomainError)]
    assert len(successes) == 1
    assert len(refusals) == 5
    assert {r.code for r in refusals} == {"activation_code_used"}
