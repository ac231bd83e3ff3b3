"""The CapabilityStatement of GET /fhir/metadata: exactly what the export serves."""

from __future__ import annotations

from typing import Any

from backend.fhir.export.search import DEFAULT_COUNT, MAX_COUNT

RELEASED = "2026-12-01"  # when this statement last changed (a CapabilityStatement's `date`)
SEARCHED = ("Observation", "CarePlan", "ServiceRequest", "DetectedIssue", "Flag")
# What `date` means for each searched type (docs/fhir.md).
DATE_MEANS = {
    "Observation": "Observation.effective (a session's start, an assessment's time)",
    "CarePlan": "CarePlan.created (when the revision was written)",
    "ServiceRequest": "ServiceRequest.authoredOn (when its revision was written)",
    "DetectedIssue": "DetectedIssue.identified (when the alert was raised)",
    "Flag": "Flag.period.start (when the alert was raised)",
}
IN_EVERYTHING_ONLY = ("CareTeam", "RelatedPerson", "Provenance")


def _search_params(resource_type: str) -> list[dict[str, Any]]:
    return [
        {
            "name": "patient",
            "type": "reference",
            "documentation": "Required: the patient (123 or Patient/123).",
        },
        {
            "name": "date",
            "type": "date",
            "documentation": f"{DATE_MEANS[resource_type]}; prefixes eq, ge, gt, le, lt; "
            "repeat to bound both ends. A date is a day in the patient's time zone.",
        },
        {
            "name": "_count",
            "type": "number",
            "documentation": f"Page size, 1–{MAX_COUNT} (default {DEFAULT_COUNT}); newest "
            "first, follow the `next` link.",
        },
    ]


def capability_statement(base_url: str) -> dict[str, Any]:
    resources: list[dict[str, Any]] = [
        {
            "type": "Patient",
            "interaction": [{"code": "read"}],
            "operation": [
                {
                    "name": "everything",
                    "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                    "documentation": "Every resource below about the patient, in one Bundle; "
                    "no parameters.",
                }
            ],
        },
        *(
            {
                "type": resource_type,
                # Observation is also written: lab results from a sending system (imports).
                "interaction": [{"code": "search-type"}]
                + ([{"code": "create"}] if resource_type == "Observation" else []),
                "searchParam": _search_params(resource_type),
            }
            for resource_type in SEARCHED
        ),
        *(
            {"type": resource_type, "documentation": "Only within Patient/[id]/$everything."}
            for resource_type in IN_EVERYTHING_ONLY
        ),
    ]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": RELEASED,
        "publisher": "PhysioTrack",
        "kind": "instance",
        "software": {"name": "PhysioTrack"},
        "implementation": {
            "description": "PhysioTrack FHIR: the care record read out, lab results imported",
            "url": base_url,
        },
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "A clinician sees the patients of their care teams; a patient "
                "themselves; a caregiver the patients they act for. Anything else is 404. "
                "Every read by someone other than the patient is audited.",
                "security": {
                    "description": "Bearer access token from POST /api/v1/auth/token/ "
                    "(Authorization: Bearer <access>), as for the rest of the API."
                },
                "resource": resources,
                # POST /fhir/Bundle: a transaction of Observations from a sending system,
                # authenticated by its service account's key (docs/fhir-import.md).
                "interaction": [{"code": "transaction"}],
            }
        ],
    }
