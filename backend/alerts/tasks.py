"""Celery tasks: thin doors to the services. They take ids or ISO dates, never instances."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TypeVar

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from backend.alerts.services import adherence, alerting, decline, delivery, reminders, retention
from backend.core.enqueue import enqueue

R = TypeVar("R")


@shared_task(
    bind=True,
    name="alerts.deliver_notification",
    acks_late=True,  # the claim in delivery_send makes a second run a no-op
    reject_on_worker_lost=True,
    max_retries=delivery.MAX_ATTEMPTS,
)
def deliver_notification(self: Task, delivery_id: int) -> str:
    try:
        return delivery.delivery_send(delivery_id=delivery_id)
    except delivery.TransientDeliveryError as error:
        # The attempt count and the backoff live in the delivery row; the sweeper would pick
        # it up too, and the claim lets only one of them send.
        countdown = delivery.retry_delay(self.request.retries + 1).total_seconds()
        raise self.retry(exc=error, countdown=countdown) from error


@shared_task(name="alerts.deliver_notifications", acks_late=True, reject_on_worker_lost=True)
def deliver_notifications(delivery_ids: list[int]) -> int:
    """Bulk sends, 200 deliveries a task; the claim per delivery makes a rerun a no-op."""
    return delivery.deliveries_send(delivery_ids=delivery_ids)


@shared_task(name="alerts.sweep_deliveries", acks_late=True, reject_on_worker_lost=True)
def sweep_deliveries() -> int:
    """Every minute: deliveries whose task never ran (broker down at commit time) or whose
    backoff is over."""
    from backend.alerts.services.notifications import deliveries_enqueue

    ids = delivery.deliveries_sweep(now=timezone.now())
    deliveries_enqueue(ids)
    return len(ids)


# --- Periodic jobs spread over workers (backend/core/fanout.py) --------------------------------
# A coordinator (the beat tick) publishes chunks on the "jobs" queue; a chunk is retried alone,
# a few times with backoff, on a database error that passes (a failover, a deadlock, a dropped
# connection), and on nothing else.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
CHUNK_RETRIES = 3


def chunk_backoff(retries: int) -> int:
    """Seconds before retry n+1: 30, 60, 120."""
    return 30 * 2**retries


def _chunk(task: Task, work: Callable[[], R], failed: Callable[[], None]) -> R:
    """Runs a chunk's service; when it fails for good (no retry left, or an error that
    would fail again), ends its piece of the run with `failed` and raises."""
    try:
        return work()
    except TRANSIENT_ERRORS as error:
        if task.request.retries < CHUNK_RETRIES:
            raise task.retry(exc=error, countdown=chunk_backoff(task.request.retries)) from error
        failed()
        raise
    except Exception:
        failed()
        raise


def _publisher(task: Task) -> Callable[..., bool]:
    return lambda *args: enqueue(task, *[_iso(arg) for arg in args], queue="jobs")


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, date | datetime) else value


@shared_task(name="alerts.run_reminders", acks_late=True, reject_on_worker_lost=True)
def run_reminders(at: str | None = None) -> int:
    """Every 5 minutes: publishes the chunks of reminders due since the last complete run."""
    moment = datetime.fromisoformat(at) if at else timezone.now()
    return reminders.reminders_fan_out(at=moment, publish=_publisher(remind_chunk)).chunks


@shared_task(
    bind=True,
    name="alerts.remind_chunk",
    acks_late=True,  # a reminder is unique per patient, kind and day: a rerun sends nothing
    reject_on_worker_lost=True,
    time_limit=4 * 60,
    soft_time_limit=3 * 60,
)
def remind_chunk(self: Task, at: str, since: str, patient_ids: list[int], token: str) -> int:
    return _chunk(
        self,
        lambda: (
            reminders.reminders_chunk_run(
                at=datetime.fromisoformat(at),
                since=datetime.fromisoformat(since),
                patient_ids=patient_ids,
                token=token,
            ).sent
        ),
        lambda: reminders.reminders_chunk_failed(token=token),
    )


@shared_task(name="alerts.evaluate_adherence", acks_late=True, reject_on_worker_lost=True)
def evaluate_adherence(week_start: str | None = None) -> int:
    """Hourly: publishes the chunks that evaluate each patient's local weeks that have ended
    and not been evaluated yet."""
    return adherence.adherence_fan_out(
        now=timezone.now(),
        week_start=date.fromisoformat(week_start) if week_start else None,
        publish=_publisher(evaluate_adherence_chunk),
    ).chunks


@shared_task(
    bind=True,
    name="alerts.evaluate_adherence_chunk",
    acks_late=True,  # a week is stored once per patient: a rerun finds it done
    reject_on_worker_lost=True,
    time_limit=10 * 60,
    soft_time_limit=9 * 60,
)
def evaluate_adherence_chunk(
    self: Task, now: str, week_start: str | None, patient_ids: list[int], token: str
) -> int:
    return _chunk(
        self,
        lambda: (
            adherence.adherence_chunk_run(
                now=datetime.fromisoformat(now),
                week_start=date.fromisoformat(week_start) if week_start else None,
                patient_ids=patient_ids,
                token=token,
            ).evaluated
        ),
        lambda: adherence.adherence_chunk_failed(token=token),
    )


@shared_task(name="alerts.escalate_alerts", acks_late=True, reject_on_worker_lost=True)
def escalate_alerts() -> int:
    return alerting.alerts_escalate(now=timezone.now())


@shared_task(name="alerts.evaluate_decline", acks_late=True, reject_on_worker_lost=True)
def evaluate_decline(patient_id: int) -> int:
    """After a new assessment or session log of this patient (enqueued on commit)."""
    return len(decline.decline_checks_run(patient_ids=[patient_id], now=timezone.now()).alerts)


@shared_task(name="alerts.sweep_decline_checks", acks_late=True, reject_on_worker_lost=True)
def sweep_decline_checks() -> int:
    """Every few minutes: checks whose task never ran (broker down when they were asked)."""
    return decline.decline_checks_sweep(now=timezone.now()).checked


@shared_task(name="alerts.kidney_overdue", acks_late=True, reject_on_worker_lost=True)
def kidney_overdue() -> int:
    """Daily: eGFR results overdue against each patient's monitoring interval (KID-3)."""
    return decline.kidney_overdue_run(now=timezone.now())


@shared_task(
    name="alerts.purge_expired_records",
    acks_late=True,  # deleting what is past its retention is harmless to repeat
    reject_on_worker_lost=True,
    time_limit=6 * 60,
    soft_time_limit=5 * 60,  # above RETENTION_TIME_BUDGET_SECONDS: the purge stops itself first
)
def purge_expired_records() -> dict[str, int]:
    """Daily: notifications, deliveries and reminders past their retention, in bounded
    batches. When the time budget runs out first, the run publishes its own continuation."""
    result = retention.records_purge(now=timezone.now())
    if not result.complete:
        enqueue(purge_expired_records, queue="jobs")
    return result.deleted
