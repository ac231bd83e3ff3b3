"""Fixtures for the exercise area: a small library and a prescribed, active programme."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from backend.exercise.models import Exercise, Programme
from backend.exercise.services.programmes import programme_create
from tests.conftest import World

PROGRAMME_START = date(2026, 10, 1)


def make_exercise(name: str, category: str = "resistance", **extra: Any) -> Exercise:
    return Exercise.objects.create(
        name=name,
        instructions="1. Do it slowly.",
        category=category,
        body_regions=extra.pop("body_regions", ["leg"]),
        muscle_groups=extra.pop("muscle_groups", ["quadriceps"]),
        equipment=extra.pop("equipment", ["chair"]),
        **extra,
    )


@pytest.fixture
def library(db: None) -> dict[str, Exercise]:
    return {
        "squat": make_exercise("Chair squat", body_regions=["leg", "hip"]),
        "curl": make_exercise(
            "Biceps curl",
            body_regions=["arm"],
            muscle_groups=["biceps_brachii"],
            equipment=["dumbbell"],
        ),
        "bike": make_exercise(
            "Stationary cycling",
            "aerobic",
            body_regions=["whole_body"],
            muscle_groups=[],
            equipment=["bike"],
        ),
        "stretch": make_exercise(
            "Calf stretch",
            "mobility",
            body_regions=["ankle"],
            muscle_groups=[],
            equipment=["wall"],
        ),
        "balance": make_exercise(
            "Single-leg stand", "balance", body_regions=["leg"], equipment=["none"]
        ),
    }


def content(library: dict[str, Exercise], **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "title": "Strength block 1",
        "goals": "Rise from the floor without help",
        "start_date": PROGRAMME_START,
        "review_date": PROGRAMME_START + timedelta(weeks=12),
        "sessions_per_week_min": 2,
        "sessions_per_week_max": 3,
        "training_weekdays": [1, 3, 5],
        "items": [
            {
                "exercise": library["squat"].pk,
                "sets": 2,
                "reps": 10,
                "rest_seconds": 60,
                "intensity_scale": "rpe_6_20",
                "intensity_target": 11,
            },
            {
                "exercise": library["curl"].pk,
                "sets": 2,
                "reps": 12,
                "load_unit": "kg",
                "load_value": 2,
            },
            {"exercise": library["bike"].pk, "duration_minutes": 10},
        ],
    }
    return {**base, **overrides}


def as_json(data: dict[str, Any]) -> dict[str, Any]:
    """The same content as a JSON request body."""
    out = dict(data)
    for key in ("start_date", "review_date"):
        if isinstance(out.get(key), date):
            out[key] = out[key].isoformat()
    return out


@pytest.fixture
def programme(world: World, library: dict[str, Exercise]) -> Programme:
    prescribed = programme_create(
        by=world.physio, patient=world.patient, content=content(library), activate=True
    )
    return prescribed.programme


def session_body(programme: Programme, **overrides: Any) -> dict[str, Any]:
    version = programme.current_version
    assert version is not None
    started = overrides.pop("started_at", timezone.now() - timedelta(hours=1))
    if isinstance(started, datetime):
        ended = overrides.pop("ended_at", started + timedelta(minutes=35))
    else:
        ended = overrides.pop("ended_at")
    items = list(version.items.order_by("position"))
    body: dict[str, Any] = {
        "client_id": str(uuid.uuid4()),
        "version": version.pk,
        "started_at": started.isoformat() if isinstance(started, datetime) else started,
        "ended_at": ended.isoformat() if isinstance(ended, datetime) else ended,
        "completion": "full",
        "effort_scale": "rpe_6_20",
        "effort_value": 11,
        "pain_before": 2,
        "pain_after": 3,
        "fatigue": 4,
        "symptoms": [],
        "note": "Felt fine",
        "results": [
            {"item": items[0].pk, "sets_done": 2, "reps_done": 10},
            {
                "item": items[1].pk,
                "sets_done": 2,
                "reps_done": 12,
                "load_value": 2,
                "load_unit": "kg",
            },
            {"item": items[2].pk, "duration_minutes_done": 10},
        ],
    }
    body.update(overrides)
    return body
