"""The rule catalogue (`catalogue.RULES`) and the parameters in force for a patient.

Every threshold is a default a clinician may change per patient (RuleOverride, through
backend.alerts.services.rule_settings); rules that are not safety-critical may be switched off
(`enabled: false`). Alerts record the rule version and the parameters in force when they
fired."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.alerts.models import RuleOverride
from backend.alerts.rules.catalogue import RULES, RULES_IN_ORDER
from backend.alerts.rules.schema import (
    ENABLED,
    URGENCY,
    Audience,
    Kind,
    Param,
    ParamType,
    Rule,
    Status,
)

__all__ = [
    "ENABLED",
    "RULES",
    "RULES_IN_ORDER",
    "URGENCY",
    "Audience",
    "Kind",
    "Param",
    "ParamType",
    "Params",
    "Rule",
    "Status",
    "overrides_for",
    "params",
]


@dataclass(frozen=True)
class Params:
    rule: Rule
    values: dict[str, Any]

    @property
    def enabled(self) -> bool:
        """A rule that may not be switched off (safety-critical ones above all) stays on,
        whatever a stored override says."""
        if not self.rule.may_disable:
            return True
        return self.values.get(ENABLED, True) is not False

    @property
    def urgency(self) -> str:
        wanted = self.values.get(URGENCY, self.rule.urgency)
        return str(wanted) if self.rule.urgency_allowed(wanted) else self.rule.urgency

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
