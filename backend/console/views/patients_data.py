"""What the Patients pages show, shaped for the templates from the existing selectors.

No rule is decided here: a past week's verdict is the one the adherence job stored
(WeeklyAdherence: below_minimum / above_maximum / suppressed), the week in progress is only
counted ("so far"), and thresholds drawn on charts are the rule settings in force for the
patient (rule_settings_of), labelled with the rule that uses them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from backend.accounts.models import PatientProfile
from backend.alerts.models import WeeklyAdherence
from backend.alerts.selectors import RuleSetting
from backend.console.charts import mini_bar
from backend.exercise.codes import Symptom, SymptomTier
from backend.exercise.models import ProgrammeVersion
from backend.exercise.selectors import local_week_start
from backend.exercise.services.programmes import CONTENT_FIELDS, DOSE_FIELDS
from backend.symptoms.models import SymptomReport

PAST_WEEKS = 4  # the list shows this week and the four before it


# --- Adherence marks: colour (css) and words together ---------------------------------------


@dataclass(frozen=True)
class WeekMark:
    week_start: date
    sessions: Decimal | None  # None: no evaluation stored for the week
    target_min: int | None
    target_max: int | None
    css: str  # met / below / above / open / none
    symbol: str  # ✓ ↓ ↑ … — the sign that does not depend on colour
    word: str  # "met", "below target", "above maximum", "so far", "no target"

    @property
    def target(self) -> str:
        if self.target_min is None or self.target_max is None:
            return ""
        if self.target_min == self.target_max:
            return str(self.target_min)
        return f"{self.target_min}–{self.target_max}"

    @property
    def count(self) -> str:
        return "—" if self.sessions is None else _plain(self.sessions)

    @property
    def bar(self) -> SafeString:
        """The week's small bar (decorative: the text beside it says the same)."""
        return mini_bar(self.sessions or Decimal(0), self.target_max, self.css)

    @property
    def short(self) -> str:
        """The word under the week's bar, where a column is narrow."""
        return {"below": "below", "above": "above", "open": "so far", "met": "met"}.get(
            self.css, ""
        )

    @property
    def text(self) -> str:
        """The full words, e.g. "2/2–3 ✓ met" or "1/2–3 ↓ below target"."""
        if self.sessions is None:
            return f"{self.symbol} {self.word}"
        target = f"/{self.target}" if self.target else ""
        return f"{self.count}{target} {self.symbol} {self.word}"


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


def past_week_mark(row: WeeklyAdherence | None, week_start: date) -> WeekMark:
    """A finished week as the adherence job judged it."""
    if row is None:
        return WeekMark(week_start, None, None, None, "none", "–", "not evaluated")
    judged = (row.sessions, row.target_min, row.target_max)
    if row.suppressed or row.target_min is None:
        why = {
            "paused": "paused",
            "no_programme": "no programme",
            "started_mid_week": "started mid-week",
        }.get(row.suppressed, "no target")
        return WeekMark(week_start, *judged, "none", "–", why)
    if row.below_minimum:
        return WeekMark(week_start, *judged, "below", "↓", "below target")
    if row.above_maximum:
        return WeekMark(week_start, *judged, "above", "↑", "above maximum")
    return WeekMark(week_start, *judged, "met", "✓", "met")


def current_week_mark(
    week_start: date, sessions: Decimal, target_min: int | None, target_max: int | None
) -> WeekMark:
    """The week in progress: counted, not judged (the rules judge a week when it ends)."""
    return WeekMark(week_start, sessions, target_min, target_max, "open", "…", "so far")


def weeks_html(weeks: list[WeekMark]) -> SafeString:
    """A row's weeks as one list: each a small bar, its count and symbol, a short word, and
    the full words for screen readers. Built here, not in the template: the list shows 200
    rows of five weeks, and a template node per value was most of the page's time."""
    return format_html(
        '<ol class="weeks">{}</ol>',
        format_html_join(
            "",
            '<li class="week {}">{}<span class="week-count" aria-hidden="true">{}</span>'
            '<span class="week-word" aria-hidden="true">{}</span>'
            '<span class="visually-hidden">Week of {}: {}</span></li>',
            (
                (
                    week.css,
                    week.bar,
                    week.count if week.css == "none" else f"{week.count} {week.symbol}",
                    week.short,
                    f"{week.week_start.day} {week.week_start:%b}",
                    week.text,
                )
                for week in weeks
            ),
        ),
    )


def recent_adherence(
    patients: list[PatientProfile], *, now: datetime
) -> dict[int, dict[date, WeeklyAdherence]]:
    """The stored verdicts of the last PAST_WEEKS local weeks of a page of patients: one
    query whatever the page holds."""
    earliest = min(
        (local_week_start(now, ZoneInfo(p.timezone)) for p in patients), default=now.date()
    ) - timedelta(weeks=PAST_WEEKS)
    found: dict[int, dict[date, WeeklyAdherence]] = defaultdict(dict)
    for row in WeeklyAdherence.objects.filter(
        patient_id__in=[p.pk for p in patients], week_start__gte=earliest
    ):
        found[row.patient_id][row.week_start] = row
    return found


def week_marks(
    patient: PatientProfile,
    *,
    now: datetime,
    stored: dict[date, WeeklyAdherence],
    this_week: Decimal,
    target_min: int | None,
    target_max: int | None,
) -> list[WeekMark]:
    """Oldest first: the PAST_WEEKS finished weeks, then this week so far."""
    monday = local_week_start(now, ZoneInfo(patient.timezone))
    past = [monday - timedelta(weeks=n) for n in range(PAST_WEEKS, 0, -1)]
    return [past_week_mark(stored.get(week), week) for week in past] + [
        current_week_mark(monday, this_week, target_min, target_max)
    ]


