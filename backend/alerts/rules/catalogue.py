"""The rule catalogue: every rule of shared/DOMAIN.md (sections 2 to 7) with its version, basis,
urgency, audience and parameters. One source for the code that runs the rules, the rule
settings of each patient, GET /api/v1/rules/ and docs/rules.md (`make rules-doc`).

A rule's version goes up whenever what it does changes, so an alert says which behaviour
raised it. Version 2 (issue "[1/5] The safety net holds"): SYM-1 and SYM-2 (pain thresholds,
symptom reports stored on their own), FD-2 and FD-4 (told to the physiotherapist and the
nurse), FD-5 and FD-6 (every declining measure reported), KID-2 (compared within one setting),
A-1 and A-4 (consent and quiet hours respected)."""

from __future__ import annotations

from backend.alerts.models import Urgency
from backend.alerts.rules.schema import Audience, Kind, Param, ParamType, Rule, Status

ADHERENCE = "backend.alerts.services.adherence"
REMINDERS = "backend.alerts.services.reminders"
DECLINE = "backend.alerts.services.decline"
SYMPTOMS = "backend.alerts.services.symptoms"
PROGRESSION = "backend.exercise.services.progression"
MODELS = "backend.alerts.models"

SECTION_4 = (
    "DOMAIN.md 4, adherence (2-3 sessions a week) [DEFAULT; home-exercise non-adherence "
    "runs 50-70 %, SRC Argent 2018]"
)
SECTION_5 = (
    "DOMAIN.md 5, symptoms and red flags: SHARE high-risk features (dysphagia, GI bleeding, "
    "skin ulceration, CNS involvement); CDC/NIOSH rhabdomyolysis signs; calcinosis "
    "complications (Hoeltzel 2014, PMC5118224)"
)
SECTION_6_KIDNEY = "DOMAIN.md 6, kidney [DEFAULT]; SHARE asks for regular kidney monitoring"


def _days(name: str, default: int, low: int, high: int, description: str) -> Param:
    return Param(name, ParamType.INTEGER, default, "days", description, low, high)


def _window(default: int = 180) -> Param:
    return _days("best_window_days", default, 30, 365, "How far back the best value is looked for.")


