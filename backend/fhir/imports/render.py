"""What an import answers: the stored result as an Observation (id = the assessment's), and a
transaction-response Bundle for a transaction."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from backend.exercise.measures import Measure
from backend.exercise.models import Assessment
from backend.fhir.imports import codes
from backend.fhir.imports.services import Imported

# The code each measure is echoed with (eGFR: the CKD-EPI creatinine equation's).
_ECHO_CODE: dict[str, tuple[str, str]] = {
    Measure.EGFR: (codes.LOINC, "62238-1"),
    Measure.CK: (codes.LOINC, codes.CK_LOINC),
    Measure.CMAS: (codes.OUTCOME_MEASURES, "cmas"),
    Measure.MMT8: (codes.OUTCOME_MEASURES, "mmt8"),
    Measure.CHAQ: (codes.OUTCOME_MEASURES, "chaq"),
    Measure.STS30: (codes.OUTCOME_MEASURES, "sts30"),
    Measure.TUG: (codes.OUTCOME_MEASURES, "tug"),
}


def _number(value: Decimal) -> Decimal:
    """55.000 → 55: the stored scale is not the value's precision."""
    normalised = value.normalize()
    return normalised.quantize(Decimal(1)) if normalised == normalised.to_integral() else normalised


def observation_resource(assessment: Assessment) -> dict[str, Any]:
    system, code = _ECHO_CODE[assessment.measure]
    ucum = sorted(codes.UNITS[assessment.measure].ucum)[0]
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(assessment.pk),
        "identifier": [
            {
                "system": assessment.source_identifier_system,
                "value": assessment.source_identifier_value,
            }
        ],
        "status": "final",
        "category": [{"coding": [{"system": codes.SETTING_SYSTEM, "code": assessment.setting}]}],
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": f"Patient/{assessment.patient_id}"},
        "effectiveDateTime": assessment.measured_at.isoformat(),
        "valueQuantity": {
            "value": _number(assessment.value),
            "unit": assessment.unit,
            "system": codes.UCUM,
            "code": ucum,
        },
    }
    high = assessment.upper_limit if assessment.measure == Measure.CK else assessment.max_score
    if high is not None:
        resource["referenceRange"] = [{"high": {"value": _number(Decimal(high))}}]
    if assessment.note:
        resource["note"] = [{"text": assessment.note}]
    return resource


def _entry_status(imported: Imported) -> str:
    return "201 Created" if imported.created else "200 OK"


def transaction_response(results: list[Imported]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "transaction-response",
        "entry": [
            {
                "resource": observation_resource(result.assessment),
                "response": {
                    "status": _entry_status(result),
                    "location": f"Observation/{result.assessment.pk}",
                },
            }
            for result in results
        ],
    }
