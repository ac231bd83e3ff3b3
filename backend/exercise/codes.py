"""Vocabularies of the exercise area (shared/DOMAIN.md sections 1, 3 and 5)."""

from __future__ import annotations

from django.db import models


class Category(models.TextChoices):
    RESISTANCE = "resistance", "Resistance"
    AEROBIC = "aerobic", "Aerobic"
    MOBILITY = "mobility", "Mobility / stretching"
    BALANCE = "balance", "Balance"
    FUNCTIONAL = "functional", "Functional"


class BodyRegion(models.TextChoices):
    NECK = "neck", "Neck"
    SHOULDER = "shoulder", "Shoulder"
    ARM = "arm", "Arm and hand"
    TRUNK = "trunk", "Trunk"
    HIP = "hip", "Hip"
    LEG = "leg", "Leg"
    ANKLE = "ankle", "Ankle and foot"
    WHOLE_BODY = "whole_body", "Whole body"


class MuscleGroup(models.TextChoices):
    """The eight muscle groups of the MMT8 (Rider 2010)."""

    NECK_FLEXORS = "neck_flexors", "Neck flexors"
    DELTOID_MIDDLE = "deltoid_middle", "Middle deltoid"
    BICEPS_BRACHII = "biceps_brachii", "Biceps brachii"
    WRIST_EXTENSORS = "wrist_extensors", "Wrist extensors"
    GLUTEUS_MAXIMUS = "gluteus_maximus", "Gluteus maximus"
    GLUTEUS_MEDIUS = "gluteus_medius", "Gluteus medius"
    QUADRICEPS = "quadriceps", "Quadriceps"
    ANKLE_DORSIFLEXORS = "ankle_dorsiflexors", "Ankle dorsiflexors"


class Equipment(models.TextChoices):
    NONE = "none", "None"
    BAND = "band", "Resistance band"
    DUMBBELL = "dumbbell", "Dumbbell"
    ANKLE_WEIGHT = "ankle_weight", "Ankle weight"
    CHAIR = "chair", "Chair"
    MAT = "mat", "Mat"
    STEP = "step", "Step"
    BALL = "ball", "Ball"
    WALL = "wall", "Wall"
    BIKE = "bike", "Stationary bike"
    CUSHION = "cushion", "Soft cushion"


class LoadUnit(models.TextChoices):
    KG = "kg", "kg"
    BAND = "band", "Band colour"
    BODY_WEIGHT = "body_weight", "Body weight"


class IntensityScale(models.TextChoices):
    """Borg scales are never mixed: every intensity value stores its scale."""

    RPE = "rpe_6_20", "Borg RPE 6–20"
    CR10 = "cr10", "Borg CR10 0–10"


SCALE_RANGES: dict[str, tuple[int, int]] = {
    IntensityScale.RPE: (6, 20),
    IntensityScale.CR10: (0, 10),
}
# DOMAIN.md 3: progression is proposed when effort was at most this.
PROGRESSION_MAX_EFFORT: dict[str, int] = {IntensityScale.RPE: 12, IntensityScale.CR10: 3}


class Completion(models.TextChoices):
    FULL = "full", "Full"
    PARTIAL = "partial", "Partial"
    SKIPPED = "skipped", "Skipped"


class SymptomTier(models.IntegerChoices):
    EMERGENCY = 1, "Emergency"
    SAME_DAY = 2, "Same day"
    ROUTINE = 3, "Routine"


class Symptom(models.TextChoices):
    """The checklist of DOMAIN.md section 5."""

    CHEST_PAIN = "chest_pain", "Chest pain or pressure"
    BREATHLESS_AT_REST = "breathless_at_rest", "Severe breathlessness at rest"
    FAINTING = "fainting", "Fainting or collapse"
    CHOKING = "choking", "Choking or cannot swallow"
    SEIZURE_OR_CONFUSION = "seizure_or_confusion", "Seizure or confusion"
    GI_BLEEDING = "gi_bleeding", "Vomiting blood, black or bloody stools"
    DARK_URINE = "dark_urine", "Dark (cola-coloured) urine after exercise"
    SEVERE_MUSCLE_PAIN = "severe_muscle_pain", "Muscle pain ≥ 7/10 or ≥ 4 above pre-session"
    NEW_WEAKNESS = "new_weakness", "New or clearly worse weakness"
    NEW_DYSPHAGIA = "new_dysphagia", "New difficulty swallowing or nasal voice"
    NEW_BREATHLESSNESS = "new_breathlessness", "New breathlessness on usual activity"
    FEVER = "fever", "Fever ≥ 38.0 °C"
    CALCINOSIS_INFECTION = "calcinosis_infection", "Ulcer, discharge or redness at calcinosis"
    NEW_SKIN_ULCER = "new_skin_ulcer", "New skin ulcer"
    CALCINOSIS_NODULE = "calcinosis_nodule", "New or growing calcinosis nodule"
    JOINT_STIFFNESS = "joint_stiffness", "New joint stiffness, contracture or blocked exercise"
    RASH_FLARE = "rash_flare", "Rash flare"


SYMPTOM_TIERS: dict[str, SymptomTier] = {
    **dict.fromkeys(
        [
            Symptom.CHEST_PAIN,
            Symptom.BREATHLESS_AT_REST,
            Symptom.FAINTING,
            Symptom.CHOKING,
            Symptom.SEIZURE_OR_CONFUSION,
            Symptom.GI_BLEEDING,
        ],
        SymptomTier.EMERGENCY,
    ),
    **dict.fromkeys(
        [
            Symptom.DARK_URINE,
            Symptom.SEVERE_MUSCLE_PAIN,
            Symptom.NEW_WEAKNESS,
            Symptom.NEW_DYSPHAGIA,
            Symptom.NEW_BREATHLESSNESS,
            Symptom.FEVER,
            Symptom.CALCINOSIS_INFECTION,
            Symptom.NEW_SKIN_ULCER,
        ],
        SymptomTier.SAME_DAY,
    ),
    **dict.fromkeys(
        [Symptom.CALCINOSIS_NODULE, Symptom.JOINT_STIFFNESS, Symptom.RASH_FLARE],
        SymptomTier.ROUTINE,
    ),
}

SAFETY_MESSAGES = {
    SymptomTier.EMERGENCY: (
        "Stop exercising. Call emergency services now (999 / 112 / 911). "
        "Your care team has been told."
    ),
    SymptomTier.SAME_DAY: (
        "Stop exercising today. Your care team has been told and will contact you today. "
        "If you feel worse, call your clinic or emergency services."
    ),
    SymptomTier.ROUTINE: "Thank you. Your care team will look at this at your next review.",
}


def highest_tier(symptoms: list[str]) -> SymptomTier | None:
    tiers = [SYMPTOM_TIERS[code] for code in symptoms if code in SYMPTOM_TIERS]
    return SymptomTier(min(tiers)) if tiers else None
