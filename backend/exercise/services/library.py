"""The exercise library: clinicians add and edit their organisation's exercises."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from backend.accounts.models import User
from backend.core.errors import DomainError
from backend.exercise.models import Exercise
from backend.exercise.services.common import ANY_CLINICIAN, require_role_to

EDITABLE = (
    "name",
    "instructions",
    "category",
    "body_regions",
    "muscle_groups",
    "equipment",
    "video_url",
    "image_url",
    "default_dose",
    "safety_notes",
)


def _json_safe(dose: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in dose.items() if v is not None}


def _save(exercise: Exercise) -> Exercise:
    exercise.default_dose = _json_safe(exercise.default_dose or {})
    exercise.full_clean(exclude=["organisation", "created_by"], validate_constraints=False)
    try:
        with transaction.atomic():
            exercise.save()
    except IntegrityError as error:
        raise DomainError(
            "Your library already has an exercise with this name.",
            code="conflict",
            status=409,
            errors={"name": ["Already in your organisation's library."]},
        ) from error
    return exercise


def exercise_create(*, by: User, data: dict[str, Any]) -> Exercise:
    require_role_to(by, ANY_CLINICIAN, "add exercises")
    exercise = Exercise(organisation_id=by.organisation_id, created_by=by)
    for name in EDITABLE:
        if name in data:
            setattr(exercise, name, data[name])
    return _save(exercise)


def exercise_update(*, exercise: Exercise, by: User, changes: dict[str, Any]) -> Exercise:
    require_role_to(by, ANY_CLINICIAN, "edit exercises")
    if exercise.organisation_id != by.organisation_id:
        raise DomainError(
            "Exercises shipped with PhysioTrack cannot be edited; copy it into your library.",
            code="permission_denied",
            status=403,
        )
    for name, value in changes.items():
        setattr(exercise, name, value)
    return _save(exercise)
