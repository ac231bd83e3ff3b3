"""Recording outcome measures with their ranges and item breakdowns (DOMAIN.md section 1)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from backend.accounts.models import PatientProfile, Role, ServiceAccount, User
from backend.alerts.services.decline import decline_check_request
from backend.core.errors import DomainError
from backend.exercise.measures import ITEM_KEYS, MEASURES, MMT8_MAX_SCORES, Measure, Setting
from backend.exercise.models import Assessment
from backend.exercise.services.common import ANY_CLINICIAN, require_not_future


def _value_errors(measure: str, value: Decimal, max_score: int | None) -> list[str]:
    spec = MEASURES[measure]
    errors = []
    high = Decimal(max_score) if measure == Measure.MMT8 and max_score else spec.maximum
    below = value <= spec.minimum if spec.minimum_exclusive else value < spec.minimum
    if below or value > high:
        bound = "above" if spec.minimum_exclusive else "from"
        errors.append(f"{measure} must be {bound} {spec.minimum} up to {high} {spec.unit}.")
    if spec.whole_numbers and value != value.to_integral_value():
        errors.append(f"{measure} is a whole number.")
    if spec.step is not None and (value / spec.step) != (value / spec.step).to_integral_value():
        errors.append(f"{measure} moves in steps of {spec.step}.")
    return errors


def _items_errors(measure: str, value: Decimal, items: dict[str, Any]) -> list[str]:
    keys = ITEM_KEYS.get(measure)
    if keys is None:
        return [f"{measure} has no item breakdown."]
    if set(items) != set(keys):
        missing, unknown = set(keys) - set(items), set(items) - set(keys)
        return [
            f"Items must be exactly: {', '.join(keys)}."
            + (f" Missing: {', '.join(sorted(missing))}." if missing else "")
            + (f" Unknown: {', '.join(sorted(unknown))}." if unknown else "")
        ]
    scores = list(items.values())
    if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in scores):
        return ["Item scores are whole numbers from 0."]
    if measure == Measure.MMT8 and any(s > 10 for s in scores):
        return ["MMT8 groups score 0–10 each."]
    if sum(scores) != value:
        return [f"The items add up to {sum(scores)}, not {value}."]
    return []


@dataclass(frozen=True)
class Provenance:
    """Where an imported result came from: the sending system and the FHIR identifier it gave
    the result (unique within the organisation)."""

    account: ServiceAccount
    identifier_system: str
    identifier_value: str


@transaction.atomic
def assessment_record(
    *,
    by: User,
    patient: PatientProfile,
    data: dict[str, Any],
    provenance: Provenance | None = None,
) -> Assessment:
    """Validates and stores one measure and asks for the patient's decline and kidney rules to
    run. `provenance` is for a result a sending system imported (`by` is then its account's
    user); the caller has checked that the patient belongs to the account's organisation."""
    measure, value, setting = data["measure"], data["value"], data["setting"]
    spec = MEASURES[measure]
    if by.role == Role.SERVICE:
        if provenance is None or provenance.account.user_id != by.pk:
            raise DomainError("Not allowed.", code="permission_denied", status=403)
    elif by.role in {Role.PATIENT, Role.CAREGIVER}:
        if not spec.patient_may_record:
            raise DomainError(
                f"{measure} is recorded by the care team.",
                code="permission_denied",
                status=403,
                errors={"measure": ["Clinic measure: recorded by clinicians only."]},
            )
        if setting != Setting.HOME:
            raise DomainError(
                "Measures entered from the app are home measures.",
                errors={"setting": ["Must be 'home' when recorded from the app."]},
            )
    elif by.role not in ANY_CLINICIAN:
        raise DomainError("Not allowed.", code="permission_denied", status=403)
    max_score = data.get("max_score")
    errors: dict[str, list[str]] = {}
    if measure == Measure.MMT8:
        max_score = max_score or 80
        if max_score not in MMT8_MAX_SCORES:
            errors["max_score"] = ["MMT8 is scored out of 80 or 150."]
    elif max_score is not None:
        errors["max_score"] = ["Only MMT8 stores a maximum score."]
    if data.get("upper_limit") is not None and measure != Measure.CK:
        errors["upper_limit"] = ["Only CK has a laboratory upper limit."]
    value_errors = _value_errors(measure, value, max_score)
    if value_errors:
        errors["value"] = value_errors
    if data.get("items") is not None:
        item_errors = _items_errors(measure, value, data["items"])
        if item_errors:
            errors["items"] = item_errors
    try:
        require_not_future(data["measured_at"], "measured_at")
    except DomainError as error:
        errors.update(error.errors or {})
    if errors:
        raise DomainError("The assessment is not valid.", errors=errors)
    decline_check_request(patient_id=patient.pk)
    return Assessment.objects.create(
        patient=patient,
        measure=measure,
        value=value,
        unit=spec.unit,
        max_score=max_score,
        setting=setting,
        measured_at=data["measured_at"],
        measured_by=by,
        items=data.get("items"),
        note=data.get("note", ""),
        upper_limit=data.get("upper_limit"),
        source_account=provenance.account if provenance else None,
        source_organisation_id=provenance.account.organisation_id if provenance else None,
        source_identifier_system=provenance.identifier_system if provenance else "",
        source_identifier_value=provenance.identifier_value if provenance else "",
    )
