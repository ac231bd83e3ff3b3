"""core.E001-E003: without DEBUG, start-up refuses a cache or a broker that one process keeps."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from backend.core.checks import shared_state_check

REDIS_CACHE = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://r/1"}
RENDERED = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rendered"}
PRODUCTION: dict[str, Any] = {
    "DEBUG": False,
    "SINGLE_PROCESS_ALLOWED": False,
    "CACHE_URL": "redis://r/1",
    "CACHES": {"default": REDIS_CACHE, "rendered": RENDERED},
    "CELERY_BROKER_URL": "redis://r/0",
}


def ids(**overrides: Any) -> list[str | None]:
    with override_settings(**{**PRODUCTION, **overrides}):
        return [error.id for error in shared_state_check()]


def test_production_with_redis_passes_and_the_rendered_cache_may_stay_in_process():
    assert ids() == []


def test_a_missing_cache_url_is_refused_with_what_to_set():
    with override_settings(
        **{**PRODUCTION, "CACHE_URL": "", "CACHES": {"default": {**RENDERED, "LOCATION": ""}}}
    ):
        errors = shared_state_check()

    assert [error.id for error in errors] == ["core.E001"]
    assert "set CACHE_URL=redis://" in errors[0].msg


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.dummy.DummyCache",
        "django.core.cache.backends.filebased.FileBasedCache",
    ],
)
def test_a_default_cache_kept_by_one_process_is_refused(backend):
    default = {"BACKEND": backend, "LOCATION": "/tmp/physiotrack-cache"}  # noqa: S108  # never used

    assert ids(CACHES={"default": default, "rendered": RENDERED}) == ["core.E002"]


@pytest.mark.parametrize("broker", ["filesystem://", "memory://"])
def test_a_broker_only_this_machine_reaches_is_refused(broker):
    with override_settings(**{**PRODUCTION, "CELERY_BROKER_URL": broker}):
        errors = shared_state_check()

    assert [error.id for error in errors] == ["core.E003"]
    assert "set CELERY_BROKER_URL=redis://" in errors[0].msg


def test_development_and_the_test_settings_may_keep_everything_in_one_process():
    single = {"CACHE_URL": "", "CACHES": {"default": RENDERED}, "CELERY_BROKER_URL": "memory://"}

    assert ids(**single, DEBUG=True) == []
    assert ids(**single, SINGLE_PROCESS_ALLOWED=True) == []
    assert settings.SINGLE_PROCESS_ALLOWED is True  # config.settings_test
