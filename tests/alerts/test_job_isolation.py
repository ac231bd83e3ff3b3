"""One bad stored setting never stops a periodic job for the other patients: the weekly job,
the reminder sweep and the decline checks log the patient (with their id), count them in
the job's result, and evaluate everyone else (issue "[1/5] The safety net holds")."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from backend.accounts.models import PatientProfile
from backend.alerts.models import Alert, DeclineCheck, Reminder, RuleOverride, WeeklyAdherence
from backend.alerts.services import adherence
from backend.alerts.services.adherence import adherence_evaluate
from backend.alerts.services.decline import decline_checks_sweep
from backend.alerts.services.reminders import reminders_run
from backend.exercise.services.assessments import assessment_record
from backend.exercise.services.programmes import programme_create
from tests.conftest import World
from tests.exercise.conftest import content
from tests.factories import CareTeamMembershipFactory, PatientProfileFactory

pytestmark = pytest.mark.django_db

W47 = date(2026, 11, 16)
AFTER_W47 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 09:00 in London
SEPT_30 = datetime(2026, 9, 30, 9, 0, tzinfo=UTC)
CORRUPT = [
    pytest.param("A-3", {"days_without_session": "abc"}, id="A-3-days-not-a-number"),
    pytest.param("FD-1", {"drop_points": None}, id="FD-1-drop-points-null"),
]


def _enrol(world: World, library: dict, patient: PatientProfile | None = None) -> PatientProfile:
    """A consenting London patient of the world's physiotherapist, on an active programme
    since 1 October 2026, with a CMAS of 44 on 1 then 40 on 30 September (FD-1)."""
    if patient is None:
        patient = PatientProfileFactory.create(user__organisation=world.org)
        CareTeamMembershipFactory.create(patient=patient, member=world.physio)
    patient.notifications_consent = True
    patient.save()
    programme_create(by=world.physio, patient=patient, content=content(library), activate=True)
    for value, at in ((44, datetime(2026, 9, 1, 9, tzinfo=UTC)), (40, SEPT_30)):
        assessment_record(
            by=world.physio,
            patient=patient,
            data={
                "measure": "CMAS",
                "value": Decimal(value),
                "setting": "clinic",
                "measured_at": at,
            },
        )
    return patient


def _logged_for(caplog: pytest.LogCaptureFixture, patient: PatientProfile) -> list[Any]:
    return [r for r in caplog.records if getattr(r, "patient_id", None) == patient.pk]


@pytest.mark.parametrize(("rule_id", "parameters"), CORRUPT)
def test_the_weekly_job_evaluates_everyone_after_a_patient_whose_setting_is_corrupt(
    world: World, library: dict, monkeypatch, caplog, rule_id, parameters
):
    # Given batches of 2 patients, a corrupt override for the first patient of the first
    # batch, and six more patients after them, none of whom trained for weeks
    monkeypatch.setattr(adherence, "BATCH_SIZE", 2)
    with time_machine.travel(datetime(2026, 10, 1, 9, tzinfo=UTC), tick=False):
        first = _enrol(world, library, world.patient)
        others = [_enrol(world, library) for _ in range(6)]
    RuleOverride.objects.create(patient=first, rule_id=rule_id, parameters=parameters)
    assert min(PatientProfile.objects.values_list("pk", flat=True)) == first.pk

    # When the weekly job runs (twice, as the hourly task does)
    with time_machine.travel(AFTER_W47, tick=False), caplog.at_level(logging.ERROR):
        result = adherence_evaluate(now=AFTER_W47)
        again = adherence_evaluate(now=AFTER_W47)

    # Then every other patient's week is evaluated and alerted; the corrupt one is logged
    # with their id, counted, and left for the next run
    assert result.failed_patients == 1
    assert again.failed_patients == 1
    assert result.evaluated == PatientProfile.objects.count() - 1
    assert not WeeklyAdherence.objects.filter(patient=first).exists()
    for patient in others:
        assert WeeklyAdherence.objects.filter(patient=patient, week_start=W47).exists()
        assert Alert.objects.filter(patient=patient, rule_id="A-3").count() == 1
        assert Alert.objects.filter(patient=patient, rule_id="FD-1").count() == 1
    assert not Alert.objects.filter(patient=first).exists()
    logged = _logged_for(caplog, first)
    assert logged
    assert logged[0].exc_info is not None


def test_the_decline_checks_evaluate_everyone_after_a_patient_whose_setting_is_corrupt(
    world: World, library: dict, caplog
):
    # Given decline checks waiting for seven patients, the oldest one (the first of the first
    # batch of 2) with a corrupt FD-1 threshold; each patient's CMAS fell from 44 to 40
    with time_machine.travel(datetime(2026, 10, 1, 9, tzinfo=UTC), tick=False):
        first = _enrol(world, library, world.patient)
    with time_machine.travel(datetime(2026, 10, 1, 10, tzinfo=UTC), tick=False):
        others = [_enrol(world, library) for _ in range(6)]
    RuleOverride.objects.create(patient=first, rule_id="FD-1", parameters={"drop_points": None})

    # When the sweeper runs the waiting checks in batches of 2
    with time_machine.travel(AFTER_W47, tick=False), caplog.at_level(logging.ERROR):
        swept = decline_checks_sweep(now=AFTER_W47, batch_size=2)

    # Then the others' declines are raised and their checks cleared; the corrupt patient's
    # check stays for a later try, and the failure is logged with their id
    assert (swept.checked, swept.failed_patients) == (7, 1)
    for patient in others:
        assert Alert.objects.filter(patient=patient, rule_id="FD-1").count() == 1
    assert list(DeclineCheck.objects.values_list("patient_id", flat=True)) == [first.pk]
    assert _logged_for(caplog, first)


def test_the_reminder_sweep_reminds_everyone_but_a_patient_whose_setting_is_corrupt(
    world: World, library: dict, caplog
):
    # Given three patients due for the Thursday nudge at 17:30 in London, the first with a
    # sun-protection override whose time is not a time
    with time_machine.travel(datetime(2026, 10, 1, 9, tzinfo=UTC), tick=False):
        first = _enrol(world, library, world.patient)
        others = [_enrol(world, library) for _ in range(2)]
    RuleOverride.objects.create(
        patient=first, rule_id="SUN-1", parameters={"time": "abc", "outdoor_weekdays": [4]}
    )

    # When the reminder task runs on Thursday 3 December at 17:35
    thursday = datetime(2026, 12, 3, 17, 35, tzinfo=UTC)
    with time_machine.travel(thursday, tick=False), caplog.at_level(logging.ERROR):
        run = reminders_run(at=thursday)

    # Then everyone gets the nudge (the corrupt override only costs its own sun reminder),
    # and the failure is counted and logged with the patient's id
    assert run.failed_patients == 1
    for patient in [first, *others]:
        assert Reminder.objects.filter(patient=patient, kind="R-1").count() == 1
    assert not Reminder.objects.filter(kind="SUN-1").exists()
    assert _logged_for(caplog, first)
    assert run.sent == 3
