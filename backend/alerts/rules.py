"""Rule ids, versions and default thresholds of shared/DOMAIN.md sections 2, 4, 5 and 6.

Every threshold is a default: a clinician may override any of them per patient
(RuleOverride), including `enabled: false` and the `urgency`. Alerts record the rule version
and the parameters in force when they fired."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backend.alerts.models import RuleOverride, Urgency


@dataclass(frozen=True)
class Rule:
    id: str
    version: int
    urgency: str
    defaults: dict[str, Any] = field(default_factory=dict)


RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in [
        # Adherence (DOMAIN.md 4)
        Rule("A-1", 1, Urgency.INFO),
        Rule(
            "A-2",
            1,
            Urgency.ROUTINE,
            {"consecutive_weeks": 2, "urgent_after_weeks": 4, "min_ratio_28_days": 0.8},
        ),
        Rule("A-3", 1, Urgency.ROUTINE, {"days_without_session": 14}),
        Rule("A-4", 1, Urgency.INFO),
        # Function decline (DOMAIN.md 2)
        Rule("FD-1", 1, Urgency.ROUTINE, {"drop_points": 3, "best_window_days": 180}),
        Rule("FD-2", 1, Urgency.URGENT, {"below": 15}),
        Rule("FD-3", 1, Urgency.ROUTINE, {"drop_ratio": 0.2, "best_window_days": 180}),
        Rule("FD-4", 1, Urgency.URGENT, {"below_of_80": 30}),
        Rule("FD-5", 1, Urgency.ROUTINE, {"single_rise": 0.75, "consecutive_rise": 0.125}),
        Rule(
            "FD-6",
            1,
            Urgency.ROUTINE,
            {"worse_ratio": 0.2, "baseline_tests": 3, "min_hours_apart": 48},
        ),
        Rule("FD-7", 1, Urgency.ROUTINE, {"points": 2, "ratio": 0.3, "window_days": 14}),
        Rule("FD-8", 1, Urgency.ROUTINE, {"points": 2, "window_days": 14}),
        # Symptoms (DOMAIN.md 5)
        Rule("SYM-1", 1, Urgency.EMERGENCY),
        # Pain scores count as a tier-2 symptom by themselves (DOMAIN.md 7).
        Rule("SYM-2", 1, Urgency.URGENT, {"pain_after_at_least": 7, "pain_rise_at_least": 4}),
        Rule("SYM-3", 1, Urgency.ROUTINE),
        # Kidney and sun (DOMAIN.md 6)
        Rule("KID-1", 1, Urgency.URGENT, {"below": 60}),
        Rule("KID-2", 1, Urgency.URGENT, {"drop_ratio": 0.25}),
        Rule("KID-3", 1, Urgency.ROUTINE, {"interval_days": None}),
        # Morning reminder on training days marked outdoor, or in months a clinician enables.
        Rule("SUN-1", 1, Urgency.INFO, {"months": [], "outdoor_weekdays": [], "time": "08:00"}),
    ]
}


@dataclass(frozen=True)
class Params:
    rule: Rule
    values: dict[str, Any]

    @property
    def enabled(self) -> bool:
        return bool(self.values.get("enabled", True))

    @property
    def urgency(self) -> str:
        return str(self.values.get("urgency", self.rule.urgency))

    def __getitem__(self, name: str) -> Any:
        return self.values[name]


def overrides_for(patient_ids: list[int]) -> dict[int, dict[str, dict[str, Any]]]:
    """All overrides of a batch of patients in one query."""
    found: dict[int, dict[str, dict[str, Any]]] = {}
    for row in RuleOverride.objects.filter(patient_id__in=patient_ids).values(
        "patient_id", "rule_id", "parameters"
    ):
        found.setdefault(row["patient_id"], {})[row["rule_id"]] = row["parameters"]
    return found


def params(rule_id: str, overrides: dict[str, dict[str, Any]] | None = None) -> Params:
    rule = RULES[rule_id]
    return Params(rule, {**rule.defaults, **((overrides or {}).get(rule_id) or {})})
