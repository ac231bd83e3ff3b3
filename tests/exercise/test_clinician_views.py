"""The clinician's patient list and patient summary count sessions in each patient's own
local ISO week (Monday to Sunday), across week ends and daylight-saving changes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from backend.exercise.services.programmes import programme_create
from backend.exercise.services.sessions import session_log_record
from tests.exercise.conftest import content
from tests.factories import CareTeamMembershipFactory, PatientProfileFactory

pytestmark = pytest.mark.django_db

WEDNESDAY_NOON_UTC = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _patient_with_programme(world, library, timezone_name):
    patient = PatientProfileFactory.create(user__organisation=world.org, timezone=timezone_name)
    CareTeamMembershipFactory.create(patient=patient, member=world.physio)
    programme = programme_create(
        by=world.physio, patient=patient, content=content(library), activate=True
    ).programme
    return patient, programme


def _log(patient, programme, started_at, completion="full", pain_after=3):
    session_log_record(
        by=patient.user,
        patient=patient,
        data={
            "client_id": uuid.uuid4(),
            "version": programme.current_version.pk,
            "started_at": started_at,
            "ended_at": started_at + timedelta(minutes=30),
            "completion": completion,
            "pain_before": 2,
            "pain_after": pain_after,
        },
    )


def _row(rows, patient):
    return next(row for row in rows if row["id"] == patient.pk)


def test_this_week_is_the_patients_local_week(world, library, client_for):
    auckland, auckland_programme = _patient_with_programme(world, library, "Pacific/Auckland")
    london, london_programme = _patient_with_programme(world, library, "Europe/London")
    # Sunday 22 November 19:00 UTC is Monday 08:00 in Auckland but still Sunday in London.
    sunday_evening_utc = datetime(2026, 11, 22, 19, 0, tzinfo=UTC)
    _log(auckland, auckland_programme, sunday_evening_utc)
    _log(london, london_programme, sunday_evening_utc)
    _log(london, london_programme, datetime(2026, 11, 24, 18, 0, tzinfo=UTC), "partial")

    with time_machine.travel(WEDNESDAY_NOON_UTC):
        rows = client_for(world.physio).get("/api/v1/patients/").json()["results"]

    assert _row(rows, auckland)["sessions_this_week"] == "1.0"
    assert _row(rows, london)["sessions_this_week"] == "0.5"


def test_the_list_shows_programme_last_session_and_last_pain(world, library, client_for):
    patient, programme = _patient_with_programme(world, library, "America/New_York")
    _log(patient, programme, datetime(2026, 11, 20, 22, 0, tzinfo=UTC), pain_after=5)
    _log(patient, programme, datetime(2026, 11, 23, 22, 0, tzinfo=UTC), pain_after=4)

    with time_machine.travel(WEDNESDAY_NOON_UTC):
        row = _row(client_for(world.physio).get("/api/v1/patients/").json()["results"], patient)

    assert row["programme"] == {
        "id": programme.pk,
        "title": "Strength block 1",
        "status": "active",
        "version_number": 1,
        "sessions_per_week_min": 2,
        "sessions_per_week_max": 3,
    }
    assert row["last_session_at"] == "2026-11-23T22:00:00Z"
    assert row["last_pain"] == 4


def test_a_patient_without_programme_or_logs_has_empty_activity(world, client_for):
    with time_machine.travel(WEDNESDAY_NOON_UTC):
        row = _row(
            client_for(world.physio).get("/api/v1/patients/").json()["results"], world.patient
        )

    assert row["programme"] is None
    assert row["sessions_this_week"] == "0.0"
    assert row["last_session_at"] is None
    assert row["last_pain"] is None


@pytest.mark.parametrize(
    ("zone", "logs", "expected"),
    [
        # London leaves summer time on Sunday 25 October 2026 (02:00 BST -> 01:00 GMT).
        (
            "Europe/London",
            [
                datetime(2026, 10, 24, 23, 30, tzinfo=UTC),  # Sunday 00:30 BST: week of 19 Oct
                datetime(2026, 10, 25, 23, 30, tzinfo=UTC),  # Sunday 23:30 GMT: week of 19 Oct
                datetime(2026, 10, 26, 0, 30, tzinfo=UTC),  # Monday 00:30 GMT: week of 26 Oct
            ],
            {"2026-10-19": "2.0", "2026-10-26": "1.0"},
        ),
        # New York leaves daylight time on Sunday 1 November 2026.
        (
            "America/New_York",
            [
                datetime(2026, 11, 2, 4, 30, tzinfo=UTC),  # Sunday 23:30 EST: week of 26 Oct
                datetime(2026, 11, 2, 5, 30, tzinfo=UTC),  # Monday 00:30 EST: week of 2 Nov
            ],
            {"2026-10-26": "1.0", "2026-11-02": "1.0"},
        ),
        # Sydney's Monday begins on Sunday afternoon UTC (UTC+11 in summer).
        (
            "Australia/Sydney",
            [
                datetime(2026, 11, 15, 12, 59, tzinfo=UTC),  # Sunday 23:59 AEDT: week of 9 Nov
                datetime(2026, 11, 15, 13, 1, tzinfo=UTC),  # Monday 00:01 AEDT: week of 16 Nov
            ],
            {"2026-11-09": "1.0", "2026-11-16": "1.0"},
        ),
    ],
)
def test_weekly_counts_follow_local_weeks_across_dst(
    world, library, client_for, zone, logs, expected
):
    patient, programme = _patient_with_programme(world, library, zone)
    for started_at in logs:
        _log(patient, programme, started_at)

    with time_machine.travel(WEDNESDAY_NOON_UTC):
        summary = client_for(world.physio).get(f"/api/v1/patients/{patient.pk}/summary/").json()

    weeks = {week["week_start"]: week["sessions"] for week in summary["weeks"]}
    assert len(summary["weeks"]) == 12
    assert all(datetime.fromisoformat(day).weekday() == 0 for day in weeks)
    assert {day: count for day, count in weeks.items() if count != "0.0"} == expected
    assert summary["weeks"][-1]["week_start"] == "2026-11-23"
    assert summary["weeks"][0]["target_min"] == 2
    assert summary["weeks"][0]["target_max"] == 3


def test_the_summary_carries_pain_effort_and_assessment_trends(world, library, client_for):
    patient, programme = _patient_with_programme(world, library, "Europe/Madrid")
    _log(patient, programme, datetime(2026, 11, 10, 17, 0, tzinfo=UTC), pain_after=5)
    from backend.exercise.services.assessments import assessment_record

    assessment_record(
        by=world.physio,
        patient=patient,
        data={
            "measure": "CMAS",
            "value": Decimal(40),
            "setting": "clinic",
            "measured_at": datetime(2026, 11, 3, 10, 0, tzinfo=UTC),
        },
    )

    with time_machine.travel(WEDNESDAY_NOON_UTC):
        summary = client_for(world.physio).get(f"/api/v1/patients/{patient.pk}/summary/").json()

    assert summary["timezone"] == "Europe/Madrid"
    assert summary["programme"]["id"] == programme.pk
    assert [s["pain_after"] for s in summary["sessions"]] == [5]
    assert summary["assessments"][0]["measure"] == "CMAS"
    assert summary["assessments"][0]["baseline"] == "40.000"


def test_deleted_logs_do_not_count(world, library, client_for):
    patient, programme = _patient_with_programme(world, library, "Europe/London")
    _log(patient, programme, datetime(2026, 11, 24, 18, 0, tzinfo=UTC))
    from backend.exercise.models import SessionLog
    from backend.exercise.services.sessions import session_log_delete

    with time_machine.travel(WEDNESDAY_NOON_UTC):
        session_log_delete(session=SessionLog.objects.get(patient=patient), by=patient.user)
        rows = client_for(world.physio).get("/api/v1/patients/").json()["results"]

    assert _row(rows, patient)["sessions_this_week"] == "0.0"
    assert _row(rows, patient)["last_session_at"] is None
