"""Regressions for defects found in review of the alert engine, one test each."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine

from backend.accounts.models import PushDevice
from backend.alerts.models import (
    Alert,
    DeclineCheck,
    DeliveryStatus,
    NotificationDelivery,
    Reminder,
    RuleOverride,
    WeeklyAdherence,
)
from backend.alerts.services.adherence import adherence_evaluate
from backend.alerts.services.decline import decline_checks_sweep
from backend.alerts.services.delivery import (
    MAX_ATTEMPTS,
    TransientDeliveryError,
    deliveries_sweep,
    delivery_send,
)
from backend.alerts.services.notifications import Message, notifications_send
from backend.alerts.services.reminders import reminders_run
from backend.exercise.services.assessments import assessment_record
from backend.exercise.services.programmes import programme_activate, programme_pause
from tests.alerts.test_adherence import W44, W45, W46, W47, _enrol, _local, _week
from tests.exercise.conftest import session_body

pytestmark = pytest.mark.django_db


def test_editing_the_note_of_a_reviewed_red_flag_log_does_not_pause_again(
    world, programme, client_for
):
    patient = client_for(world.patient.user)
    logged = patient.post("/api/v1/sessions/", session_body(programme, symptoms=["dark_urine"]))
    programme_activate(programme=programme, by=world.physio)  # the physio reviewed and resumed

    patient.patch(f"/api/v1/sessions/{logged.json()['id']}/", {"note": "typo fixed"})

    programme.refresh_from_db()
    assert programme.status == "active"
    assert Alert.objects.filter(rule_id="SYM-2").count() == 1


def test_patients_do_not_see_how_many_clinical_alerts_exist(world, programme, client_for):
    client_for(world.patient.user).post(
        "/api/v1/sessions/", session_body(programme, symptoms=["rash_flare"])
    )

    own = client_for(world.patient.user).get("/api/v1/patients/").json()["results"][0]
    team = client_for(world.physio).get("/api/v1/patients/").json()["results"]

    assert own["open_alerts"] is None
    assert next(r for r in team if r["id"] == world.patient.pk)["open_alerts"] == 1


def test_a_decline_check_waits_in_the_database_until_the_sweeper_runs_it(world):
    # The check is written with the result; the task that would run it never arrives.
    assessment_record(
        by=world.physio,
        patient=world.patient,
        data={
            "measure": "EGFR",
            "value": Decimal(40),
            "setting": "clinic",
            "measured_at": datetime.now(UTC) - timedelta(hours=1),
        },
    )
    assert DeclineCheck.objects.filter(patient=world.patient).exists()

    swept = decline_checks_sweep(now=datetime.now(UTC) + timedelta(minutes=5))

    assert swept.checked == 1
    assert swept.failed_patients == 0
    assert Alert.objects.filter(rule_id="KID-1", patient=world.patient).count() == 1
    assert not DeclineCheck.objects.exists()


def test_weeks_missed_while_the_job_was_down_are_evaluated_in_order(world, library):
    patient, programme = _enrol(world, library)
    for monday in (W45, W46, W47):
        _week(patient, programme, monday, full=1)
    with time_machine.travel(datetime(2026, 11, 10, 9, tzinfo=UTC), tick=False):
        adherence_evaluate(now=datetime(2026, 11, 10, 9, tzinfo=UTC))  # evaluates W45

    later = datetime(2026, 11, 24, 9, tzinfo=UTC)  # down until the Tuesday after W47
    with time_machine.travel(later, tick=False):
        adherence_evaluate(now=later)

    weeks = dict(
        WeeklyAdherence.objects.filter(patient=patient).values_list(
            "week_start", "consecutive_below"
        )
    )
    assert weeks == {W45: 1, W46: 2, W47: 3}
    a2_weeks = Alert.objects.filter(patient=patient, rule_id="A-2").values_list(
        "period_start", flat=True
    )
    assert sorted(a2_weeks) == [W45, W46, W47]  # W45 by the 28-day ratio, then consecutive


def test_one_absence_raises_one_a3_alert_however_long_it_lasts(world, library):
    patient, programme = _enrol(world, library)
    _week(patient, programme, W44, full=1)  # last session: Tuesday 27 October

    for monday in (W46, W47, W47 + timedelta(weeks=1), W47 + timedelta(weeks=2)):
        moment = datetime.combine(monday + timedelta(days=8), time.min, tzinfo=UTC)
        with time_machine.travel(moment, tick=False):
            adherence_evaluate(now=moment, week_start=monday)

    a3 = Alert.objects.filter(patient=patient, rule_id="A-3")
    assert a3.count() == 1
    assert a3.get().evidence["last_session_at"].startswith("2026-10-27")


def test_days_spent_paused_do_not_count_as_missed(world, library):
    patient, programme = _enrol(world, library)
    _week(patient, programme, W44, full=1)
    with time_machine.travel(_local("Europe/London", W45, 9), tick=False):
        programme_pause(programme=programme, by=world.physio, reason="flare")
    with time_machine.travel(_local("Europe/London", W47 + timedelta(days=4), 9), tick=False):
        programme_activate(programme=programme, by=world.physio)  # resumed on Friday

    after = datetime(2026, 11, 23, 9, tzinfo=UTC)
    with time_machine.travel(after, tick=False):
        adherence_evaluate(now=after, week_start=W47)

    assert not Alert.objects.filter(patient=patient, rule_id="A-3").exists()


def test_overtraining_is_reported_even_while_paused(world, library):
    patient, programme = _enrol(world, library)
    with time_machine.travel(_local("Europe/London", W47, 8), tick=False):
        programme_pause(programme=programme, by=world.physio, reason="flare")
    _week(patient, programme, W47, full=5)

    after = datetime(2026, 11, 23, 9, tzinfo=UTC)
    with time_machine.travel(after, tick=False):
        adherence_evaluate(now=after, week_start=W47)

    row = WeeklyAdherence.objects.get(patient=patient, week_start=W47)
    assert row.suppressed == "paused"
    assert Alert.objects.filter(patient=patient, rule_id="A-4").count() == 1
    assert not Alert.objects.filter(patient=patient, rule_id__in=["A-1", "A-2", "A-3"]).exists()


def test_the_sweeper_respects_the_backoff_and_the_attempt_limit(world, recorded_pushes):
    PushDevice.objects.create(user=world.physio, platform="ios", token="flaky-always")
    notifications_send(
        recipients=[world.physio],
        patient=None,
        message=Message("alert", "t", "b", "alert", 1, "flaky"),
    )
    push = NotificationDelivery.objects.get(channel="push")
    moment = datetime.now(UTC)

    for _ in range(40):  # a sweep every minute for 40 minutes
        moment += timedelta(minutes=1)
        with time_machine.travel(moment, tick=False):
            for delivery_id in deliveries_sweep(now=moment):
                with contextlib.suppress(TransientDeliveryError):
                    delivery_send(delivery_id=delivery_id)

    push.refresh_from_db()
    assert push.attempts == MAX_ATTEMPTS
    assert push.status == DeliveryStatus.FAILED


def test_after_a_long_outage_todays_reminder_is_sent_late_but_yesterdays_is_not(world, programme):
    patient = world.patient
    patient.notifications_consent, patient.training_weekdays = True, [2, 3]
    patient.reminder_time = time(17, 30)
    patient.save()
    tuesday_noon = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    with time_machine.travel(tuesday_noon, tick=False):
        reminders_run(at=tuesday_noon)  # the last run before beat stopped

    wednesday_evening = datetime(2026, 12, 2, 19, 5, tzinfo=UTC)  # 95 minutes late
    with time_machine.travel(wednesday_evening, tick=False):
        reminders_run(at=wednesday_evening)

    assert list(Reminder.objects.values_list("local_date", flat=True)) == [date(2026, 12, 2)]


def test_sun_protection_on_training_days_marked_outdoor(world, programme):
    patient = world.patient
    patient.notifications_consent, patient.training_weekdays = True, [2, 6]
    patient.save()
    RuleOverride.objects.create(
        patient=patient, rule_id="SUN-1", parameters={"outdoor_weekdays": [6], "time": "08:00"}
    )

    saturday, tuesday = (
        datetime(2026, 12, 5, 8, 5, tzinfo=UTC),
        datetime(2026, 12, 8, 8, 5, tzinfo=UTC),
    )
    for moment in (saturday, tuesday):
        with time_machine.travel(moment, tick=False):
            reminders_run(at=moment)

    assert list(Reminder.objects.filter(kind="SUN-1").values_list("local_date", flat=True)) == [
        date(2026, 12, 5)
    ]
