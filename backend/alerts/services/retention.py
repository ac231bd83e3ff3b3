"""Retention of the alert engine's message tables: notifications, their deliveries and the
reminders that were sent grow with every patient every week, and are not the clinical record.

What goes, once older than its setting (config/settings.py, "Retention"):
- deliveries that are finished (sent, failed or skipped), after RETENTION_DELIVERIES_DAYS;
- notifications, with their remaining deliveries, after RETENTION_NOTIFICATIONS_DAYS, except
  those about an alert that is not resolved (read or not: its dedup key must stay while the
  alert can still notify, and a clinician may still need to find it) and those with a
  delivery still pending or being sent;
- reminders, after RETENTION_REMINDERS_DAYS (the reminder job never looks back more than a
  day, so an older row no longer stops a second send).

What never goes: alerts, weekly adherence, session logs, assessments, symptom reports and
the audit trail are the patient's record (kept by the NHS records code, see
backend.accounts.services.account_deactivate); idempotency keys expire by their TTL
(accounts.purge_expired_credentials).

Rows are deleted in batches of at most `batch_size` ids, each batch its own transaction,
walking the primary key upwards (ids grow with `created_at`), so no batch scans or locks more
than its own rows and the purge stops cleanly when its time budget is spent; the next run
picks up where it left off. Running it again purges nothing more.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from backend.alerts.models import (
    Alert,
    AlertStatus,
    DeliveryStatus,
    Notification,
    NotificationDelivery,
    Reminder,
)

FINISHED = [DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED]
IN_FLIGHT = [DeliveryStatus.PENDING, DeliveryStatus.SENDING]
# The reminder job looks back at most 12 hours: a sent reminder younger than this still stops
# a second send, whatever RETENTION_REMINDERS_DAYS says.
MIN_REMINDER_DAYS = 2


@dataclass
class PurgeResult:
    deleted: dict[str, int] = field(
        default_factory=lambda: {"deliveries": 0, "notifications": 0, "reminders": 0}
    )
    batches: int = 0
    complete: bool = True  # False: the time budget ran out first; the next run goes on


def _labels(counts: dict[str, int]) -> dict[str, int]:
    names = {
        NotificationDelivery._meta.label: "deliveries",
        Notification._meta.label: "notifications",
        Reminder._meta.label: "reminders",
    }
    return {names[label]: n for label, n in counts.items() if label in names}


def _purge(
    model: type[models.Model],
    eligible: QuerySet[Any],
    *,
    older_than: Q,
    batch_size: int,
    result: PurgeResult,
    out_of_time: Callable[[], bool],
) -> bool:
    """Deletes `eligible` rows in batches of consecutive ids until a batch reaches rows newer
    than the cutoff (`older_than` false). True when done, False when out of time."""
    after = 0
    while True:
        if out_of_time():
            return False
        page = list(
            model._default_manager.filter(pk__gt=after)
            .order_by("pk")
            .annotate(old=models.ExpressionWrapper(older_than, models.BooleanField()))
            .values_list("pk", "old")[:batch_size]
        )
        if not page:
            return True
        ids = [pk for pk, _ in page]
        with transaction.atomic():
            # The conditions are checked again in the DELETE: a row that became protected
            # since (a new delivery, an alert reopened) stays.
            _, counts = eligible.filter(pk__in=ids).delete()
        for name, n in _labels(counts).items():
            result.deleted[name] += n
        result.batches += 1
        after = ids[-1]
        if not all(old for _, old in page):
            return True  # the newer rows begin within this batch


def records_purge(
    *,
    now: datetime,
    batch_size: int | None = None,
    budget: timedelta | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> PurgeResult:
    """Deletes the message rows past their retention (module docstring); safe to repeat."""
    batch_size = batch_size or settings.RETENTION_BATCH_SIZE
    budget = budget or timedelta(seconds=settings.RETENTION_TIME_BUDGET_SECONDS)
    deadline = clock() + budget.total_seconds()
    result = PurgeResult()

    def out_of_time() -> bool:
        return clock() >= deadline

    deliveries_before = now - timedelta(days=settings.RETENTION_DELIVERIES_DAYS)
    notifications_before = now - timedelta(days=settings.RETENTION_NOTIFICATIONS_DAYS)
    reminder_days = max(settings.RETENTION_REMINDERS_DAYS, MIN_REMINDER_DAYS)
    reminders_before = (now - timedelta(days=reminder_days)).date()

    unresolved_alerts = Alert.objects.exclude(status=AlertStatus.RESOLVED).values("pk")
    in_flight = NotificationDelivery.objects.filter(
        notification=OuterRef("pk"), status__in=IN_FLIGHT
    )
    jobs: list[tuple[type[models.Model], QuerySet[Any], Q]] = [
        (
            NotificationDelivery,
            NotificationDelivery.objects.filter(
                created_at__lt=deliveries_before, status__in=FINISHED
            ),
            Q(created_at__lt=deliveries_before),
        ),
        (
            Notification,
            Notification.objects.filter(created_at__lt=notifications_before)
            .exclude(subject_type="alert", subject_id__in=unresolved_alerts)
            .exclude(Exists(in_flight)),
            Q(created_at__lt=notifications_before),
        ),
        (
            Reminder,
            Reminder.objects.filter(local_date__lt=reminders_before),
            Q(created_at__lt=now - timedelta(days=reminder_days - 1)),
        ),
    ]
    for model, eligible, older_than in jobs:
        done = _purge(
            model,
            eligible,
            older_than=older_than,
            batch_size=batch_size,
            result=result,
            out_of_time=out_of_time,
        )
        if not done:
            result.complete = False
            break
    return result
