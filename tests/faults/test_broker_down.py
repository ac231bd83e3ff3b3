"""The broker is down when a patient logs a session with a red flag: the log and the alert
are stored at once, the work for the workers (notifications, the decline check) waits in the
database, and once Redis is back the sweepers deliver every notification exactly once.

Real processes: a private redis-server (killed, then started again), the API under
gunicorn and a Celery worker, on the test's PostgreSQL database."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from backend.accounts.models import PushDevice
from backend.alerts import tasks
from backend.alerts.models import (
    Alert,
    Channel,
    DeclineCheck,
    DeliveryStatus,
    Notification,
    NotificationDelivery,
)
from backend.alerts.services.decline import decline_checks_run
from backend.exercise.models import SessionLog
from backend.exercise.services.sessions import session_log_record
from tests.exercise.conftest import session_body
from tests.faults.conftest import publish, recorded, token_for
from tests.faults.processes import EMAILS, PUSHES, LiveApp, celery_worker, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# Killed, Redis refuses connections: a request pays one quick failed publish, then this process
# stops trying for a while. Frozen, it accepts connections and never answers: a request pays
# one socket timeout (2 s, config/settings.py) instead of hanging forever. Generous bounds for
# a loaded CI machine.
OUTAGES = {"killed": 2.0, "frozen": 5.0}
UNFINISHED = [DeliveryStatus.PENDING, DeliveryStatus.SENDING]


def _earlier_logs_with_low_pain(world, programme) -> None:
    """Three logs over the last days with pain 2, then one with pain 5: FD-7 (pain well above
    the 14-day median on two consecutive logs) fires if the next log has high pain too. Pain
    rises little within each log and stays below 7/10, so no log is a symptom by itself."""
    for days_ago, pain in ((6, 2), (5, 2), (4, 2), (2, 5)):
        started = timezone.now() - timedelta(days=days_ago)
        body = session_body(programme, started_at=started, pain_before=pain - 1, pain_after=pain)
        body["started_at"] = started
        body["ended_at"] = started + timedelta(minutes=35)
        session_log_record(by=world.patient.user, patient=world.patient, data=body)
    decline_checks_run(patient_ids=[world.patient.pk], now=timezone.now())  # nothing yet


@pytest.mark.parametrize("outage", OUTAGES)
def test_a_red_flag_logged_while_the_broker_is_down_is_stored_and_later_delivered_once(
    outage, world, programme, private_redis, database_url, processes, tmp_path: Path
):
    # given the team's and the patient's phones, earlier logs, and the API on a private Redis
    for user, token in ((world.physio, "physio-phone"), (world.nurse, "nurse-phone")):
        PushDevice.objects.create(user=user, platform="android", token=token)
    PushDevice.objects.create(user=world.patient.user, platform="ios", token="patient-phone")
    _earlier_logs_with_low_pain(world, programme)
    app = LiveApp(tmp_path, database_url=database_url, broker_url=private_redis.url())
    processes.append(app)
    app.start()

    # when Redis dies (or hangs) and the patient logs a session with chest pain and high pain
    private_redis.kill() if outage == "killed" else private_redis.freeze()
    body = session_body(programme, symptoms=["chest_pain"], pain_before=5, pain_after=6)
    started = time.monotonic()
    response = app.request("POST", "/api/v1/sessions/", token_for(world.patient.user), json=body)
    elapsed = time.monotonic() - started

    # then the log is accepted at once and stored with its red-flag alert
    assert response.status_code == 201, response.text
    assert "emergency" in response.json()["safety_message"]
    assert elapsed < OUTAGES[outage], f"the POST took {elapsed:.1f}s with the broker {outage}"
    log = SessionLog.objects.get(patient=world.patient, client_id=body["client_id"])
    assert list(Alert.objects.filter(patient=world.patient).values_list("rule_id", flat=True)) == [
        "SYM-1"
    ]
    # and the work for the workers waits in the database, none of it done
    assert DeclineCheck.objects.filter(patient=world.patient).exists()
    about_the_alert = NotificationDelivery.objects.filter(notification__subject_type="alert")
    assert about_the_alert.count() == 4  # to the physio and the nurse, by push and e-mail
    assert set(NotificationDelivery.objects.values_list("status", flat=True)) == {
        DeliveryStatus.PENDING
    }

    # when Redis is back, a worker starts, and the sweepers run as beat runs them (the rows
    # made to look as old as a five-minute outage would leave them)
    private_redis.start() if outage == "killed" else private_redis.thaw()
    pushes, emails = tmp_path / PUSHES, tmp_path / EMAILS
    worker = celery_worker(tmp_path, broker_url=private_redis.url(), database_url=database_url)
    processes.append(worker)
    worker.start()
    five_minutes_ago = timezone.now() - timedelta(minutes=5)
    NotificationDelivery.objects.update(created_at=five_minutes_ago)
    DeclineCheck.objects.update(requested_at=five_minutes_ago)
    publish(private_redis.url(), tasks.sweep_decline_checks)
    publish(private_redis.url(), tasks.sweep_deliveries)

    def all_done() -> bool:
        fd7 = Alert.objects.filter(patient=world.patient, rule_id="FD-7").exists()
        unsent = NotificationDelivery.objects.filter(status__in=UNFINISHED).exists()
        return fd7 and not unsent and not DeclineCheck.objects.exists()

    wait_until(all_done, 30, 0.2, "the sweepers and the worker to finish")
    worker.stop()  # nothing left that could still send

    # then nothing failed (a recipient without a phone, e.g. the caregiver, is skipped)
    assert set(NotificationDelivery.objects.values_list("status", flat=True)) <= {
        DeliveryStatus.SENT,
        DeliveryStatus.SKIPPED,
    }
    # and the decline check ran on the stored log
    fd7 = Alert.objects.get(patient=world.patient, rule_id="FD-7")
    assert fd7.evidence["entries"][-1]["session_id"] == log.pk
    # and every notification went out exactly once per device and e-mail address
    devices = {d.user_id: d.token for d in PushDevice.objects.all()}
    expected_pushes = Counter(
        (str(d.notification_id), devices[d.notification.recipient_id])
        for d in NotificationDelivery.objects.filter(
            channel=Channel.PUSH, status=DeliveryStatus.SENT
        ).select_related("notification")
    )
    sent_pushes = Counter((p["data"]["notification_id"], p["token"]) for p in recorded(pushes))
    assert sent_pushes == expected_pushes
    assert set(expected_pushes.values()) == {1}
    expected_emails = Counter(
        (d.notification.recipient.email, d.notification.title)
        for d in NotificationDelivery.objects.filter(channel=Channel.EMAIL).select_related(
            "notification__recipient"
        )
    )
    sent_emails = Counter(
        (e["to"][0], e["subject"].removeprefix("[PhysioTrack] ")) for e in recorded(emails)
    )
    assert sent_emails == expected_emails
    # covering the red flag and the decline alert, to each clinician on the team
    alert_subjects = set(
        Notification.objects.filter(subject_type="alert").values_list("subject_id", "recipient_id")
    )
    for alert in Alert.objects.all():
        assert {(alert.pk, world.physio.pk)} <= alert_subjects
