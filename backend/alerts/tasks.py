"""Celery tasks: thin doors to the services. They take ids or ISO dates, never instances."""

from __future__ import annotations

from datetime import date, datetime

from celery import Task, shared_task
from django.utils import timezone

from backend.alerts.services import adherence, alerting, decline, delivery, reminders


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


@shared_task(name="alerts.run_reminders", acks_late=True, reject_on_worker_lost=True)
def run_reminders(at: str | None = None) -> int:
    moment = datetime.fromisoformat(at) if at else timezone.now()
    return reminders.reminders_run(at=moment).sent


@shared_task(
    name="alerts.evaluate_adherence",
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=60 * 60,
    soft_time_limit=55 * 60,
)
def evaluate_adherence(week_start: str | None = None) -> int:
    """Hourly: each patient's local week that has ended and not been evaluated yet."""
    result = adherence.adherence_evaluate(
        now=timezone.now(), week_start=date.fromisoformat(week_start) if week_start else None
    )
    return result.evaluated


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
    from backend.alerts.models import RuleOverride

    ids = list(RuleOverride.objects.filter(rule_id="KID-3").values_list("patient_id", flat=True))
    findings = decline.kidney_overdue_findings(patient_ids=ids, now=timezone.now())
    return len(alerting.alerts_raise(findings))
