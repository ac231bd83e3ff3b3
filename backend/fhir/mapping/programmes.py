"""Programme versions → CarePlan revisions; their items → ServiceRequest (exercise therapy).

Each version of a programme is one CarePlan (its id is the version's): the version in force
carries the programme's status, an earlier one is `revoked` (superseded) and the next names it
in `replaces`. Each item of a version is one ServiceRequest (its id is the item's)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from backend.exercise.models import (
    Programme,
    ProgrammeItem,
    ProgrammeStatus,
    ProgrammeVersion,
)
from backend.fhir import codes
from backend.fhir.mapping.common import (
    day,
    instant,
    number,
    patient_reference,
    quantity,
    reference,
)

CARE_PLAN_STATUS: dict[str, str] = {
    ProgrammeStatus.DRAFT: "draft",
    ProgrammeStatus.ACTIVE: "active",
    ProgrammeStatus.PAUSED: "on-hold",
    ProgrammeStatus.COMPLETED: "completed",
}
SUPERSEDED = "revoked"  # a version a later one replaced
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def revision_status(programme: Programme, version: ProgrammeVersion) -> str:
    """The CarePlan (and its ServiceRequests') status of one version of the programme."""
    if version.pk != programme.current_version_id:
        return SUPERSEDED
    return CARE_PLAN_STATUS[programme.status]


def careplan_to_fhir(
    version: ProgrammeVersion,
    *,
    programme: Programme,
    item_ids: Iterable[int],
    previous_id: int | None,
    next_start: date | None,
) -> dict[str, Any]:
    """One revision: `item_ids` its items (their ServiceRequests), `previous_id` the version
    it replaces, `next_start` when the version that replaced it started (its period's end)."""
    period: dict[str, Any] = {"start": day(version.start_date)}
    if next_start is not None and next_start >= version.start_date:
        period["end"] = day(next_start)
    resource: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": str(version.pk),
        "identifier": [{"system": f"{codes.LOCAL_BASE}/sid/programme", "value": str(programme.pk)}],
        "status": revision_status(programme, version),
        "intent": "plan",
        "category": [codes.physical_activity_category()],
        "title": version.title,
        "subject": patient_reference(programme.patient_id),
        "period": period,
        "created": instant(version.created_at),
        "author": reference("Practitioner", version.author_id, version.author.display_name),
        "careTeam": [reference("CareTeam", programme.patient_id)],
        "activity": [{"reference": reference("ServiceRequest", pk)} for pk in item_ids],
    }
    if version.goals:
        resource["description"] = version.goals
    if previous_id is not None:
        resource["replaces"] = [reference("CarePlan", previous_id)]
    if version.reason:
        resource["note"] = [{"text": f"Reason for this revision: {version.reason}"}]
    if not resource["activity"]:
        del resource["activity"]
    return resource


def dose_text(item: ProgrammeItem) -> str:
    """The dose as the patient reads it: "2 × 10, hold 5 s, 2 kg, rest 60 s, RPE 11"."""
    parts: list[str] = []
    if item.sets and item.reps:
        parts.append(f"{item.sets} × {item.reps}")
    elif item.sets:
        parts.append(f"{item.sets} sets")
    if item.hold_seconds:
        parts.append(f"hold {item.hold_seconds} s")
    if item.load_value is not None and item.load_unit:
        parts.append(f"{number(item.load_value)} {item.load_unit}")
    elif item.band_colour:
        parts.append(f"{item.band_colour} band")
    if item.duration_minutes:
        parts.append(f"{item.duration_minutes} min")
    if item.interval_repeats and item.interval_work_seconds:
        rest = f"/{item.interval_rest_seconds} s" if item.interval_rest_seconds else ""
        parts.append(f"{item.interval_repeats} × {item.interval_work_seconds} s{rest}")
    if item.rest_seconds:
        parts.append(f"rest {item.rest_seconds} s")
    if item.intensity_scale and item.intensity_target is not None:
        parts.append(f"{item.get_intensity_scale_display()} {number(item.intensity_target)}")
    text = ", ".join(parts)
    if item.notes:
        text = f"{text}. {item.notes}" if text else item.notes
    return text or item.exercise.name


def _dose_extension(item: ProgrammeItem) -> dict[str, Any] | None:
    """The structured dose (the Physical Activity IG defines none for a prescription)."""
    parts: list[dict[str, Any]] = []
    for name in (
        "sets",
        "reps",
        "hold_seconds",
        "duration_minutes",
        "interval_work_seconds",
        "interval_rest_seconds",
        "interval_repeats",
        "rest_seconds",
    ):
        value = getattr(item, name)
        if value is not None:
            parts.append({"url": name.replace("_", "-"), "valueInteger": value})
    if item.load_value is not None and item.load_unit == "kg":
        parts.append({"url": "load", "valueQuantity": quantity(item.load_value, "kg", "kg")})
    if item.band_colour:
        parts.append({"url": "band-colour", "valueString": item.band_colour})
    if item.intensity_scale and item.intensity_target is not None:
        parts.append(
            {
                "url": "intensity",
                "valueQuantity": quantity(item.intensity_target, item.intensity_scale),
            }
        )
    return {"url": codes.EXERCISE_DOSE, "extension": parts} if parts else None


def service_request_to_fhir(
    item: ProgrammeItem, *, version: ProgrammeVersion, programme: Programme
) -> dict[str, Any]:
    """One prescribed exercise (item.exercise loaded): exercise therapy for the patient to
    perform, as often as the version says."""
    code = codes.concept(codes.SNOMED, *codes.EXERCISE_THERAPY)
    code["coding"].append(codes.coding(codes.EXERCISE, str(item.exercise_id), item.exercise.name))
    code["text"] = item.exercise.name
    repeat: dict[str, Any] = {
        "frequency": version.sessions_per_week_min,
        "period": 1,
        "periodUnit": "wk",
    }
    if version.sessions_per_week_max != version.sessions_per_week_min:
        repeat["frequencyMax"] = version.sessions_per_week_max
    weekdays = [WEEKDAYS[d - 1] for d in version.training_weekdays if 1 <= d <= 7]
    if weekdays:
        repeat["dayOfWeek"] = weekdays
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": str(item.pk),
        "status": revision_status(programme, version),
        "intent": "order",
        "category": [codes.physical_activity_category()],
        "code": code,
        "subject": patient_reference(programme.patient_id),
        "basedOn": [reference("CarePlan", version.pk)],
        "occurrenceTiming": {"repeat": repeat},
        "authoredOn": instant(version.created_at),
        "requester": reference("Practitioner", version.author_id, version.author.display_name),
        "performer": [patient_reference(programme.patient_id)],
        "patientInstruction": dose_text(item),
    }
    extension = _dose_extension(item)
    if extension is not None:
        resource["extension"] = [extension]
    if item.exercise.instructions:
        resource["note"] = [{"text": item.exercise.instructions}]
    return resource
