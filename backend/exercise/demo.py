"""Demo programmes, six weeks of session logs and assessments for the demo patients.

Idempotent: programmes are created once; session client ids are derived from the patient and
the session's number, so a re-run replays them (stored once) instead of adding more."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from backend.accounts.models import CareTeamRole, PatientProfile
from backend.exercise.models import Assessment, Exercise, Programme
from backend.exercise.services.assessments import assessment_record
from backend.exercise.services.programmes import programme_create
from backend.exercise.services.sessions import session_log_record

DEMO_NAMESPACE = uuid.UUID("6f0c2f4e-3a63-4f1b-9a57-5b2d8e1c0a11")
WEEKS = 6
PROGRAMME_EXERCISES: list[tuple[str, dict[str, Any]]] = [
    ("Sit-to-stand from a chair", {"sets": 2, "reps": 8, "load_unit": "body_weight"}),
    (
        "Seated biceps curl with a light dumbbell",
        {"sets": 2, "reps": 10, "load_unit": "kg", "load_value": Decimal("1.0")},
    ),
    (
        "Steady cycling on a stationary bike",
        {"duration_minutes": 10, "intensity_scale": "rpe_6_20", "intensity_target": Decimal(11)},
    ),
    ("Calf stretch against a wall", {"sets": 2, "hold_seconds": 20}),
]


def _programme_for(patient: PatientProfile, today: datetime) -> Programme:
    existing = Programme.objects.filter(patient=patient).order_by("id").first()
    if existing is not None:
        return existing
    physio = patient.care_team.get(role=CareTeamRole.PHYSIOTHERAPIST).member
    exercises = {e.name: e for e in Exercise.objects.filter(organisation__isnull=True)}
    start = today.date() - timedelta(weeks=WEEKS + 1)
    content = {
        "title": "Home strength and endurance, block 1",
        "goals": "Climb stairs without stopping; get up from the floor with support only.",
        "start_date": start,
        "review_date": start + timedelta(weeks=12),
        "sessions_per_week_min": 2,
        "sessions_per_week_max": 3,
        "training_weekdays": patient.training_weekdays,
        "items": [{"exercise": exercises[name].pk, **dose} for name, dose in PROGRAMME_EXERCISES],
    }
    return programme_create(by=physio, patient=patient, content=content, activate=True).programme


def _sessions(patient: PatientProfile, programme: Programme, now: datetime) -> None:
    rng = random.Random(patient.user.username)  # noqa: S311  # demo data, not security
    zone = ZoneInfo(patient.timezone)
    version = programme.current_version
    assert version is not None  # noqa: S101  # demo programmes are created with a version
    items = list(version.items.order_by("position"))
    local_today = timezone.localtime(now, zone).date()
    number = 0
    for day_offset in range(WEEKS * 7, 0, -1):
        day = local_today - timedelta(days=day_offset)
        if day.isoweekday() not in patient.training_weekdays or rng.random() < 0.2:
            continue
        number += 1
        started = datetime.combine(day, patient.reminder_time, tzinfo=zone)
        pain_before = rng.randint(1, 3)
        session_log_record(
            by=patient.user,
            patient=patient,
            data={
                "client_id": uuid.uuid5(DEMO_NAMESPACE, f"{patient.user.username}:{number}"),
                "version": version.pk,
                "started_at": started,
                "ended_at": started + timedelta(minutes=rng.randint(25, 40)),
                "completion": "full" if rng.random() < 0.8 else "partial",
                "effort_scale": "rpe_6_20",
                "effort_value": Decimal(rng.randint(10, 13)),
                "pain_before": pain_before,
                "pain_after": pain_before + rng.randint(0, 2),
                "fatigue": rng.randint(2, 6),
                "symptoms": [],
                "note": "",
                "results": [
                    {
                        "item": item.pk,
                        "sets_done": item.sets,
                        "reps_done": item.reps,
                        "duration_minutes_done": item.duration_minutes,
                    }
                    for item in items
                ],
            },
        )


def _assessments(patient: PatientProfile, now: datetime) -> None:
    if Assessment.objects.filter(patient=patient).exists():
        return
    physio = patient.care_team.get(role=CareTeamRole.PHYSIOTHERAPIST).member
    for weeks_ago, cmas, sts in ((12, 38, 9), (6, 41, 11), (1, 43, 12)):
        at = now - timedelta(weeks=weeks_ago)
        assessment_record(
            by=physio,
            patient=patient,
            data={
                "measure": "CMAS",
                "value": Decimal(cmas),
                "setting": "clinic",
                "measured_at": at,
            },
        )
        assessment_record(
            by=patient.user,
            patient=patient,
            data={"measure": "STS30", "value": Decimal(sts), "setting": "home", "measured_at": at},
        )
        assessment_record(
            by=patient.user,
            patient=patient,
            data={
                "measure": "CHAQ",
                "value": Decimal("0.625"),
                "setting": "home",
                "measured_at": at,
            },
        )


@transaction.atomic
def demo_programmes_seed() -> int:
    """Returns how many demo patients have a programme with logs."""
    now = timezone.now()
    patients = PatientProfile.objects.filter(user__username__startswith="demo.").select_related(
        "user"
    )
    for patient in patients:
        programme = _programme_for(patient, datetime.combine(now.date(), time.min))
        _sessions(patient, programme, now)
        _assessments(patient, now)
    return len(patients)
