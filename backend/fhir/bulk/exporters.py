"""What a bulk export writes: for each FHIR resource type, a function from a page of patient
ids to that page's resources as JSON-ready dicts.

RESOURCE_EXPORTERS is the one seam between the file machinery (services.py) and the mapping
of PhysioTrack's records to FHIR. The two exporters below are minimal stand-ins; the
mapping module (backend/fhir/mapping/) replaces and extends them by registering its own
functions here. An exporter must:
- read the page in a fixed number of queries, whatever the patients' history (a page is
  500 patients; the history of one page is what a worker holds in memory at once);
- set `meta.lastUpdated` on each resource, so `_since` can leave older ones out;
- yield resources of its type only, valid against the FHIR R4B models.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from backend.accounts.models import PatientProfile
from backend.exercise.measures import Measure
from backend.exercise.models import Assessment

Resource = dict[str, Any]
ResourceExporter = Callable[[list[int]], Iterable[Resource]]

PATIENT_ID_SYSTEM = "https://physiotrack.org/fhir/NamingSystem/patient-id"
OUTCOME_MEASURES = "https://physiotrack.org/fhir/CodeSystem/outcome-measures"
ASSESSMENT_SETTING = "https://physiotrack.org/fhir/CodeSystem/assessment-setting"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

# Measures with a LOINC code of their own; every measure also carries the local code.
LOINC_CODES = {
    Measure.EGFR: (
        "62238-1",
        "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, Plasma "
        "or Blood by Creatinine-based formula (CKD-EPI)",
    ),
    Measure.CK: ("2157-6", "Creatine kinase [Enzymatic activity/volume] in Serum or Plasma"),
    Measure.PAIN: ("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported"),
}
# Our units (backend.exercise.measures) as UCUM codes.
UCUM_CODES = {
    "points": "{score}",
    "0-10": "{score}",
    "count": "{count}",
    "s": "s",
    "m": "m",
    "kg": "kg",
    "U/L": "U/L",
    "mL/min/1.73m2": "mL/min/{1.73_m2}",
}
LABORATORY = {Measure.EGFR, Measure.CK}
SURVEY = {Measure.CHAQ, Measure.PAIN, Measure.FATIGUE, Measure.PTGLOBAL}


def instant(moment: datetime) -> str:
    return moment.isoformat()


def patient_resources(patient_ids: list[int]) -> Iterator[Resource]:
    """Patient: one query for the page. No gender: PhysioTrack does not record it."""
    rows = (
        PatientProfile.objects.filter(pk__in=patient_ids)
        .order_by("pk")
        .values_list(
            "pk",
            "date_of_birth",
            "updated_at",
            "user__first_name",
            "user__last_name",
            "user__is_active",
            "user__organisation_id",
        )
    )
    for pk, born, updated_at, given, family, active, organisation_id in rows:
        resource: Resource = {
            "resourceType": "Patient",
            "id": str(pk),
            "meta": {"lastUpdated": instant(updated_at)},
            "identifier": [{"system": PATIENT_ID_SYSTEM, "value": str(pk)}],
            "active": active,
            "birthDate": born.isoformat(),
            "managingOrganization": {"reference": f"Organization/{organisation_id}"},
        }
        name: dict[str, Any] = {"use": "official"}
        if family:
            name["family"] = family
        if given:
            name["given"] = [given]
        if len(name) > 1:
            resource["name"] = [name]
        yield resource


def _number(value: Decimal) -> int | float:
    """A decimal for JSON: FHIR decimals are JSON numbers, never strings."""
    return int(value) if value == value.to_integral_value() else float(value)


def _observation_code(measure: str) -> dict[str, Any]:
    label = Measure(measure).label
    coding = [{"system": OUTCOME_MEASURES, "code": measure.lower(), "display": label}]
    if measure in LOINC_CODES:
        code, display = LOINC_CODES[Measure(measure)]
        coding.insert(0, {"system": LOINC, "code": code, "display": display})
    return {"coding": coding, "text": label}


def _category(measure: str) -> str:
    if measure in LABORATORY:
        return "laboratory"
    return "survey" if measure in SURVEY else "exam"


def assessment_observations(patient_ids: list[int]) -> Iterator[Resource]:
    """Observation of each assessment (DOMAIN.md 1): one query for the page, tuples only."""
    rows = (
        Assessment.objects.filter(patient_id__in=patient_ids)
        .order_by("patient_id", "-measured_at", "-id")
        .values_list(
            "pk",
            "patient_id",
            "measure",
            "value",
            "unit",
            "setting",
            "measured_at",
            "created_at",
            "note",
        )
    )
    for pk, patient_id, measure, value, unit, setting, measured_at, created_at, note in rows:
        quantity: dict[str, Any] = {"value": _number(value), "unit": unit}
        if unit in UCUM_CODES:
            quantity.update(system=UCUM, code=UCUM_CODES[unit])
        resource: Resource = {
            "resourceType": "Observation",
            "id": f"assessment-{pk}",
            "meta": {"lastUpdated": instant(created_at)},
            "status": "final",
            "category": [
                {"coding": [{"system": OBSERVATION_CATEGORY, "code": _category(measure)}]}
            ],
            "code": _observation_code(measure),
            "subject": {"reference": f"Patient/{patient_id}"},
            "effectiveDateTime": instant(measured_at),
            "valueQuantity": quantity,
            "method": {"coding": [{"system": ASSESSMENT_SETTING, "code": setting}]},
        }
        if note:
            resource["note"] = [{"text": note}]
        yield resource


# The registry: resource type → exporter, in the order the types are written. `_type` is
# validated against its keys. (The mapping module's functions go in here at merge.)
RESOURCE_EXPORTERS: dict[str, ResourceExporter] = {
    "Patient": patient_resources,
    "Observation": assessment_observations,
}
