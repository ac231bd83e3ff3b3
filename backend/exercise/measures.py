"""Outcome measures of shared/DOMAIN.md section 1: ranges, units, who may record them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import models


class Measure(models.TextChoices):
    CMAS = "CMAS", "Childhood Myositis Assessment Scale"
    MMT8 = "MMT8", "Manual muscle testing, 8 groups"
    CHAQ = "CHAQ", "Childhood Health Assessment Questionnaire"
    PAIN = "PAIN", "Pain (0–10)"
    FATIGUE = "FATIGUE", "Fatigue (0–10)"
    PTGLOBAL = "PTGLOBAL", "Patient/parent global activity (0–10)"
    MDGLOBAL = "MDGLOBAL", "Physician global activity (0–10)"
    STS30 = "STS30", "30-second sit-to-stand"
    TUG = "TUG", "Timed up-and-go"
    SIX_MWD = "6MWD", "Six-minute walk distance"
    GRIP = "GRIP", "Grip strength"
    CK = "CK", "Creatine kinase"
    EGFR = "EGFR", "eGFR"


class Setting(models.TextChoices):
    HOME = "home", "Home"
    CLINIC = "clinic", "Clinic"


@dataclass(frozen=True)
class MeasureSpec:
    unit: str
    minimum: Decimal
    maximum: Decimal
    higher_is_better: bool
    patient_may_record: bool = False  # home measures a patient or caregiver may enter
    step: Decimal | None = None  # values must be multiples of this (CHAQ: 0.125)
    whole_numbers: bool = False
    minimum_exclusive: bool = False


D = Decimal
MEASURES: dict[str, MeasureSpec] = {
    Measure.CMAS: MeasureSpec("points", D(0), D(52), True, whole_numbers=True),
    Measure.MMT8: MeasureSpec("points", D(0), D(150), True, whole_numbers=True),
    Measure.CHAQ: MeasureSpec("points", D(0), D(3), False, True, step=D("0.125")),
    Measure.PAIN: MeasureSpec("0-10", D(0), D(10), False, True),
    Measure.FATIGUE: MeasureSpec("0-10", D(0), D(10), False, True),
    Measure.PTGLOBAL: MeasureSpec("0-10", D(0), D(10), False, True),
    Measure.MDGLOBAL: MeasureSpec("0-10", D(0), D(10), False),
    Measure.STS30: MeasureSpec("count", D(0), D(60), True, True, whole_numbers=True),
    Measure.TUG: MeasureSpec("s", D(0), D(300), False, True, minimum_exclusive=True),
    Measure.SIX_MWD: MeasureSpec("m", D(0), D(1000), True),
    Measure.GRIP: MeasureSpec("kg", D(0), D(100), True),
    Measure.CK: MeasureSpec("U/L", D(0), D(1_000_000), False),
    Measure.EGFR: MeasureSpec("mL/min/1.73m2", D(0), D(200), True),
}

# MMT8 is scored 0–80 (one side) or 0–150 (bilateral variant); the maximum is stored with it.
MMT8_MAX_SCORES = (80, 150)
MMT8_GROUPS = (
    "neck_flexors",
    "deltoid_middle",
    "biceps_brachii",
    "wrist_extensors",
    "gluteus_maximus",
    "gluteus_medius",
    "quadriceps",
    "ankle_dorsiflexors",
)
CMAS_ITEMS = (
    "head_elevation",
    "leg_raise",
    "straight_leg_lift",
    "supine_to_prone",
    "sit_ups",
    "supine_to_sit",
    "arm_raise_straighten",
    "arm_raise_duration",
    "floor_sit",
    "all_fours",
    "floor_rise",
    "chair_rise",
    "stool_step",
    "pick_up_object",
)
ITEM_KEYS: dict[str, tuple[str, ...]] = {Measure.CMAS: CMAS_ITEMS, Measure.MMT8: MMT8_GROUPS}
