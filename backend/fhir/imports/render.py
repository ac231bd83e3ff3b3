"""What an import answers: the stored result as an Observation (id = the assessment's), and a
transaction-response Bundle for a transaction."""

from __future__ import annotations

from typing import Any

from backend.fhir.imports.services import Imported
from backend.fhir.mapping.assessments import assessment_to_fhir, observation_id


def observation_resource(imported: Imported) -> dict[str, Any]:
    """The stored result as the export shows it (one mapping, one id: `Observation/<id>` of
    the answer is what a search finds)."""
    return assessment_to_fhir(imported.assessment, patient_user_id=imported.patient_user_id)


def observation_location(imported: Imported) -> str:
    return f"Observation/{observation_id(imported.assessment)}"


def _entry_status(imported: Imported) -> str:
    return "201 Created" if imported.created else "200 OK"


def transaction_response(results: list[Imported]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "transaction-response",
        "entry": [
            {
                "resource": observation_resource(result),
                "response": {
                    "status": _entry_status(result),
                    "location": observation_location(result),
                },
            }
            for result in results
        ],
    }
