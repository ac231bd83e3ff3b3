from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from backend.accounts import services


@shared_task(name="accounts.purge_expired_credentials", acks_late=True)
def purge_expired_credentials() -> dict[str, int]:
    """Daily. Deleting what has already expired is harmless to repeat, hence acks_late."""
    return services.expired_credentials_purge(now=timezone.now())
