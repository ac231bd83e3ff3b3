"""Celery tasks of the audit trail: thin doors to backend.audit.partitions."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.utils import timezone

from backend.audit.partitions import partitions_create_ahead


@shared_task(name="audit.create_partitions", acks_late=True)  # creates only what is missing
def create_partitions() -> dict[str, Any]:
    """Daily: the current month's partition of the audit trail and the next
    AUDIT_PARTITIONS_AHEAD_MONTHS, so no event lands in the DEFAULT partition. Expiry is never
    automatic: it is `manage.py audit_expire_partitions`, run and recorded by a person."""
    result = partitions_create_ahead(now=timezone.now())
    return {
        "partitioned": result.partitioned,
        "created": result.created,
        "existing": len(result.existing),
        "held_in_default": result.held_in_default,
    }