RULES_IN_ORDER: tuple[Rule, ...] = (
    # --- Reminders and adherence (DOMAIN.md 4) ---------------------------------------------
    Rule(
        "R-0",
        1,
        "Session-day reminder",
        "Reminds the patient on each chosen training day at their time, unless the week's "
        "maximum is already reached.",
        SECTION_4,
        Status.DEFAULT,
        Urgency.INFO,
        (Audience.PATIENT,),
        implemented_in=(REMINDERS, MODELS),
        kind=Kind.REMINDER,
    ),
    Rule(
        "R-1",
        1,
        "Thursday nudge",
        "Reminds the patient on Thursday at their time when no session was logged this week.",
        SECTION_4,
        Status.DEFAULT,
        Urgency.INFO,
        (Audience.PATIENT,),
        implemented_in=(REMINDERS, MODELS),
        kind=Kind.REMINDER,
    ),
    Rule(
        "R-2",
        1,
        "Saturday nudge",
        "Reminds the patient on Saturday at their time when the week is below the minimum.",
        SECTION_4,
        Status.DEFAULT,
        Urgency.INFO,
        (Audience.PATIENT,),
        implemented_in=(REMINDERS, MODELS),
        kind=Kind.REMINDER,
    ),
    Rule(
        "A-1",
        2,
        "Week below target",
        "Marks a week that ended below the minimum and tells the patient, respecting consent "
        "and quiet hours.",
        SECTION_4,
        Status.DEFAULT,
        Urgency.INFO,
        (Audience.PATIENT,),
        may_disable=True,
        implemented_in=(ADHERENCE,),
        kind=Kind.ADVICE,
    ),
    Rule(
        "A-2",
        1,
        "Weeks below target",
        "Alerts the physiotherapist after consecutive weeks below the minimum or too few "
        "sessions over 28 days; urgent after more weeks.",
        SECTION_4,
        Status.DEFAULT,
        Urgency.ROUTINE,
        (Audience.PHYSIO,),
        (
            Param(
                "consecutive_weeks",
                ParamType.INTEGER,
                2,
                "weeks",
                "Weeks in a row below the minimum that raise the alert.",
                1,
                8,
            ),
            Param(
                "urgent_after_weeks",
                ParamType.INTEGER,
                4,
                "weeks",
                "Weeks in a row below the minimum from which the alert is urgent.",
                2,
                12,
            ),
            Param(
                "min_ratio_28_days",
                ParamType.NUMBER,
                0.8,
                "ratio",
                "Share of the prescribed sessions over 28 days below which the alert fires.",
                0.1,
                1.0,
            ),
        ),
        may_disable=True,
        implemented_in=(ADHERENCE,),
    ),
    Rule(
        "A-3",
        1,
        "No session for two weeks",
        "Alerts the physiotherapist and the nurse when no session at all was logged for 14 "
        "days (illness or flare?).",
        SECTION_4,
        Status.DEFAULT,
        Urgency.ROUTINE,
        (Audience.PHYSIO_AND_NURSE,),
        (
            _days(
                "days_without_session",
                14,
                7,
                28,
                "Days without any session that raise the alert.",
            ),
        ),
        safety_critical=True,
        implemented_in=(ADHERENCE,),
    ),
    Rule(
        "A-4",
        2,
        "Above the weekly maximum",
        "Accepts the log, advises the patient (respecting consent and quiet hours) and informs "
        "the physiotherapist: overtraining in myositis.",
        SECTION_4,
        Status.DEFAULT,
        Urgency.INFO,
        (Audience.PATIENT, Audience.PHYSIO),
        may_disable=True,
        implemented_in=(ADHERENCE,),
    ),
    Rule(
        "S",
        1,
        "Pause suppression",
        "While a clinician has paused the programme, A-1 to A-3 and the reminders are suppressed.",
        SECTION_4,
        Status.DEFAULT,
        Urgency.INFO,
        (),
        implemented_in=(ADHERENCE, REMINDERS),
        kind=Kind.SUPPRESSION,
    ),
    # --- Exercise prescription (DOMAIN.md 3) ---------------------------------------------
    Rule(
        "PROG-1",
        1,
        "Progression proposal",
        "After 2 sessions of an exercise fully done at RPE <= 12 (CR10 <= 3) without a pain "
        "rise of 2, proposes one change for the physiotherapist to accept; never applied.",
        "DOMAIN.md 3, exercise prescription: progression is proposed, never applied "
        "automatically [DEFAULT]",
        Status.DEFAULT,
        Urgency.INFO,
        (Audience.PHYSIO,),
        implemented_in=(PROGRESSION,),
        kind=Kind.PROPOSAL,
    ),
    # --- Function decline (DOMAIN.md 2) ----------------------------------------------------
    Rule(
        "FD-1",
        1,
        "CMAS drop",
        "CMAS drops 3 points or more below the previous value or the best of the last 180 days.",
        "DOMAIN.md 2 [DEFAULT, on the MID]: CMAS minimal important difference 1.5-3 points "
        "(Huber 2004, doi:10.1002/art.20179)",
        Status.DEFAULT,
        Urgency.ROUTINE,
        (Audience.PHYSIO,),
        (
            Param(
                "drop_points",
                ParamType.NUMBER,
                3,
                "CMAS points",
                "Drop below the previous or best value that raises the alert.",
                1,
                10,
            ),
            _window(),
        ),
        may_disable=True,
        implemented_in=(DECLINE,),
    ),
    Rule(
        "FD-2",
        2,
        "CMAS severe",
        "CMAS below 15 (severe disability): urgent, to the physiotherapist and the nurse.",
        "DOMAIN.md 2 [SRC SHARE high-risk list]; CMAS < 15 severe (Huber 2004)",
        Status.SRC,
        Urgency.URGENT,
        (Audience.PHYSIO_AND_NURSE,),
        (
            Param(
                "below",
                ParamType.NUMBER,
                15,
                "CMAS points",
                "A value under this raises the alert.",
                10,
                30,
            ),
        ),
        safety_critical=True,
        implemented_in=(DECLINE,),
    ),
    Rule(
        "FD-3",
        1,
        "MMT8 drop",
        "MMT8 drops 20 % or more below the previous value or the best of the last 180 days.",
        "DOMAIN.md 2 [UNVERIFIED: IMACS worsening component, Oddis 2005]",
        Status.UNVERIFIED,
        Urgency.ROUTINE,
        (Audience.PHYSIO,),
        (
            Param(
                "drop_ratio",
                ParamType.NUMBER,
                0.2,
                "ratio",
                "Relative drop below the previous or best value that raises the alert.",
                0.05,
                0.5,
            ),
            _window(),
        ),
        may_disable=True,
        implemented_in=(DECLINE,),
    ),
    Rule(
        "FD-4",
        2,
        "MMT8 severe",
        "MMT8 below 30 of 80: urgent, to the physiotherapist and the nurse.",
        "DOMAIN.md 2 [SRC SHARE]",
        Status.SRC,
        Urgency.URGENT,
        (Audience.PHYSIO_AND_NURSE,),
        (
            Param(
                "below_of_80",
                ParamType.NUMBER,
                30,
                "MMT8 points of 80",
                "A value under this (scaled to 80) raises the alert.",
                20,
                50,
            ),
        ),
        safety_critical=True,
        implemented_in=(DECLINE,),
    ),
    Rule(
        "FD-5",
        2,
        "CHAQ worsening",
        "CHAQ rises 0.75 or more in one entry, or 0.125 or more on two consecutive entries.",
        "DOMAIN.md 2 [DEFAULT on SRC MCIDs]: worsening MCID +0.125 (Brunner 2005) to +0.75 "
        "(Dempster 2001)",
        Status.DEFAULT,
        Urgency.ROUTINE,
        (Audience.PHYSIO,),
        (
            Param(
                "single_rise",
                ParamType.NUMBER,
                0.75,
                "CHAQ points",
                "Rise in one entry that raises the alert.",
                0.125,
                1.5,
                step=0.125,
            ),
            Param(
                "consecutive_rise",
                ParamType.NUMBER,
                0.125,
                "CHAQ points",
                "Rise on each of two consecutive entries that raises the alert.",
                0.125,
                0.75,
                step=0.125,
            ),
        ),
        may_disable=True,
        implemented_in=(DECLINE,),
    ),
    Rule(
        "FD-6",
        2,
        "Home test worsening",
        "STS30 or TUG at home 20 % or more worse than the personal baseline on 2 consecutive "
        "tests at least 48 h apart; every declining measure is reported.",
        "DOMAIN.md 2 [DEFAULT]; home tests reliable (Saygin 2025, "
        "doi:10.1016/j.semarthrit.2025.152809)",
        Status.DEFAULT,
        Urgency.ROUTINE,
        (Audience.PHYSIO,),
        (
            Param(
                "worse_ratio",
                ParamType.NUMBER,
                0.2,
                "ratio",
                "How much worse than the baseline a test must be.",
                0.05,
                0.5,
            ),
            Param(
                "baseline_tests",
                ParamType.INTEGER,
                3,
                "tests",
                "First home tests whose median is the baseline.",
                1,
                5,
            ),
            Param(
                "min_hours_apart",
                ParamType.INTEGER,
                48,
                "hours",
                "Least time between the two worse tests.",
                12,
                168,
            ),
        ),
        may_disable=True,
        implemented_in=(DECLINE,),
    ),
    Rule(
        "FD-7",
        1,
        "Pain rise",
        "Pain after sessions 2 points and 30 % above the 14-day median on 2 consecutive entries.",
        "DOMAIN.md 2 [DEFAULT on SRC Farrar]: important change about 2 points or 30 % "
        "(Farrar 2001)",
        Status.DEFAULT,
        Urgency.ROUTINE,
        (Audience.PHYSIO,),
        (
            Param(
                "points",
                ParamType.INTEGER,
                2,
                "pain points (0-10)",
                "Rise above the median that counts.",
                1,
                5,
            ),
            Param(
                "ratio",
                ParamType.NUMBER,
                0.3,
                "ratio",
                "Relative rise above the median that counts too.",
                0.1,
                1.0,
            ),
            _days("window_days", 14, 7, 28, "Days of entries the median is taken over."),
        ),
        may_disable=True,
        implemented_in=(DECLINE,),
    ),
    Rule(
        "FD-8",
        1,
        "Fatigue rise",
        "Fatigue after sessions 2 points above the 14-day median on 2 consecutive entries.",
        "DOMAIN.md 2 [DEFAULT]; no myositis MCID for fatigue",
        Status.DEFAULT,
        Urgency.ROUTINE,
        (Audience.PHYSIO,),
        (
            Param(
                "points",
                ParamType.INTEGER,
                2,
                "fatigue points (0-10)",
                "Rise above the median that counts.",
                1,
                5,
            ),
            _days("window_days", 14, 7, 28, "Days of entries the median is taken over."),
        ),
        may_disable=True,
        implemented_in=(DECLINE,),
    ),
    # --- Symptoms and red flags (DOMAIN.md 5 and 7) --------------------------------------
    Rule(
        "SYM-1",
        2,
        "Emergency symptom",
        "A tier-1 symptom (chest pain, severe breathlessness, fainting…): the patient is told "
        "to call emergency services, every care-team member is alerted, the programme paused.",
        SECTION_5,
        Status.SRC,
        Urgency.EMERGENCY,
        (Audience.TEAM,),
        safety_critical=True,
        implemented_in=(SYMPTOMS,),
    ),
    Rule(
        "SYM-2",
        2,
        "Same-day symptom",
        "A tier-2 symptom, or pain after >= 7/10 or >= 4 above pain before even if unticked: "
        "urgent alert to the physiotherapist and the nurse, programme paused.",
        f"{SECTION_5}; DOMAIN.md 7: pain scores count as symptoms by themselves [DEFAULT; "
        "per-patient settings]; thresholds such as 7/10 and 38.0 °C are [DEFAULT]",
        Status.DEFAULT,
        Urgency.URGENT,
        (Audience.PHYSIO_AND_NURSE,),
        (
            Param(
                "pain_after_at_least",
                ParamType.INTEGER,
                7,
                "pain points (0-10)",
                "Pain after a session from which the muscle-pain alert is raised.",
                5,
                10,
            ),
            Param(
                "pain_rise_at_least",
                ParamType.INTEGER,
                4,
                "pain points (0-10)",
                "Rise of pain after over pain before from which the alert is raised.",
                2,
                6,
            ),
        ),
        safety_critical=True,
        implemented_in=(SYMPTOMS,),
    ),
    Rule(
        "SYM-3",
        1,
        "Routine symptom",
        "A tier-3 symptom (new or growing calcinosis nodule, new stiffness or contracture, "
        "rash flare): routine alert for the next review.",
        SECTION_5,
        Status.SRC,
        Urgency.ROUTINE,
        (Audience.PHYSIO,),
        implemented_in=(SYMPTOMS,),
    ),
    # --- Other monitoring (DOMAIN.md 6) --------------------------------------------------
    Rule(
        "KID-1",
        1,
        "eGFR low",
        "eGFR below 60 mL/min/1.73 m²: the care team is alerted.",
        SECTION_6_KIDNEY,
        Status.DEFAULT,
        Urgency.URGENT,
        (Audience.TEAM,),
        (
            Param(
                "below",
                ParamType.NUMBER,
                60,
                "mL/min/1.73 m²",
                "A value under this raises the alert.",
                30,
                90,
            ),
        ),
        safety_critical=True,
        implemented_in=(DECLINE,),
    ),
    Rule(
        "KID-2",
        2,
        "eGFR falling",
        "eGFR falls 25 % or more from the last value of the same setting: the care team is "
        "alerted.",
        SECTION_6_KIDNEY,
        Status.DEFAULT,
        Urgency.URGENT,
        (Audience.TEAM,),
        (
            Param(
                "drop_ratio",
                ParamType.NUMBER,
                0.25,
                "ratio",
                "Relative fall from the last value that raises the alert.",
                0.1,
                0.5,
            ),
        ),
        may_disable=True,
        implemented_in=(DECLINE,),
    ),
    Rule(
        "KID-3",
        1,
        "eGFR overdue",
        "No eGFR result within the monitoring interval the clinician set: the care team is "
        "alerted. Silent until an interval is set.",
        SECTION_6_KIDNEY,
        Status.DEFAULT,
        Urgency.ROUTINE,
        (Audience.TEAM,),
        (
            Param(
                "interval_days",
                ParamType.INTEGER,
                None,
                "days",
                "Monitoring interval; null: none set.",
                7,
                730,
                nullable=True,
            ),
        ),
        may_disable=True,
        implemented_in=(DECLINE,),
    ),
    Rule(
        "SUN-1",
        1,
        "Sun protection reminder",
        "A morning reminder on training days marked outdoor, or in the months a clinician "
        "enables. Silent until days or months are chosen.",
        "DOMAIN.md 6 [SRC SHARE]: sun protection",
        Status.SRC,
        Urgency.INFO,
        (Audience.PATIENT,),
        (
            Param(
                "months",
                ParamType.INTEGER_LIST,
                [],
                "months (1 = January)",
                "Months in which every training day gets the reminder.",
                1,
                12,
            ),
            Param(
                "outdoor_weekdays",
                ParamType.INTEGER_LIST,
                [],
                "ISO weekdays (1 = Monday)",
                "Training days that are outdoor.",
                1,
                7,
            ),
            Param(
                "time",
                ParamType.TIME,
                "08:00",
                "local time",
                "When the reminder is sent.",
            ),
        ),
        implemented_in=(REMINDERS,),
        kind=Kind.REMINDER,
    ),
)

RULES = {rule.id: rule for rule in RULES_IN_ORDER}
if len(RULES) != len(RULES_IN_ORDER):
    raise ValueError("two rules share an id")
