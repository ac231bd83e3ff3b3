"""From a posted FHIR R4 resource to what the assessment service records, or a FhirError.

The resource is first validated against fhir.resources' R4B model (structure, data types);
then the rules of what PhysioTrack can import: a known code, its unit, a final status, a
timezone-aware time, a literal patient reference and an identifier to make resends safe."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.observation import Observation
from pydantic import ValidationError

from backend.exercise.measures import Measure, Setting
from backend.fhir.imports import codes
from backend.fhir.imports.outcomes import FhirError, Issue

_PATIENT_REFERENCE = re.compile(r"^Patient/([1-9][0-9]{0,17})$")
_NOTE_MAX = 500  # Assessment.note
_IDENTIFIER_MAX = 255  # Assessment.source_identifier_*
BUNDLE_ENTRIES_MAX = 500


@dataclass(frozen=True)
class ParsedObservation:
    patient_id: int
    identifier_system: str
    identifier_value: str
    data: dict[str, Any]  # assessment_record's input: measure, value, setting, measured_at…


def _structure_errors(error: ValidationError) -> FhirError:
    issues = []
    for detail in error.errors()[:20]:
        path = ".".join(str(part) for part in detail["loc"] if not str(part).startswith("fn-"))
        where = f"Observation.{path}" if path else "Observation"
        issues.append(Issue("structure", f"{where}: {detail['msg']}", (where,)))
    return FhirError(400, issues or [Issue("structure", "Not a valid Observation.")])


def _decimal_places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _measure_of(observation: Observation) -> str:
    codings = observation.code.coding or []
    for coding in codings:
        measure = codes.CODES.get((coding.system or "", coding.code or ""))
        if measure is not None:
            return measure
    sent = ", ".join(f"{c.system}|{c.code}" for c in codings) or "no coding"
    raise FhirError.one(
        422,
        "code-invalid",
        f"Unknown code ({sent}): import takes eGFR (LOINC {', '.join(codes.EGFR_LOINC)}), "
        f"CK (LOINC {codes.CK_LOINC}) and {codes.OUTCOME_MEASURES} "
        "cmas, mmt8, chaq, sts30, tug.",
        "Observation.code",
    )


def _value_of(observation: Observation, measure: str) -> Decimal:
    quantity = observation.valueQuantity
    if quantity is None or quantity.value is None:
        raise FhirError.one(
            422, "required", "A valueQuantity with a value is required.", "Observation.value[x]"
        )
    if quantity.comparator is not None:
        raise FhirError.one(
            422,
            "value",
            f"A value with comparator '{quantity.comparator}' is not a measurement to record.",
            "Observation.valueQuantity.comparator",
        )
    rule = codes.UNITS[measure]
    if quantity.code is not None:
        good = quantity.system == codes.UCUM and quantity.code in rule.ucum
        sent = f"{quantity.system}|{quantity.code}"
    else:
        good = quantity.unit in rule.shown
        sent = f"unit '{quantity.unit}'"
    if not good:
        raise FhirError.one(
            422,
            "value",
            f"Wrong unit for {measure} ({sent}): expected UCUM {' or '.join(sorted(rule.ucum))}.",
            "Observation.valueQuantity",
        )
    value = Decimal(quantity.value)
    if _decimal_places(value) > 3:
        raise FhirError.one(
            422,
            "value",
            "The value has more than 3 decimal places.",
            "Observation.valueQuantity.value",
        )
    return value


def _measured_at(observation: Observation) -> datetime:
    moment = observation.effectiveDateTime or observation.effectiveInstant
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise FhirError.one(
            422,
            "required",
            "effectiveDateTime must be a date and time with a time zone offset.",
            "Observation.effectiveDateTime",
        )
    return moment


def _setting_of(observation: Observation, measure: str) -> str:
    for category in observation.category or []:
        for coding in category.coding or []:
            if coding.system == codes.SETTING_SYSTEM:
                if coding.code not in Setting.values:
                    raise FhirError.one(
                        422,
                        "code-invalid",
                        f"Setting '{coding.code}' is neither home nor clinic.",
                        "Observation.category",
                    )
                return str(coding.code)
    return codes.USUAL_SETTING[measure]


def _identifier_of(observation: Observation) -> tuple[str, str]:
    for identifier in observation.identifier or []:
        if identifier.system and identifier.value:
            if max(len(identifier.system), len(identifier.value)) > _IDENTIFIER_MAX:
                raise FhirError.one(
                    422,
                    "value",
                    f"identifier system and value are at most {_IDENTIFIER_MAX} characters.",
                    "Observation.identifier",
                )
            return identifier.system, identifier.value
    raise FhirError.one(
        422,
        "required",
        "An identifier with system and value is required: it makes a resend return the "
        "stored result instead of a second one.",
        "Observation.identifier",
    )


def _patient_of(observation: Observation) -> int:
    reference = observation.subject.reference if observation.subject else None
    match = _PATIENT_REFERENCE.match(reference or "")
    if match is None:
        raise FhirError.one(
            422,
            "value",
            "subject must be a literal reference 'Patient/<id>' (the id PhysioTrack gives).",
            "Observation.subject",
        )
    return int(match.group(1))


def _reference_range_high(observation: Observation) -> Decimal | None:
    ranges = observation.referenceRange or []
    high = ranges[0].high if ranges else None
    return Decimal(high.value) if high is not None and high.value is not None else None


def _extras(observation: Observation, measure: str) -> dict[str, Any]:
    """CK's laboratory upper limit and MMT8's maximum score ride on referenceRange.high."""
    extras: dict[str, Any] = {}
    high = _reference_range_high(observation)
    if measure == Measure.CK and high is not None:
        if not (Decimal(0) <= high < Decimal(1_000_000)) or _decimal_places(high) > 1:
            raise FhirError.one(
                422,
                "value",
                "The CK upper limit is from 0 to 999999.9 U/L.",
                "Observation.referenceRange[0].high",
            )
        extras["upper_limit"] = high
    if measure == Measure.MMT8 and high is not None:
        if high != high.to_integral_value():
            raise FhirError.one(
                422, "value", "MMT8 is scored out of 80 or 150.", "Observation.referenceRange"
            )
        extras["max_score"] = int(high)
    notes = [note.text for note in observation.note or [] if note.text]
    if notes:
        text = "\n".join(notes)
        if len(text) > _NOTE_MAX:
            raise FhirError.one(
                422, "value", f"note is at most {_NOTE_MAX} characters.", "Observation.note"
            )
        extras["note"] = text
    return extras


def observation_parse(payload: Any) -> ParsedObservation:
    if not isinstance(payload, dict) or payload.get("resourceType") != "Observation":
        raise FhirError.one(
            400, "structure", "The body must be a FHIR Observation resource.", "Observation"
        )
    try:
        observation = Observation.model_validate(payload)
    except ValidationError as error:
        raise _structure_errors(error) from error
    if observation.status not in codes.ACCEPTED_STATUSES:
        raise FhirError.one(
            422,
            "value",
            f"Status '{observation.status}' is not a result to record: "
            f"{', '.join(sorted(codes.ACCEPTED_STATUSES))} are.",
            "Observation.status",
        )
    system, value = _identifier_of(observation)
    measure = _measure_of(observation)
    return ParsedObservation(
        patient_id=_patient_of(observation),
        identifier_system=system,
        identifier_value=value,
        data={
            "measure": measure,
            "value": _value_of(observation, measure),
            "setting": _setting_of(observation, measure),
            "measured_at": _measured_at(observation),
            **_extras(observation, measure),
        },
    )


def transaction_parse(payload: Any) -> list[ParsedObservation]:
    """A transaction Bundle of Observation creates; the first bad entry refuses it all,
    named by its index."""
    if not isinstance(payload, dict) or payload.get("resourceType") != "Bundle":
        raise FhirError.one(400, "structure", "The body must be a FHIR Bundle.", "Bundle")
    if payload.get("type") != "transaction":
        raise FhirError.one(
            422,
            "not-supported",
            f"Bundle type '{payload.get('type')}' is not accepted: send a transaction.",
            "Bundle.type",
        )
    entries = payload.get("entry") or []
    if not isinstance(entries, list) or not entries:
        raise FhirError.one(422, "required", "The transaction has no entries.", "Bundle.entry")
    if len(entries) > BUNDLE_ENTRIES_MAX:
        raise FhirError.one(
            413,
            "too-costly",
            f"A transaction holds at most {BUNDLE_ENTRIES_MAX} entries.",
            "Bundle.entry",
        )
    parsed = []
    for index, entry in enumerate(entries):
        where = f"Bundle.entry[{index}]"
        try:
            parsed.append(_entry_parse(entry, where))
        except FhirError as error:
            raise error.within(f"{where}.resource", index) from error
    return parsed


def _entry_parse(entry: Any, where: str) -> ParsedObservation:
    if not isinstance(entry, dict):
        raise FhirError.one(400, "structure", "An entry must be an object.", "Observation")
    request = entry.get("request")
    method = request.get("method") if isinstance(request, dict) else None
    url = request.get("url") if isinstance(request, dict) else None
    resource = entry.get("resource")
    resource_type = resource.get("resourceType") if isinstance(resource, dict) else None
    if resource_type != "Observation":
        raise FhirError.one(
            422,
            "not-supported",
            f"Only Observation resources are imported, not {resource_type or 'nothing'}.",
            "Observation",
        )
    if method != "POST" or url != "Observation":
        raise FhirError.one(
            422,
            "not-supported",
            "request must be POST Observation (a create).",
            f"{where}.request",
        )
    return observation_parse(resource)
