"""Start-up behaviour driven by environment variables, checked in fresh processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "x" * 30 + "-production-grade-secret-0123456789",
    "DJANGO_ALLOWED_HOSTS": "api.physiotrack.example",
    "DJANGO_SETTINGS_MODULE": "config.settings",
    # Production pushes over FCM (the file is read at the first push, not at start-up).
    "FCM_PROJECT_ID": "physiotrack-example",
    "FCM_CREDENTIALS_FILE": "/run/secrets/fcm.json",
    # Shared by every process (core.E001-E003); `check` only reads them, nothing connects.
    "CACHE_URL": "redis://redis.internal:6379/1",
    "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
}
# The suite's own services never leak into a production-like process: it gets PRODUCTION's.
SUITE_SERVICES = ("CACHE_URL", "CELERY_BROKER_URL")


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_")) and k not in SUITE_SERVICES
    }
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


def _without(*names: str) -> dict[str, str]:
    return {k: v for k, v in PRODUCTION.items() if k not in names}


def test_production_refuses_to_start_without_a_shared_cache():
    # Given production variables without CACHE_URL (the cache would be each process's memory)
    env = _without("CACHE_URL")

    # When it starts
    result = _manage("check", env=env)

    # Then it stops and says what to set
    assert result.returncode != 0
    assert "core.E001" in result.stderr
    assert "set CACHE_URL=redis://" in result.stderr


@pytest.mark.parametrize(
    "broker",
    [None, "filesystem://", "memory://"],
    ids=["unset (filesystem)", "filesystem", "memory"],
)
def test_production_refuses_a_broker_that_only_this_machine_reaches(broker, tmp_path):
    # Given production variables with no broker server (the file broker's folders in tmp_path)
    env = {**_without("CELERY_BROKER_URL"), "PHYSIOTRACK_RUN_DIR": str(tmp_path)}
    if broker is not None:
        env["CELERY_BROKER_URL"] = broker

    # When it starts
    result = _manage("check", env=env)

    # Then it stops and says what to set
    assert result.returncode != 0
    assert "core.E003" in result.stderr
    assert "set CELERY_BROKER_URL=redis://" in result.stderr


def test_development_keeps_the_in_process_cache_and_the_file_broker(tmp_path):
    env = {
        **_without("CACHE_URL", "CELERY_BROKER_URL"),
        "DJANGO_DEBUG": "1",
        "PHYSIOTRACK_RUN_DIR": str(tmp_path),
    }

    result = _manage("check", env=env)

    assert result.returncode == 0, result.stderr


def test_the_deployment_checklist_is_clean_with_production_variables():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_debug_is_off_unless_asked():
    result = _manage(
        "shell", "-c", "from django.conf import settings; print(settings.DEBUG)", env=PRODUCTION
    )

    assert result.stdout.strip().splitlines()[-1] == "False"


def _shell(code: str, **extra: str) -> list[str]:
    result = _manage("shell", "-c", code, env={**PRODUCTION, **extra})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()


HEADERS_OVER_HTTPS = """
import json
from django.test import Client
client = Client(HTTP_HOST="api.physiotrack.example")
secure = client.get("/api/v1/no-such-route/", secure=True)
plain = client.get("/api/v1/no-such-route/")
redirect = [plain.status_code, plain.get("Location")]
print(json.dumps({"headers": dict(secure.headers), "plain": redirect}))
"""


def test_production_answers_carry_the_security_headers():
    import json

    seen = json.loads(_shell(HEADERS_OVER_HTTPS)[-1])
    headers = seen["headers"]

    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Content-Type"] == "application/json"
    assert "Access-Control-Allow-Origin" not in headers
    assert seen["plain"] == [301, "https://api.physiotrack.example/api/v1/no-such-route/"]


FORGED_WITH_SECRET_KEY = """
import time, jwt
from django.conf import settings
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken
now = int(time.time())
claims = {"token_type": "access", "exp": now + 60, "iat": now, "jti": "x" * 32, "user_id": "1"}
forged = jwt.encode(claims, settings.SECRET_KEY, algorithm="HS256")
try:
    AccessToken(forged)
    print("accepted")
except TokenError:
    print("refused")
print(settings.SIMPLE_JWT["SIGNING_KEY"] == settings.SECRET_KEY)
"""


def test_tokens_are_signed_with_jwt_signing_key_when_it_is_set():
    separate = _shell(FORGED_WITH_SECRET_KEY, JWT_SIGNING_KEY="j" * 50)
    shared = _shell(FORGED_WITH_SECRET_KEY)

    assert separate[-2:] == ["refused", "False"]  # SECRET_KEY alone cannot mint tokens
    assert shared[-2:] == ["accepted", "True"]  # without it, SECRET_KEY signs (documented)


ADMIN_ROUTES = """
from django.urls import Resolver404, resolve, reverse
print(reverse("admin:index"))
try:
    resolve("/admin/")
    print("default path still served")
except Resolver404:
    print("no admin at /admin/")
"""


def test_the_admin_lives_on_the_configured_path():
    lines = _shell(ADMIN_ROUTES, DJANGO_ADMIN_URL="backstage-7f3a/")

    assert lines[-2:] == ["/backstage-7f3a/", "no admin at /admin/"]


def test_cors_origins_come_from_the_environment_and_default_to_none():
    code = "from django.conf import settings; print(settings.CORS_ALLOWED_ORIGINS)"

    default = _shell(code)
    configured = _shell(
        code, DJANGO_CORS_ALLOWED_ORIGINS="https://clinic.example, https://app.example"
    )

    assert default[-1] == "[]"
    assert configured[-1] == "['https://clinic.example', 'https://app.example']"


def test_server_side_cursors_are_disabled_for_a_transaction_pooler():
    # Given a PostgreSQL URL (nothing connects: the settings are only read)
    code = (
        "from django.conf import settings; "
        "print(settings.DATABASES['default']['DISABLE_SERVER_SIDE_CURSORS'])"
    )
    url = {"DATABASE_URL": "postgres://app@pgbouncer.internal:6432/physiotrack"}

    # When DATABASE_DISABLE_SERVER_SIDE_CURSORS is set, or not
    pooled = _shell(code, **url, DATABASE_DISABLE_SERVER_SIDE_CURSORS="1")
    direct = _shell(code, **url)

    # Then Django opens no server-side cursor behind PgBouncer, and does by default
    assert pooled[-1] == "True"
    assert direct[-1] == "False"
