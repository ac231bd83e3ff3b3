"""Prescribing: programmes, their versions and their status."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from backend.accounts.models import PatientProfile, User
from backend.alerts.models import NotificationKind
from backend.alerts.services.notifications import Message, notifications_send
from backend.core.errors import DomainError
from backend.exercise.codes import SCALE_RANGES, Category, LoadUnit
from backend.exercise.models import (
    Exercise,
    PauseReason,
    Programme,
    ProgrammeEvent,
    ProgrammeItem,
    ProgrammeStatus,
    ProgrammeVersion,
)
from backend.exercise.services.common import ANY_CLINICIAN, PHYSIO_ONLY, require_care_team

# Adherence is better with 2-4 exercises (Bachmann 2018): warn the prescriber above this.
RECOMMENDED_MAX_EXERCISES = 4
DOSE_FIELDS = (
    "sets",
    "reps",
    "hold_seconds",
    "load_value",
    "load_unit",
    "band_colour",
    "duration_minutes",
    "interval_work_seconds",
    "interval_rest_seconds",
    "interval_repeats",
    "rest_seconds",
    "intensity_scale",
    "intensity_target",
    "notes",
)
CONTENT_FIELDS = (
    "title",
    "goals",
    "start_date",
    "review_date",
    "sessions_per_week_min",
    "sessions_per_week_max",
    "training_weekdays",
)


@dataclass
class Prescribed:
    programme: Programme
    warnings: list[str] = field(default_factory=list)


def _item_errors(item: dict[str, Any], exercise: Exercise) -> list[str]:
    """What is wrong with one item's dose for its exercise's category (DOMAIN.md 3)."""
    errors = []
    category = exercise.category
    if category == Category.AEROBIC:
        if not item.get("duration_minutes"):
            errors.append("An aerobic exercise needs duration_minutes.")
        interval = [
            item.get(name)
            for name in ("interval_work_seconds", "interval_rest_seconds", "interval_repeats")
        ]
        if any(interval) and not all(interval):
            errors.append("Intervals need work seconds, rest seconds and repeats together.")
    else:
        if not item.get("sets"):
            errors.append(f"A {category} exercise needs sets.")
        if not item.get("reps") and not item.get("hold_seconds"):
            errors.append(f"A {category} exercise needs reps or hold_seconds.")
    unit, value = item.get("load_unit") or "", item.get("load_value")
    if unit == LoadUnit.KG and not value:
        errors.append("A load in kg needs load_value.")
    if unit == LoadUnit.BAND and not item.get("band_colour"):
        errors.append("A band load needs band_colour.")
    if value is not None and unit != LoadUnit.KG:
        errors.append("load_value is only for loads in kg.")
    scale, target = item.get("intensity_scale") or "", item.get("intensity_target")
    if bool(scale) != (target is not None):
        errors.append("intensity_scale and intensity_target go together.")
    elif scale and target is not None:
        low, high = SCALE_RANGES[scale]
        if not low <= target <= high:
            errors.append(f"intensity_target must be within {low}–{high} on {scale}.")
    return errors


def _exercises_for(by: User, items: list[dict[str, Any]]) -> dict[int, Exercise]:
    ids = {item["exercise"] for item in items}
    usable = Exercise.objects.filter(pk__in=ids).filter(
        Q(organisation__isnull=True) | Q(organisation_id=by.organisation_id)
    )
    return {exercise.pk: exercise for exercise in usable}


def _validate_content(by: User, content: dict[str, Any]) -> tuple[dict[int, Exercise], list[str]]:
    errors: dict[str, Any] = {}
    low, high = content.get("sessions_per_week_min", 2), content.get("sessions_per_week_max", 3)
    if not 1 <= low <= high <= 7:
        errors["sessions_per_week_min"] = ["Need 1 ≤ minimum ≤ maximum ≤ 7 sessions a week."]
    review, start = content.get("review_date"), content["start_date"]
    if review is not None and review < start:
        errors["review_date"] = ["The review date is before the start date."]
    items = content.get("items", [])
    if not items:
        errors["items"] = ["A programme needs at least one exercise."]
    exercises = _exercises_for(by, items)
    item_errors: dict[str, list[str]] = {}
    for index, item in enumerate(items):
        exercise = exercises.get(item["exercise"])
        problems = (
            ["No such exercise in your library."]
            if exercise is None
            else _item_errors(item, exercise)
        )
        if problems:
            item_errors[str(index)] = problems
    if item_errors:
        errors["items"] = item_errors
    if errors:
        raise DomainError("The programme is not valid.", errors=errors)
    distinct = len({item["exercise"] for item in items})
    warnings = []
    if distinct > RECOMMENDED_MAX_EXERCISES:
        warnings.append(
            f"{distinct} exercises prescribed: adherence is better with 2–4 (Bachmann 2018)."
        )
    return exercises, warnings


def _write_items(version: ProgrammeVersion, items: list[dict[str, Any]]) -> None:
    ProgrammeItem.objects.bulk_create(
        ProgrammeItem(
            version=version,
            position=position,
            exercise_id=item["exercise"],
            **{name: item.get(name) for name in DOSE_FIELDS if item.get(name) is not None},
        )
        for position, item in enumerate(items, start=1)
    )


def _new_version(
    programme: Programme, by: User, content: dict[str, Any], number: int, reason: str
) -> ProgrammeVersion:
    version = ProgrammeVersion(
        programme=programme,
        number=number,
        author=by,
        reason=reason,
        **{name: content[name] for name in CONTENT_FIELDS if name in content},
    )
    version.full_clean(exclude=["programme", "author"])
    version.save()
    _write_items(version, content["items"])
    return version


@transaction.atomic
def programme_create(
    *, by: User, patient: PatientProfile, content: dict[str, Any], activate: bool = False
) -> Prescribed:
    require_care_team(by, patient, PHYSIO_ONLY, "prescribe a programme")
    _, warnings = _validate_content(by, content)
    programme = Programme.objects.create(patient=patient, created_by=by)
    programme.current_version = _new_version(programme, by, content, 1, "First prescription")
    programme.save(update_fields=["current_version"])
    if activate:
        programme_activate(programme=programme, by=by)
    return Prescribed(programme=programme, warnings=warnings)


def _item_dose(item: ProgrammeItem) -> dict[str, Any]:
    return {"exercise": item.exercise_id, **{name: getattr(item, name) for name in DOSE_FIELDS}}


def version_content(version: ProgrammeVersion) -> dict[str, Any]:
    """A version's content in the shape `programme_revise` takes (used to derive changes)."""
    return {
        **{name: getattr(version, name) for name in CONTENT_FIELDS},
        "items": [_item_dose(item) for item in version.items.order_by("position")],
    }


