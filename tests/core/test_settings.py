"""Start-up behaviour driven by environment variables, checked in fresh processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "x" * 30 + "-production-grade-secret-0123456789",
    "DJANGO_ALLOWED_HOSTS": "api.physiotrack.example",
    "DJANGO_SETTINGS_MODULE": "config.settings",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    return subprocess.run(  # noqa: S603  # our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key():
    env = {**PRODUCTION, "DJANGO_SECRET_KEY": ""}

    result = _manage("check", env=env)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_the_deployment_checklist_is_clean_with_production_variables():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_debug_is_off_unless_asked():
    result = _manage(
        "shell", "-c", "from django.conf import settings; print(settings.DEBUG)", env=PRODUCTION
    )

    assert result.stdout.strip().splitlines()[-1] == "False"
