"""What every mapping module writes the same way: references, instants, numbers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from backend.accounts.models import Role, User
from backend.fhir import codes


def reference(
    resource_type: str, resource_id: object, display: str | None = None
) -> dict[str, Any]:
    found: dict[str, Any] = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        found["display"] = display
    return found


def patient_reference(patient_id: int) -> dict[str, Any]:
    return reference("Patient", patient_id)


def person_reference(user: User, *, patient_id: int, patient_user_id: int) -> dict[str, Any]:
    """Who did something: the patient themselves, a clinician (a Practitioner: PhysioTrack does
    not serve Practitioner, so the reference carries the name and the account's identifier), or
    a caregiver (named and identified: their RelatedPerson id is the link's, not the user's)."""
    if user.pk == patient_user_id:
        return patient_reference(patient_id)
    identifier = {"system": codes.USER_IDENTIFIER, "value": str(user.pk)}
    if user.role == Role.CAREGIVER:
        return {"type": "RelatedPerson", "identifier": identifier, "display": user.display_name}
    if user.role == Role.SERVICE:  # a sending system (an imported result): not a person
        return {"type": "Device", "identifier": identifier, "display": user.display_name}
    return {**reference("Practitioner", user.pk, user.display_name), "identifier": identifier}


def instant(moment: datetime) -> str:
    """An aware datetime in ISO 8601 with its offset (FHIR instants need one)."""
    if moment.tzinfo is None:
        raise ValueError("FHIR instants need a time zone")
    return moment.isoformat()


def day(value: date) -> str:
    return value.isoformat()


def number(value: Decimal | int | float) -> int | float:
    """A JSON number without a spurious fraction (12, not 12.000)."""
    exact = Decimal(value)
    return int(exact) if exact == exact.to_integral_value() else float(exact)


def quantity(value: Decimal | int, unit: str, ucum: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"value": number(value), "unit": unit}
    if ucum:
        found.update(system=codes.UCUM, code=ucum)
    return found