@transaction.atomic
def programme_revise(
    *, programme: Programme, by: User, content: dict[str, Any], reason: str
) -> Prescribed:
    """Changes the prescription. A draft is edited in place; a programme that was ever active
    gets a new immutable version, and the patient is told."""
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    require_care_team(by, programme.patient, PHYSIO_ONLY, "change a programme")
    if programme.status == ProgrammeStatus.COMPLETED:
        raise DomainError("A completed programme cannot change.", code="conflict", status=409)
    _, warnings = _validate_content(by, content)
    current = programme.current_version
    assert current is not None  # noqa: S101  # every programme is created with version 1
    if not programme.ever_active:
        for name in CONTENT_FIELDS:
            if name in content:
                setattr(current, name, content[name])
        current.reason = reason or current.reason
        current.full_clean(exclude=["programme", "author"])
        current.save()
        current.items.all().delete()
        _write_items(current, content["items"])
    else:
        if not reason.strip():
            raise DomainError(
                "Say why the programme changes.", errors={"reason": ["A reason is required."]}
            )
        programme.current_version = _new_version(programme, by, content, current.number + 1, reason)
        _notify_patient_side(
            programme,
            kind=NotificationKind.PROGRAMME_CHANGED,
            title="Your exercise programme has changed",
            body=f"Your physiotherapist updated your programme: {reason}",
            key=f"programme:{programme.pk}:version:{programme.current_version.number}",
        )
    programme.save(update_fields=["current_version", "updated_at"])
    return Prescribed(programme=programme, warnings=warnings)


def _notify_patient_side(
    programme: Programme, *, kind: str, title: str, body: str, key: str
) -> None:
    patient = programme.patient
    recipients = [patient.user, *(link.caregiver for link in patient.caregiver_links.all())]
    notifications_send(
        recipients=recipients,
        patient=patient,
        message=Message(kind, title, body, "programme", programme.pk, key),
    )


