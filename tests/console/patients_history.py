"""A patient with a history, built through the services production uses, for the Patients
pages' tests (and a frozen clock: call these inside time_machine.travel)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from backend.accounts.models import PatientProfile, User
from backend.alerts.models import WeeklyAdherence
from backend.exercise.models import Exercise, Programme
from backend.exercise.selectors import local_week_start
from backend.exercise.services.assessments import assessment_record
from backend.exercise.services.programmes import (
    programme_create,
    programme_revise,
    version_content,
)
from backend.symptoms.services import Reported, symptom_report_record
from tests.builders import alert_raised, session_logged
from tests.exercise.conftest import content, make_exercise
from tests.factories import CareTeamMembershipFactory, PatientProfileFactory

WEDNESDAY_NOON_UTC = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def exercise_library() -> dict[str, Exercise]:
    """The exercises `content` prescribes, as tests/exercise's `library` fixture makes them."""
    return {
        "squat": make_exercise("Chair squat", body_regions=["leg", "hip"]),
        "curl": make_exercise("Biceps curl", body_regions=["arm"], equipment=["dumbbell"]),
        "bike": make_exercise("Stationary cycling", "aerobic", muscle_groups=[], equipment=[]),
        "stretch": make_exercise("Calf stretch", "mobility", muscle_groups=[], equipment=[]),
    }


def patient_on_team(
    physio: User, *, timezone_name: str = "Europe/London", **user_fields: str
) -> PatientProfile:
    patient = PatientProfileFactory.create(
        timezone=timezone_name,
        user__organisation=physio.organisation,
        **{f"user__{name}": value for name, value in user_fields.items()},
    )
    CareTeamMembershipFactory.create(patient=patient, member=physio)
    return patient


def with_programme(
    physio: User, patient: PatientProfile, library: dict[str, Exercise], *, weeks_ago: int = 8
) -> Programme:
    start = timezone.localdate() - timedelta(weeks=weeks_ago)
    return programme_create(
        by=physio,
        patient=patient,
        content=content(library, start_date=start, review_date=start + timedelta(weeks=52)),
        activate=True,
    ).programme


def with_history(
    physio: User, patient: PatientProfile, library: dict[str, Exercise], *, weeks: int
) -> Programme:
    """`weeks` weeks of logs (two a week), stored weekly verdicts, CMAS and eGFR results, a
    revised programme, alerts and symptom reports: everything the Patient page draws."""
    programme = with_programme(physio, patient, library, weeks_ago=weeks + 1)
    zone = ZoneInfo(patient.timezone)
    this_monday = local_week_start(timezone.now(), zone)
    for week in range(weeks):
        monday = datetime.combine(this_monday - timedelta(weeks=week + 1), time.min, zone)
        for day in (0, 2):
            session_logged(
                programme,
                started_at=monday + timedelta(days=day, hours=17),
                pain_before=2,
                pain_after=3 + day % 3,
                fatigue=4,
            )
        WeeklyAdherence.objects.create(
            patient=patient,
            week_start=monday.date(),
            sessions=Decimal(2 if week % 3 else 1),
            target_min=2,
            target_max=3,
            below_minimum=not week % 3,
            consecutive_below=1 if not week % 3 else 0,
        )
        measured = monday + timedelta(days=1, hours=10)
        for measure, value in (("CMAS", 40 - week % 5), ("EGFR", 95 - week)):
            assessment_record(
                by=physio,
                patient=patient,
                data={
                    "measure": measure,
                    "value": Decimal(value),
                    "setting": "clinic",
                    "measured_at": measured,
                },
            )
        symptom_report_record(
            by=patient.user,
            patient=patient,
            reported=Reported(
                codes=["rash_flare"], pain_before=None, pain_after=None, other="", note=""
            ),
            source="standalone",
        )
        alert_raised(patient, key=f"history-{patient.pk}-{week}", rule_id="FD-1")
    if weeks:
        assert programme.current_version is not None
        items = content(library)["items"]
        items[0] = {**items[0], "sets": 3}
        stretch = {"exercise": library["stretch"].pk, "sets": 2, "hold_seconds": 30}
        programme_revise(
            programme=programme,
            by=physio,
            content={**version_content(programme.current_version), "items": [*items[:2], stretch]},
            reason="Stronger legs",
        )
    return programme
