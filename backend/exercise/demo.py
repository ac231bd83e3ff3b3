"""Demo programmes, twelve weeks of session logs, assessments, symptom reports and alerts for
the demo patients, so every chart of the console shows something real.

Each patient has a story, all written through the services the API uses:
- Amelia trains steadily and is getting stronger; her last two sessions were easy, so a
  progression is proposed; her programme was revised after six weeks (version 2).
- Noah's adherence dropped a month ago (weeks below target, an adherence alert), his CMAS
  fell and his eGFR is low (decline and kidney alerts), he reported a new calcinosis nodule
  (routine alert), his pain-rise rule was tuned, and a caregiver is invited, not activated.
- Mia reported chest pain at her last session (an open emergency alert; the programme was
  paused by the red flag and resumed by her physiotherapist after a phone review).

Idempotent and deterministic: programmes are created once, revised once; session client ids
are derived from the patient and the session's number, so a re-run replays them (stored
once) instead of adding more; assessments, the caregiver and the rule change are made once.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from backend.accounts.models import CaregiverLink, CareTeamRole, PatientProfile, User
from backend.accounts.services import caregiver_invite
from backend.alerts.services.decline import decline_evaluate
from backend.alerts.services.rule_settings import rule_settings_update
from backend.exercise.models import Assessment, Exercise, Programme, ProgrammeVersion
from backend.exercise.services.assessments import assessment_record
from backend.exercise.services.programmes import (
    programme_activate,
    programme_create,
    programme_revise,
    version_content,
)
from backend.exercise.services.sessions import session_log_record

DEMO_NAMESPACE = uuid.UUID("6f0c2f4e-3a63-4f1b-9a57-5b2d8e1c0a11")
WEEKS = 12
REVISED_AFTER_WEEKS = 6
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
REVISION_REASON = "Sit-to-stand is easy at 8 reps: 10 reps, and 12 minutes on the bike."


@dataclass(frozen=True)
class Story:
    """How a demo patient's weeks went: sessions per week by weeks ago (default 2-3), pain
    and fatigue drift, a symptom at a session (days ago, codes), and assessments at 12, 6
    and 1 weeks ago."""

    sessions_in_week: dict[int, int]
    pain_drift: int  # added to pain after over the last 4 weeks
    symptom: tuple[int, list[str]] | None
    assessments: dict[str, tuple[str, str, tuple[str, str, str]]]  # measure: setting, by, values
    skip_chance: float = 0.15  # of a training day without a session, in ordinary weeks


STORIES: dict[str, Story] = {
    "demo.amelia": Story(
        sessions_in_week={},
        pain_drift=0,
        symptom=None,
        assessments={
            "CMAS": ("clinic", "physio", ("38", "41", "44")),
            "MMT8": ("clinic", "physio", ("62", "67", "72")),
            "CHAQ": ("home", "patient", ("0.875", "0.75", "0.625")),
            "STS30": ("home", "patient", ("9", "11", "12")),
            "TUG": ("home", "patient", ("9.8", "9.0", "8.4")),
            "EGFR": ("clinic", "physician", ("102", "99", "98")),
        },
    ),
    "demo.noah": Story(
        sessions_in_week={4: 1, 3: 1, 2: 0, 1: 1},
        pain_drift=2,
        symptom=(9, ["calcinosis_nodule"]),
        assessments={
            "CMAS": ("clinic", "physio", ("45", "46", "42")),
            "MMT8": ("clinic", "physio", ("74", "75", "70")),
            "CHAQ": ("home", "patient", ("0.25", "0.375", "0.5")),
            "STS30": ("home", "patient", ("15", "15", "13")),
            "TUG": ("home", "patient", ("6.8", "6.9", "7.4")),
            "EGFR": ("clinic", "physician", ("86", "74", "56")),
        },
    ),
    "demo.mia": Story(
        sessions_in_week={},
        pain_drift=0,
        symptom=(0, ["chest_pain"]),  # 0: her most recent session
        skip_chance=0.05,  # she trains on 2 days a week: each missed day is a week below target
        assessments={
            "CMAS": ("clinic", "physio", ("40", "41", "42")),
            "MMT8": ("clinic", "physio", ("68", "70", "71")),
            "CHAQ": ("home", "patient", ("1.0", "0.875", "0.875")),
            "STS30": ("home", "patient", ("11", "12", "13")),
            "TUG": ("home", "patient", ("8.5", "8.1", "7.9")),
            "EGFR": ("clinic", "physician", ("92", "90", "91")),
        },
    ),
}
ASSESSED_WEEKS_AGO = (12, 6, 1)


def _member(patient: PatientProfile, role: str) -> User:
    return patient.care_team.get(role=role).member


def _programme_for(patient: PatientProfile, today: date) -> Programme:
    existing = Programme.objects.filter(patient=patient).order_by("id").first()
    if existing is not None:
        return existing
    exercises = {e.name: e for e in Exercise.objects.filter(organisation__isnull=True)}
    start = today - timedelta(weeks=WEEKS + 1)
    content = {
        "title": "Home strength and endurance, block 1",
        "goals": "Climb stairs without stopping; get up from the floor with support only.",
        "start_date": start,
        "review_date": start + timedelta(weeks=16),
        "sessions_per_week_min": 2,
        "sessions_per_week_max": 3,
        "training_weekdays": patient.training_weekdays,
        "items": [{"exercise": exercises[name].pk, **dose} for name, dose in PROGRAMME_EXERCISES],
    }
    physio = _member(patient, CareTeamRole.PHYSIOTHERAPIST)
    return programme_create(by=physio, patient=patient, content=content, activate=True).programme


def _revised(programme: Programme) -> ProgrammeVersion:
    """Version 2, made once: more reps of the sit-to-stand and longer cycling."""
    second = programme.versions.filter(number=2).first()
    if second is not None:
        return second
    first = programme.versions.get(number=1)
    content = version_content(first)
    for item in content["items"]:
        if item.get("reps") == 8:
            item["reps"] = 10
        if item.get("duration_minutes") == 10:
            item["duration_minutes"] = 12
    physio = _member(programme.patient, CareTeamRole.PHYSIOTHERAPIST)
    revised = programme_revise(
        programme=programme, by=physio, content=content, reason=REVISION_REASON
    ).programme
    assert revised.current_version is not None  # noqa: S101  # a revision makes a version
    return revised.current_version


def _training_days(patient: PatientProfile, story: Story, local_today: date) -> list[date]:
    """The days the patient trained, oldest first: their training weekdays, with some missed
    (the story's weeks say how many sessions a week held)."""
    rng = random.Random(f"days:{patient.user.username}")  # noqa: S311  # demo data
    days: list[date] = []
    for day_offset in range(WEEKS * 7, 0, -1):
        day = local_today - timedelta(days=day_offset)
        if day.isoweekday() not in patient.training_weekdays:
            continue
        weeks_ago = (local_today - day).days // 7 + 1
        allowed = story.sessions_in_week.get(weeks_ago)
        week_count = sum(1 for d in days if (local_today - d).days // 7 + 1 == weeks_ago)
        if allowed is not None and week_count >= allowed:
            continue
        if allowed is None and rng.random() < story.skip_chance:
            continue
        days.append(day)
    return days


def _sessions(patient: PatientProfile, programme: Programme, now: datetime) -> None:
    story = STORIES.get(patient.user.username, STORIES["demo.amelia"])
    rng = random.Random(patient.user.username)  # noqa: S311  # demo data, not security
    zone = ZoneInfo(patient.timezone)
    local_today = timezone.localtime(now, zone).date()
    first = programme.versions.get(number=1)
    revision_day = first.start_date + timedelta(weeks=REVISED_AFTER_WEEKS + 1)
    days = _training_days(patient, story, local_today)
    symptom_day = None
    if story.symptom is not None:
        days_ago, _ = story.symptom
        symptom_day = days[-1] if days_ago == 0 else local_today - timedelta(days=days_ago)
        if symptom_day not in days:
            days = sorted([*days, symptom_day])
    for number, day in enumerate(days, start=1):
        version = first if day < revision_day else _revised(programme)
        items = list(version.items.order_by("position"))
        started = datetime.combine(day, patient.reminder_time, tzinfo=zone)
        recent = (local_today - day).days < 28
        easy = number > len(days) - 2 and story.symptom is None and not story.pain_drift
        pain_before = rng.randint(1, 3)
        rise = 0 if easy else rng.randint(0, 2) + (story.pain_drift if recent else 0)
        rise = min(rise, 3)  # 4 above pain before is the muscle-pain red flag (SYM-2)
        symptoms = story.symptom[1] if story.symptom and day == symptom_day else []
        session_log_record(
            by=patient.user,
            patient=patient,
            data={
                "client_id": uuid.uuid5(DEMO_NAMESPACE, f"{patient.user.username}:{number}"),
                "version": version.pk,
                "started_at": started,
                "ended_at": started + timedelta(minutes=rng.randint(25, 40)),
                "completion": "full" if easy or rng.random() < 0.8 else "partial",
                "effort_scale": "rpe_6_20",
                "effort_value": Decimal(11 if easy else rng.randint(10, 13)),
                "pain_before": pain_before,
                "pain_after": min(pain_before + rise, 6),  # 7 is the red flag (SYM-2)
                "fatigue": min(rng.randint(2, 5) + (story.pain_drift if recent else 0), 10),
                "symptoms": symptoms,
                "note": "Felt a tight chest on the bike and stopped."
                if symptoms == ["chest_pain"]
                else "",
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
    story = STORIES.get(patient.user.username, STORIES["demo.amelia"])
    recorders = {
        "physio": _member(patient, CareTeamRole.PHYSIOTHERAPIST),
        "physician": _member(patient, CareTeamRole.PHYSICIAN),
        "patient": patient.user,
    }
    for index, weeks_ago in enumerate(ASSESSED_WEEKS_AGO):
        at = now - timedelta(weeks=weeks_ago)
        for measure, (setting, by, values) in story.assessments.items():
            assessment_record(
                by=recorders[by],
                patient=patient,
                data={
                    "measure": measure,
                    "value": Decimal(values[index]),
                    "setting": setting,
                    "measured_at": at,
                },
            )


def _resumed_after_review(patient: PatientProfile, programme: Programme) -> None:
    """Mia's red flag paused her programme; her physiotherapist phoned her and resumed it
    (the emergency alert stays open for the team to close)."""
    programme.refresh_from_db()
    if programme.status == "paused":
        programme_activate(programme=programme, by=_member(patient, CareTeamRole.PHYSIOTHERAPIST))


def _noah_extras(patient: PatientProfile) -> None:
    physio = _member(patient, CareTeamRole.PHYSIOTHERAPIST)
    # His pain rises with a growth spurt: the team asks for a 3-point rise before FD-7 fires.
    rule_settings_update(patient=patient, by=physio, changes={"FD-7": {"points": 3}})
    if not CaregiverLink.history.filter(patient=patient).exists():
        caregiver_invite(
            patient=patient,
            by=physio,
            first_name="Carmen",
            last_name="Rivera",
            relationship="parent",
            email="carmen.rivera@example.org",
        )


@transaction.atomic
def demo_programmes_seed() -> int:
    """Returns how many demo patients have a programme with logs."""
    now = timezone.now()
    patients = list(
        PatientProfile.objects.filter(user__username__startswith="demo.").select_related("user")
    )
    for patient in patients:
        programme = _programme_for(patient, now.date())
        _sessions(patient, programme, now)
        _assessments(patient, now)
        if patient.user.username == "demo.mia":
            _resumed_after_review(patient, programme)
        if patient.user.username == "demo.noah":
            _noah_extras(patient)
    # The decline and kidney rules run after commit in a worker; the demo runs them now, so
    # the alerts are there when the console opens (a second run raises nothing new).
    decline_evaluate(patient_ids=[patient.pk for patient in patients], now=now)
    return len(patients)
