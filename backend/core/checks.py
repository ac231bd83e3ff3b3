"""System checks: state that must be shared between processes must not live in one of them.

Throttles and login lockouts count in the default cache, and Celery hands tasks over through
the broker. With an in-process cache every gunicorn worker counts on its own (a guesser gets
workers x the limit, and a lock holds only in the worker that set it); with a filesystem or
memory broker a worker on another machine (or in another container) never sees a task.
Nothing fails: it just stops working. So without DEBUG, start-up refuses them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

# Django's cache backends whose entries live in one process (or one machine's disk, or nowhere).
PROCESS_LOCAL_CACHES = frozenset(
    {
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.dummy.DummyCache",
        "django.core.cache.backends.filebased.FileBasedCache",
    }
)
# kombu transports that only reach consumers in the same process or on the same disk.
PROCESS_LOCAL_BROKERS = ("filesystem", "memory")


@register(Tags.caches, Tags.security)
def shared_state_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Without DEBUG, the default cache must be shared (Redis through CACHE_URL) and the broker
    a server. The `rendered` cache stays in each process on purpose: it holds response bodies
    keyed by their ETag, which are the same whichever process renders them."""
    if settings.DEBUG or settings.SINGLE_PROCESS_ALLOWED:
        return []
    errors: list[CheckMessage] = []
    backend = settings.CACHES["default"]["BACKEND"]
    if backend in PROCESS_LOCAL_CACHES:
        if not getattr(settings, "CACHE_URL", ""):
            errors.append(
                Error(
                    "CACHE_URL is not set, so login throttles and lockouts would count in each "
                    "process on its own: set CACHE_URL=redis://host:6379/1 (a Redis shared by "
                    "every web process).",
                    id="core.E001",
                )
            )
        else:
            errors.append(
                Error(
                    f"CACHES['default'] is {backend}, which each process keeps to itself: login "
                    "throttles and lockouts would not be shared. Use the Redis cache that "
                    "CACHE_URL selects.",
                    id="core.E002",
                )
            )
    broker = str(settings.CELERY_BROKER_URL)
    if broker.split(":", 1)[0] in PROCESS_LOCAL_BROKERS:
        errors.append(
            Error(
                f"CELERY_BROKER_URL={broker} only reaches workers in this process or on this "
                "disk: set CELERY_BROKER_URL=redis://host:6379/0 (a Redis every web process and "
                "worker reaches).",
                id="core.E003",
            )
        )
    return errors
