"""Code systems, codes and URIs the FHIR export writes (docs/fhir.md lists them).

Standard terminologies where a code exists (LOINC, SNOMED CT, HL7's own code systems and the
Physical Activity IG's category); everything PhysioTrack measures that has no standard code
(CMAS, MMT8, CHAQ, STS30, TUG…, fatigue and effort scales, the session's completion) is a code
of PhysioTrack's own code systems under LOCAL_BASE, named by what they hold.
"""

from __future__ import annotations

from typing import Any

from backend.exercise.measures import Measure

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
CARE_TEAM_PARTICIPANT_ROLE = SNOMED
RELATED_PERSON_ROLE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
PROVENANCE_PARTICIPANT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
# The HL7 Physical Activity IG (STU 1): its category for every resource about physical activity.
PA_TEMPORARY_CODES = "http://hl7.org/fhir/us/physical-activity/CodeSystem/pa-temporary-codes"
PHYSICAL_ACTIVITY = "PhysicalActivity"

LOCAL_BASE = "https://physiotrack.org/fhir"
OUTCOME_MEASURES = f"{LOCAL_BASE}/CodeSystem/outcome-measures"
SESSION_MEASURES = f"{LOCAL_BASE}/CodeSystem/session-measures"
ALERT_RULES = f"{LOCAL_BASE}/CodeSystem/alert-rules"
ALERT_ACTIONS = f"{LOCAL_BASE}/CodeSystem/alert-actions"
# Where a measure was taken (DOMAIN.md 1: home and clinic values are never compared), as an
# Observation.category coding; the import reads it back.
SETTING_SYSTEM = f"{LOCAL_BASE}/CodeSystem/setting"
PATIENT_IDENTIFIER = f"{LOCAL_BASE}/sid/patient"
# A stored assessment's own identifier: what a receiving system dedupes a resend on.
ASSESSMENT_IDENTIFIER = f"{LOCAL_BASE}/sid/assessment"
USER_IDENTIFIER = f"{LOCAL_BASE}/sid/user"
EXERCISE_DOSE = f"{LOCAL_BASE}/StructureDefinition/exercise-dose"
EXERCISE = f"{LOCAL_BASE}/CodeSystem/exercise"

EXERCISE_THERAPY = ("229065009", "Exercise therapy")  # SNOMED CT
EXERCISE_ACTIVITY = ("73985-4", "Exercise activity")  # LOINC
EXERCISE_DURATION = ("55411-3", "Exercise duration")  # LOINC
PAIN_SEVERITY = ("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported")

# Outcome measures with a LOINC code; the others are codes of OUTCOME_MEASURES.
MEASURE_LOINC: dict[str, tuple[str, str]] = {
    Measure.PAIN: PAIN_SEVERITY,
    Measure.CK: ("2157-6", "Creatine kinase [Enzymatic activity/volume] in Serum or Plasma"),
    Measure.EGFR: (
        "69405-9",
        "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, Plasma "
        "or Blood",
    ),
}
# Laboratory results are "laboratory"; the rest are clinical or home tests ("exam", "survey").
MEASURE_CATEGORY: dict[str, str] = {
    Measure.CK: "laboratory",
    Measure.EGFR: "laboratory",
    Measure.CHAQ: "survey",
    Measure.PAIN: "survey",
    Measure.FATIGUE: "survey",
    Measure.PTGLOBAL: "survey",
}
# UCUM for each measure's stored unit (backend.exercise.measures.MEASURES).
UCUM_UNITS: dict[str, str] = {
    "points": "{score}",
    "0-10": "{score}",
    "count": "{count}",
    "s": "s",
    "m": "m",
    "kg": "kg",
    "U/L": "U/L",
    "mL/min/1.73m2": "mL/min/{1.73_m2}",
    "min": "min",
}


def coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"system": system, "code": code}
    if display:
        found["display"] = display
    return found


def concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    """A CodeableConcept of one coding, with the display as its text too."""
    found: dict[str, Any] = {"coding": [coding(system, code, display)]}
    if display:
        found["text"] = display
    return found


def physical_activity_category() -> dict[str, Any]:
    return concept(PA_TEMPORARY_CODES, PHYSICAL_ACTIVITY, "Physical Activity")
