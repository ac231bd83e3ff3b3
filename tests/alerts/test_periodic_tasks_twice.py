"""Every periodic task of the beat schedule, run twice: the second run adds nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django_celery_beat.models import PeriodicTask

from backend.alerts import tasks
from backend.alerts.models import (
    Alert,
    Notification,
    NotificationDelivery,
    Reminder,
    RuleOverride,
    WeeklyAdherence,
)
from backend.exercise.services.assessments import assessment_record
from backend.exercise.services.sessions import session_log_record
from tests.exercise.conftest import session_body

pytestmark = pytest.mark.django_db

THURSDAY_EVENING = datetime(2026, 11, 26, 17, 35, tzinfo=UTC)  # 17:30 reminder in London
SETUP_DAY = datetime(2026, 11, 12, 9, 0, tzinfo=UTC)  # the fixtures' world exists from here


@pytest.fixture(autouse=True)
def _clock_before_the_world():
    """Everything the test makes is made inside frozen time, before the Thursday it travels
    to: created at the real clock, the alert would be newer than the run that escalates it."""
    with time_machine.travel(SETUP_DAY, tick=True):
        yield


def _counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (Alert, Notification, NotificationDelivery, Reminder, WeeklyAdherence)
    )


def test_the_beat_schedule_holds_every_periodic_task():
    scheduled = set(PeriodicTask.objects.values_list("task", flat=True))

    assert scheduled >= {
        "alerts.run_reminders",
        "alerts.escalate_alerts",
        "alerts.sweep_deliveries",
        "alerts.evaluate_adherence",
        "alerts.kidney_overdue",
        "accounts.purge_expired_credentials",
        "alerts.purge_expired_records",
        "audit.create_partitions",
    }


def test_each_periodic_task_twice_raises_nothing_twice(
    world, programme, recorded_pushes, jobs_run_inline
):
    patient = world.patient
    patient.notifications_consent = True
    patient.training_weekdays = [4]
    patient.save()
    RuleOverride.objects.create(patient=patient, rule_id="KID-3", parameters={"interval_days": 30})
    from decimal import Decimal

    assessment_record(
        by=world.physio,
        patient=patient,
        data={
            "measure": "EGFR",
            "value": Decimal(90),
            "setting": "clinic",
            "measured_at": datetime(2026, 9, 1, 9, 0, tzinfo=UTC),
        },
    )
    body = session_body(
        programme, symptoms=["chest_pain"], started_at=datetime(2026, 11, 10, 17, 0, tzinfo=UTC)
    )
    from backend.exercise.serializers import SessionCreateInput

    data = SessionCreateInput(data=body)
    data.is_valid(raise_exception=True)
    session_log_record(by=patient.user, patient=patient, data=data.validated_data)
    programme.refresh_from_db()
    from backend.exercise.services.programmes import programme_activate

    programme_activate(programme=programme, by=world.physio)  # resumed after review

    with time_machine.travel(THURSDAY_EVENING, tick=False):
        runs = [
            lambda: tasks.run_reminders(),
            lambda: tasks.escalate_alerts(),
            lambda: tasks.evaluate_adherence(),
            lambda: tasks.kidney_overdue(),
            lambda: tasks.sweep_deliveries(),
            lambda: tasks.purge_expired_records(),
        ]
        for run in runs:
            run()
        after_first = _counts()
        for run in runs:
            run()
        after_second = _counts()

    assert after_first == after_second
    alerts, _, _, reminders, weeks = after_first
    assert reminders == 1  # Thursday: R-1 (no session this week yet)
    assert weeks == 3  # every patient's ended week is recorded, with or without programme
    assert WeeklyAdherence.objects.get(patient=patient).suppressed == ""
    assert set(Alert.objects.values_list("rule_id", flat=True)) >= {"SYM-1", "KID-3"}
    assert Alert.objects.get(rule_id="SYM-1").escalated_at is not None
    assert alerts == Alert.objects.count()


def test_sweeping_twice_enqueues_a_stale_delivery_but_sends_it_once(world, recorded_pushes):
    from backend.accounts.models import PushDevice
    from backend.alerts.services.delivery import delivery_send
    from backend.alerts.services.notifications import Message, notifications_send

    PushDevice.objects.create(user=world.physio, platform="ios", token="t-1")
    notifications_send(
        recipients=[world.physio], patient=None, message=Message("alert", "t", "b", "alert", 1, "x")
    )
    push = NotificationDelivery.objects.get(channel="push")

    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=5)):
        from django.utils import timezone

        from backend.alerts.services.delivery import deliveries_sweep

        found = [deliveries_sweep(now=timezone.now()) for _ in range(2)]
        for ids in found:
            for delivery_id in ids:
                delivery_send(delivery_id=delivery_id)

    assert push.pk in found[0]
    assert len(recorded_pushes) == 1
