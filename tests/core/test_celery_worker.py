"""The Celery wiring end to end: a real worker process, Redis as broker, PostgreSQL as store."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from backend.accounts import tasks
from backend.accounts.models import ActivationCode
from tests.factories import UserFactory
from tests.worker import celery_worker


def _code(user, *, expired_days_ago: int, suffix: str) -> ActivationCode:
    return ActivationCode.objects.create(
        user=user,
        code_hash=suffix.rjust(64, "0"),
        expires_at=timezone.now() - timedelta(days=expired_days_ago),
    )


@pytest.mark.django_db
def test_the_purge_forgets_long_expired_codes_and_is_safe_to_run_twice():
    user = UserFactory.create()
    old = _code(user, expired_days_ago=31, suffix="a")
    recent = _code(user, expired_days_ago=1, suffix="b")

    first = tasks.purge_expired_credentials()
    second = tasks.purge_expired_credentials()

    assert first["activation_codes"] == 1
    assert second["activation_codes"] == 0
    assert not ActivationCode.objects.filter(pk=old.pk).exists()
    assert ActivationCode.objects.filter(pk=recent.pk).exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_task_enqueued_through_redis():
    user = UserFactory.create()
    old = _code(user, expired_days_ago=40, suffix="c")

    with celery_worker():
        tasks.purge_expired_credentials.delay()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and ActivationCode.objects.filter(pk=old.pk).exists():
            time.sleep(0.2)

    assert not ActivationCode.objects.filter(pk=old.pk).exists(), "the worker did not run it"
