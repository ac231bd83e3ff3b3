"""The Celery wiring end to end: a real worker process, Redis as broker, PostgreSQL as store."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from backend.accounts import tasks
from backend.accounts.models import ActivationCode
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]


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
    db = settings.DATABASES["default"]
    database_url = (
        f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST']}:{db['PORT']}/"
        f"{connection.settings_dict['NAME']}"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    worker = subprocess.Popen(  # our own worker with fixed arguments
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        tasks.purge_expired_credentials.delay()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and ActivationCode.objects.filter(pk=old.pk).exists():
            time.sleep(0.2)
        assert not ActivationCode.objects.filter(pk=old.pk).exists(), "worker did not run it"
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=20)
    assert worker.returncode == 0 or b"Traceback" not in output, output.decode()
