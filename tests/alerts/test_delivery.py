"""The outbox: each notification is delivered at most once per channel, with retries for
transient failures, a record of permanent ones, and dead push tokens dropped."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from backend.accounts.models import PushDevice
from backend.alerts.models import DeliveryStatus, NotificationDelivery, NotificationKind
from backend.alerts.push import FcmSender
from backend.alerts.services.delivery import (
    TransientDeliveryError,
    deliveries_send,
    deliveries_sweep,
    delivery_send,
)
from backend.alerts.services.notifications import (
    Message,
    Outgoing,
    notifications_send,
    notifications_send_many,
)
from tests.factories import PatientProfileFactory

pytestmark = pytest.mark.django_db


def _notify(user, kind=NotificationKind.ALERT, key="k1"):
    notifications_send(
        recipients=[user],
        patient=None,
        message=Message(kind, "Urgent alert: SYM-2", "Dark urine reported", "alert", 7, key),
    )
    return NotificationDelivery.objects.filter(notification__recipient=user)


def test_a_clinician_alert_gets_push_and_email_a_patient_message_push_only(world):
    clinician = _notify(world.physio)
    patient = _notify(world.patient.user, NotificationKind.REMINDER, key="k2")

    assert sorted(clinician.values_list("channel", flat=True)) == ["email", "push"]
    assert list(patient.values_list("channel", flat=True)) == ["push"]


def test_the_same_cause_twice_makes_one_notification(world):
    _notify(world.physio)
    _notify(world.physio)

    assert world.physio.notifications.count() == 1
    assert NotificationDelivery.objects.count() == 2


def test_push_is_sent_once_even_if_the_task_runs_twice(world, recorded_pushes):
    PushDevice.objects.create(user=world.physio, platform="android", token="tok-1")
    push = _notify(world.physio).get(channel="push")

    first = delivery_send(delivery_id=push.pk)
    second = delivery_send(delivery_id=push.pk)

    assert (first, second) == ("sent", "not_pending")
    assert len(recorded_pushes) == 1
    assert recorded_pushes[0]["title"] == "Urgent alert: SYM-2"
    assert recorded_pushes[0]["data"]["subject_type"] == "alert"
    assert recorded_pushes[0]["data"]["subject_id"] == "7"


def test_a_dead_token_is_dropped_and_the_live_one_used(world, recorded_pushes):
    PushDevice.objects.create(user=world.physio, platform="ios", token="dead-old-phone")
    PushDevice.objects.create(user=world.physio, platform="android", token="tok-new-phone")
    push = _notify(world.physio).get(channel="push")

    assert delivery_send(delivery_id=push.pk) == "sent"
    assert list(PushDevice.objects.values_list("token", flat=True)) == ["tok-new-phone"]


def test_only_dead_tokens_is_a_recorded_permanent_failure(world, recorded_pushes):
    PushDevice.objects.create(user=world.physio, platform="ios", token="dead-1")
    push = _notify(world.physio).get(channel="push")

    assert delivery_send(delivery_id=push.pk) == "failed"
    push.refresh_from_db()
    assert push.last_error
    assert not PushDevice.objects.exists()


def test_a_transient_failure_is_released_for_a_retry(world, recorded_pushes):
    PushDevice.objects.create(user=world.physio, platform="ios", token="flaky-1")
    push = _notify(world.physio).get(channel="push")

    with pytest.raises(TransientDeliveryError):
        delivery_send(delivery_id=push.pk)

    push.refresh_from_db()
    assert push.status == DeliveryStatus.PENDING
    assert push.attempts == 1
    assert "503" in push.last_error


def test_no_device_means_skipped_not_failed(world, recorded_pushes):
    push = _notify(world.physio).get(channel="push")

    assert delivery_send(delivery_id=push.pk) == "skipped"
    assert recorded_pushes == []


def test_clinicians_get_the_alert_by_email(world):
    email = _notify(world.physio).get(channel="email")

    assert delivery_send(delivery_id=email.pk) == "sent"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [world.physio.email]
    assert "Dark urine reported" in mail.outbox[0].body


def test_the_sweeper_finds_stale_pending_and_fails_interrupted_sends(world):
    deliveries = _notify(world.physio)
    push, email = deliveries.get(channel="push"), deliveries.get(channel="email")
    NotificationDelivery.objects.filter(pk=email.pk).update(
        status=DeliveryStatus.SENDING, claimed_at=timezone.now() - timedelta(minutes=20)
    )

    later = timezone.now() + timedelta(minutes=2)
    assert deliveries_sweep(now=timezone.now()) == []  # too fresh: its task may still run
    assert deliveries_sweep(now=later) == [push.pk]
    email.refresh_from_db()
    assert email.status == DeliveryStatus.FAILED  # never resent: at most once


@pytest.mark.parametrize(
    ("status", "text", "expected"),
    [
        (200, "{}", "ok"),
        (404, '{"error": {"status": "NOT_FOUND", "details": "UNREGISTERED"}}', "invalid"),
        (400, "The registration token is not a valid FCM registration token", "invalid"),
        (429, "quota", "transient"),
        (503, "unavailable", "transient"),
        (401, "auth", "permanent"),
    ],
)
def test_fcm_answers_are_mapped(status, text, expected):
    result = FcmSender.result_of(status, text)

    outcome = (
        "ok"
        if result.ok
        else "invalid"
        if result.invalid_token
        else "transient"
        if result.transient
        else "permanent"
    )
    assert outcome == expected


@pytest.fixture
def tasks_run_inline() -> Iterator[list[str]]:
    """Celery runs each published task at once in this process; yields the task names run."""
    from celery.signals import task_prerun

    from config.celery import app

    ran: list[str] = []

    def record(sender: Any = None, **_: Any) -> None:
        ran.append(sender.name)

    task_prerun.connect(record, weak=False)
    app.conf.task_always_eager = True
    yield ran
    app.conf.task_always_eager = False
    task_prerun.disconnect(record)


def _patients_with_devices(count: int, flaky: int = 0) -> list[Any]:
    patients = PatientProfileFactory.create_batch(count)
    for index, patient in enumerate(patients):
        token = f"flaky-{index}" if index < flaky else f"tok-{index}"
        PushDevice.objects.create(user=patient.user, platform="android", token=token)
    return patients


def _advise(patients: list[Any]) -> None:
    message = Message(
        NotificationKind.ADHERENCE_ADVICE, "Your week", "Two sessions", "week", 1, "w"
    )
    with transaction.atomic():
        notifications_send_many(Outgoing(p.user, p, message) for p in patients)


def test_a_bulk_send_reaches_everyone_in_a_task_per_200_deliveries(
    db, recorded_pushes, tasks_run_inline, django_capture_on_commit_callbacks
):
    patients = _patients_with_devices(450)

    with django_capture_on_commit_callbacks(execute=True):
        _advise(patients)

    assert len(recorded_pushes) == 450
    assert tasks_run_inline == ["alerts.deliver_notifications"] * 3
    assert set(NotificationDelivery.objects.values_list("status", flat=True)) == {"sent"}


def test_a_red_flags_few_deliveries_get_a_task_each(
    world, recorded_pushes, tasks_run_inline, django_capture_on_commit_callbacks
):
    PushDevice.objects.create(user=world.physio, platform="ios", token="tok-physio")

    with django_capture_on_commit_callbacks(execute=True):
        _notify(world.physio)

    assert tasks_run_inline == ["alerts.deliver_notification"] * 2  # push and e-mail
    assert len(recorded_pushes) == 1


def test_a_transient_failure_in_a_bulk_send_waits_for_the_sweeper_and_spares_the_rest(
    db, recorded_pushes
):
    patients = _patients_with_devices(30, flaky=2)
    _advise(patients)
    ids = list(NotificationDelivery.objects.order_by("id").values_list("id", flat=True))

    sent = deliveries_send(delivery_ids=ids)

    assert sent == 28
    waiting = NotificationDelivery.objects.filter(status=DeliveryStatus.PENDING)
    assert waiting.count() == 2
    assert all(row.next_attempt_at and row.next_attempt_at > timezone.now() for row in waiting)
    later = timezone.now() + timedelta(minutes=1)
    assert sorted(deliveries_sweep(now=later)) == sorted(w.pk for w in waiting)


def test_the_bulk_delivery_task_run_twice_sends_each_push_once(db, recorded_pushes):
    from backend.alerts import tasks

    _advise(_patients_with_devices(25))
    ids = list(NotificationDelivery.objects.values_list("id", flat=True))

    first = tasks.deliver_notifications(ids)
    second = tasks.deliver_notifications(ids)

    assert (first, second) == (25, 0)
    assert len(recorded_pushes) == 25
