"""The codes and units an imported Observation may carry, and the measure each one means.

The systems are the export's (backend/fhir/codes.py): what PhysioTrack writes, it reads."""

from __future__ import annotations

from dataclasses import dataclass

from backend.exercise.measures import Measure, Setting
from backend.fhir.codes import LOINC, OUTCOME_MEASURES, SETTING_SYSTEM, UCUM

__all__ = ["LOINC", "OUTCOME_MEASURES", "SETTING_SYSTEM", "UCUM"]

# eGFR: CKD-EPI and MDRD equations, with and without race, creatinine and cystatin C; and
# 69405-9, eGFR whatever the equation, which is what PhysioTrack's own export writes.
EGFR_LOINC = ("62238-1", "33914-3", "98979-8", "48642-3", "48643-1", "50044-7", "69405-9")
CK_LOINC = "2157-6"

# The outcome measures' codes are the export's: the measure's own name (backend/fhir/mapping).
CODES: dict[tuple[str, str], str] = {
    **{(LOINC, code): Measure.EGFR for code in EGFR_LOINC},
    (LOINC, CK_LOINC): Measure.CK,
    (OUTCOME_MEASURES, Measure.CMAS.value): Measure.CMAS,
    (OUTCOME_MEASURES, Measure.MMT8.value): Measure.MMT8,
    (OUTCOME_MEASURES, Measure.CHAQ.value): Measure.CHAQ,
    (OUTCOME_MEASURES, Measure.STS30.value): Measure.STS30,
    (OUTCOME_MEASURES, Measure.TUG.value): Measure.TUG,
}


@dataclass(frozen=True)
class UnitRule:
    ucum: frozenset[str]  # valueQuantity.code with system UCUM
    shown: frozenset[str]  # valueQuantity.unit alone (no code), as labs print it


UNITS: dict[str, UnitRule] = {
    Measure.EGFR: UnitRule(
        frozenset({"mL/min/{1.73_m2}"}), frozenset({"mL/min/1.73m2", "mL/min/{1.73_m2}"})
    ),
    Measure.CK: UnitRule(frozenset({"U/L"}), frozenset({"U/L", "IU/L"})),
    Measure.CMAS: UnitRule(frozenset({"{score}"}), frozenset({"points", "{score}"})),
    Measure.MMT8: UnitRule(frozenset({"{score}"}), frozenset({"points", "{score}"})),
    Measure.CHAQ: UnitRule(frozenset({"{score}"}), frozenset({"points", "{score}"})),
    Measure.STS30: UnitRule(frozenset({"{count}"}), frozenset({"count", "{count}"})),
    Measure.TUG: UnitRule(frozenset({"s"}), frozenset({"s"})),
}

# Where each measure is usually taken when the Observation does not say (a laboratory result
# is a clinic value; the questionnaire and the two timed tests are the app's home measures).
USUAL_SETTING: dict[str, str] = {
    Measure.EGFR: Setting.CLINIC,
    Measure.CK: Setting.CLINIC,
    Measure.CMAS: Setting.CLINIC,
    Measure.MMT8: Setting.CLINIC,
    Measure.CHAQ: Setting.HOME,
    Measure.STS30: Setting.HOME,
    Measure.TUG: Setting.HOME,
}

# Results final enough to act on; preliminary or withdrawn ones are refused.
ACCEPTED_STATUSES = frozenset({"final", "amended", "corrected"})