def _transition(
    programme: Programme,
    by: User | None,
    *,
    allowed_from: set[str],
    to: str,
    reason: str = "",
    note: str = "",
) -> Programme:
    if programme.status == to:
        return programme  # repeating a transition is harmless
    if programme.status not in allowed_from:
        raise DomainError(
            f"A {programme.status} programme cannot become {to}.", code="conflict", status=409
        )
    was_ever_active = programme.ever_active
    programme.status = to
    programme.pause_reason = reason if to == ProgrammeStatus.PAUSED else ""
    programme.pause_note = note if to == ProgrammeStatus.PAUSED else ""
    if to == ProgrammeStatus.ACTIVE:
        programme.ever_active = True
    try:
        with transaction.atomic():
            programme.save()
    except IntegrityError as error:
        raise DomainError(
            "The patient already has an active programme; pause or complete it first.",
            code="active_programme_exists",
            status=409,
        ) from error
    event = ProgrammeEvent.objects.create(
        programme=programme, status=to, reason=reason, note=note, by=by
    )
    if was_ever_active or to == ProgrammeStatus.ACTIVE:  # a draft's patient has seen nothing
        started = to == ProgrammeStatus.ACTIVE and not was_ever_active
        _notify_patient_side(
            programme,
            kind=NotificationKind.PROGRAMME_STATUS,
            title="Your exercise programme has started"
            if started
            else f"Your exercise programme is {to}",
            body=note or f"Your programme is now {to}.",
            key=f"programme:{programme.pk}:event:{event.pk}",
        )
    return programme


def _locked(programme: Programme) -> Programme:
    return (
        Programme.objects.select_for_update().select_related("patient__user").get(pk=programme.pk)
    )


@transaction.atomic
def programme_activate(*, programme: Programme, by: User) -> Programme:
    programme = _locked(programme)
    require_care_team(by, programme.patient, PHYSIO_ONLY, "start a programme")
    return _transition(
        programme,
        by,
        allowed_from={ProgrammeStatus.DRAFT, ProgrammeStatus.PAUSED},
        to=ProgrammeStatus.ACTIVE,
    )


@transaction.atomic
def programme_pause(*, programme: Programme, by: User, reason: str, note: str = "") -> Programme:
    """Any clinician of the care team may pause (a nurse hearing of a flare should not wait)."""
    programme = _locked(programme)
    require_care_team(by, programme.patient, ANY_CLINICIAN, "pause a programme")
    return _transition(
        programme,
        by,
        allowed_from={ProgrammeStatus.ACTIVE},
        to=ProgrammeStatus.PAUSED,
        reason=reason,
        note=note,
    )


@transaction.atomic
def programme_pause_for_red_flag(*, programme: Programme, note: str) -> Programme:
    """The system pauses (DOMAIN.md 5: tiers 1 and 2) until a clinician resumes it."""
    programme = _locked(programme)
    if programme.status != ProgrammeStatus.ACTIVE:
        return programme
    return _transition(
        programme,
        None,
        allowed_from={ProgrammeStatus.ACTIVE},
        to=ProgrammeStatus.PAUSED,
        reason=PauseReason.RED_FLAG,
        note=note,
    )


def programme_pause_for_red_flag_of(*, patient_id: int, note: str) -> Programme | None:
    """A red flag pauses the patient's active programme, whichever version was logged (or
    none: a symptom can be reported without any session)."""
    active = Programme.objects.filter(patient_id=patient_id, status=ProgrammeStatus.ACTIVE).first()
    if active is None:
        return None
    return programme_pause_for_red_flag(programme=active, note=note)


@transaction.atomic
def programme_complete(*, programme: Programme, by: User, note: str = "") -> Programme:
    programme = _locked(programme)
    require_care_team(by, programme.patient, PHYSIO_ONLY, "complete a programme")
    return _transition(
        programme,
        by,
        allowed_from={ProgrammeStatus.ACTIVE, ProgrammeStatus.PAUSED, ProgrammeStatus.DRAFT},
        to=ProgrammeStatus.COMPLETED,
        note=note,
    )