# --- Programme versions: what changed ---------------------------------------------------------


def content_of(version: ProgrammeVersion) -> dict[str, Any]:
    """version_content's shape (services.programmes) from the items versions_of prefetched:
    version_content orders the items itself, one query per version."""
    return {
        **{name: getattr(version, name) for name in CONTENT_FIELDS},
        "items": [
            {"exercise": item.exercise_id, **{name: getattr(item, name) for name in DOSE_FIELDS}}
            for item in version.items.all()
        ],
    }


FIELD_NAMES = {
    "title": "Title",
    "goals": "Goals",
    "start_date": "Start date",
    "review_date": "Review date",
    "sessions_per_week_min": "Sessions a week (minimum)",
    "sessions_per_week_max": "Sessions a week (maximum)",
    "training_weekdays": "Training days",
}


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "none"
    if isinstance(value, Decimal):
        return _plain(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def version_changes(
    before: dict[str, Any], after: dict[str, Any], exercise_names: dict[int, str]
) -> list[str]:
    """What changed from one version's content to the next, in words: programme fields,
    exercises added or removed, and each dose that changed (matched by exercise)."""
    changes: list[str] = [
        f"{FIELD_NAMES.get(name, name)}: {_shown(before.get(name))} → {_shown(after.get(name))}"
        for name in CONTENT_FIELDS
        if before.get(name) != after.get(name)
    ]
    old = {item["exercise"]: item for item in before.get("items", [])}
    new = {item["exercise"]: item for item in after.get("items", [])}

    def name_of(exercise_id: int) -> str:
        return exercise_names.get(exercise_id, f"Exercise {exercise_id}")

    for exercise_id, item in new.items():
        if exercise_id not in old:
            changes.append(f"Added {name_of(exercise_id)}")
            continue
        doses = [
            f"{key.replace('_', ' ')} {_shown(old[exercise_id].get(key))} → {_shown(value)}"
            for key, value in item.items()
            if key != "exercise" and old[exercise_id].get(key) != value
        ]
        if doses:
            changes.append(f"{name_of(exercise_id)}: {', '.join(doses)}")
    changes.extend(f"Removed {name_of(e)}" for e in old if e not in new)
    return changes


# --- Rule thresholds drawn on the trend charts -------------------------------------------------


@dataclass(frozen=True)
class MeasureChart:
    measure: str
    title: str
    absolute: tuple[str, str, str] | None = None  # (rule id, setting, label pattern)
    relative: tuple[str, str] | None = None  # (rule id, ratio setting): baseline × (1 ± ratio)


# The measures the Patient page charts, with the rule whose threshold is drawn on each.
MEASURE_CHARTS = (
    MeasureChart("CMAS", "CMAS", absolute=("FD-2", "below", "FD-2: below {}")),
    MeasureChart("MMT8", "MMT8", absolute=("FD-4", "below_of_80", "FD-4: below {} of 80")),
    MeasureChart("CHAQ", "CHAQ"),
    MeasureChart("STS30", "30-second sit-to-stand", relative=("FD-6", "worse_ratio")),
    MeasureChart("TUG", "Timed up-and-go", relative=("FD-6", "worse_ratio")),
    MeasureChart("EGFR", "eGFR", absolute=("KID-1", "below", "KID-1: below {}")),
)


def setting_value(settings: list[RuleSetting], rule_id: str, name: str) -> Any:
    """The value in force of one rule setting for the patient (None when not configurable)."""
    for setting in settings:
        if setting.rule.id == rule_id:
            return setting.values.get(name)
    return None


def overridden_text(setting: RuleSetting) -> str:
    """What differs from the defaults, e.g. "below 12 (default 15), enabled off"."""
    parts = []
    for name in setting.overridden:
        if name == "urgency":
            parts.append(f"urgency {setting.urgency} (default {setting.rule.urgency})")
            continue
        value, default = setting.values.get(name), setting.defaults.get(name)
        if isinstance(value, bool):
            parts.append("switched off" if not value else "switched on")
        else:
            parts.append(f"{name.replace('_', ' ')} {_shown(value)} (default {_shown(default)})")
    return ", ".join(parts)


def symptom_words(report: SymptomReport) -> str:
    """The report's symptoms as the checklist words them (codes the server derived from the
    pain scores included, marked)."""
    ticked = [Symptom(code).label for code in report.codes if code in Symptom.values]
    derived = [
        f"{Symptom(code).label} (from the pain scores)"
        for code in report.derived_codes
        if code in Symptom.values
    ]
    words = [*ticked, *derived] + ([f"“{report.other}”"] if report.other else [])
    return "; ".join(str(word) for word in words) or "No symptom ticked"


def tier_label(report: SymptomReport) -> str:
    return str(SymptomTier(report.tier).label) if report.tier in SymptomTier.values else ""


def dose_text(item: Any) -> str:
    """A programme item's dose as a physiotherapist writes it: "2 × 10, 2 kg", "10 min"."""
    parts = []
    if item.sets:
        reps = f" × {item.reps}" if item.reps else ""
        hold = f" × {item.hold_seconds} s hold" if item.hold_seconds else ""
        parts.append(f"{item.sets}{reps}{hold}")
    if item.duration_minutes:
        parts.append(f"{item.duration_minutes} min")
    if item.load_value is not None:
        parts.append(f"{_plain(item.load_value)} {item.load_unit}")
    elif item.load_unit == "band" and item.band_colour:
        parts.append(f"{item.band_colour} band")
    return ", ".join(parts)
