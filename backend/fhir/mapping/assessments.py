"""Assessments (outcome measures) → Observation: LOINC where a code exists, else a code of
PhysioTrack's outcome-measures code system (docs/fhir.md)."""

from __future__ import annotations

from typing import Any

from backend.exercise.measures import Measure
from backend.exercise.models import Assessment
from backend.fhir import codes
from backend.fhir.mapping.common import (
    instant,
    number,
    patient_reference,
    person_reference,
    quantity,
)

OBSERVATION_CATEGORY_DISPLAY = {
    "laboratory": "Laboratory",
    "survey": "Survey",
    "exam": "Exam",
}


def observation_id(assessment: Assessment) -> str:
    return f"assessment-{assessment.pk}"


def measure_code(measure: str) -> dict[str, Any]:
    """The LOINC code of the measure if it has one, with PhysioTrack's own code beside it (a
    reader of either system finds it); otherwise PhysioTrack's alone."""
    display = Measure(measure).label
    local = codes.coding(codes.OUTCOME_MEASURES, measure, display)
    loinc = codes.MEASURE_LOINC.get(measure)
    coding = [codes.coding(codes.LOINC, *loinc), local] if loinc else [local]
    return {"coding": coding, "text": display}


def assessment_identifiers(assessment: Assessment) -> list[dict[str, Any]]:
    """PhysioTrack's own identifier, and the sending system's for an imported result (so a
    result passed on keeps the lab's identity)."""
    found = [{"system": codes.ASSESSMENT_IDENTIFIER, "value": str(assessment.pk)}]
    if assessment.source_identifier_value:
        found.append(
            {
                "system": assessment.source_identifier_system,
                "value": assessment.source_identifier_value,
            }
        )
    return found


def assessment_to_fhir(assessment: Assessment, *, patient_user_id: int) -> dict[str, Any]:
    """One value of an outcome measure (assessment.measured_by loaded)."""
    category = codes.MEASURE_CATEGORY.get(assessment.measure, "exam")
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": observation_id(assessment),
        "identifier": assessment_identifiers(assessment),
        "status": "final",
        "category": [
            codes.concept(
                codes.OBSERVATION_CATEGORY, category, OBSERVATION_CATEGORY_DISPLAY[category]
            ),
            codes.concept(
                codes.SETTING_SYSTEM, assessment.setting, assessment.get_setting_display()
            ),
        ],
        "code": measure_code(assessment.measure),
        "subject": patient_reference(assessment.patient_id),
        "effectiveDateTime": instant(assessment.measured_at),
        "issued": instant(assessment.created_at),
        "performer": [
            person_reference(
                assessment.measured_by,
                patient_id=assessment.patient_id,
                patient_user_id=patient_user_id,
            )
        ],
        "valueQuantity": quantity(
            assessment.value, assessment.unit, codes.UCUM_UNITS.get(assessment.unit)
        ),
        "method": {"text": f"Measured at {assessment.get_setting_display().lower()}"},
    }
    limits: dict[str, Any] = {}
    if assessment.max_score is not None:
        limits["high"] = quantity(assessment.max_score, assessment.unit)
        limits["text"] = f"Scored out of {assessment.max_score}"
    elif assessment.upper_limit is not None:
        limits["high"] = quantity(
            assessment.upper_limit, assessment.unit, codes.UCUM_UNITS.get(assessment.unit)
        )
        limits["text"] = f"Laboratory upper limit {number(assessment.upper_limit)}"
    if limits:
        resource["referenceRange"] = [limits]
    if assessment.note:
        resource["note"] = [{"text": assessment.note}]
    return resource
