"""A clinician's per-patient rule settings (DOMAIN.md: every threshold is a default clinicians
may change per patient), stored as RuleOverride rows: only what differs from the catalogue's
defaults is kept, so "overridden" always means "not the default"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from backend.accounts.models import PatientProfile, User
from backend.alerts.models import RuleOverride
from backend.alerts.rules import ENABLED, RULES, Rule
from backend.core.errors import DomainError
from backend.exercise.services.common import ANY_CLINICIAN, require_care_team

# The settings the API manages; anything else in a stored override (an `urgency` set in the
# admin) is kept as it is.
Changes = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class RuleSettingsChanged:
    """What a call changed, per rule and setting: {rule_id: {setting: {"old", "new"}}} of the
    values in force before and after (empty when nothing changed)."""

    changes: dict[str, dict[str, dict[str, Any]]]


def _managed(rule: Rule) -> list[str]:
    return rule.setting_names()


def _effective(rule: Rule, stored: dict[str, Any]) -> dict[str, Any]:
    values = {**rule.defaults, **{k: v for k, v in stored.items() if k in rule.defaults}}
    if rule.may_disable:
        values[ENABLED] = stored.get(ENABLED, True) is not False
    return values


def rule_settings_errors(changes: Any) -> dict[str, list[str]]:
    """Every problem of the requested settings, keyed `rules.<rule id>[.<setting>]`."""
    if not isinstance(changes, dict):
        return {"rules": ["Must be an object of rule ids to settings."]}
    errors: dict[str, list[str]] = {}
    for rule_id, values in changes.items():
        rule = RULES.get(rule_id)
        if rule is None:
            errors[f"rules.{rule_id}"] = ["Unknown rule."]
        elif not rule.configurable and not rule.safety_critical:
            errors[f"rules.{rule_id}"] = [f"{rule_id} has no settings to change."]
        else:
            for key, messages in rule.setting_errors(values).items():
                errors[f"rules.{rule_id}.{key}" if key else f"rules.{rule_id}"] = messages
    return errors


def _refusal(errors: dict[str, list[str]]) -> DomainError:
    safety = sorted(
        key.split(".")[1]
        for key in errors
        if key.endswith(f".{ENABLED}") and RULES[key.split(".")[1]].safety_critical
    )
    if safety and len(safety) == len(errors):
        return DomainError(
            f"{', '.join(safety)} cannot be switched off: safety-critical rules (DOMAIN.md 7) "
            "may only have their thresholds tuned.",
            code="safety_critical_rule",
            errors=errors,
        )
    return DomainError("Some rule settings are not valid; nothing was saved.", errors=errors)


@transaction.atomic
def rule_settings_update(
    *, patient: PatientProfile, by: User, changes: Changes
) -> RuleSettingsChanged:
    """Sets, for each rule named, exactly the settings given (a setting left out, or given its
    default, goes back to the default; `{}` restores all of the rule's defaults); rules not
    named are left alone. All or nothing: one invalid value and nothing is saved. Safe to
    repeat: the same request a second time changes nothing."""
    require_care_team(by, patient, ANY_CLINICIAN, "change rule settings")
    if errors := rule_settings_errors(changes):
        raise _refusal(errors)
    # One writer at a time per patient: the old values read here are the ones replaced.
    PatientProfile.objects.select_for_update().filter(pk=patient.pk).first()
    stored = {
        row.rule_id: row
        for row in RuleOverride.objects.select_for_update().filter(
            patient=patient, rule_id__in=list(changes)
        )
    }
    changed: dict[str, dict[str, dict[str, Any]]] = {}
    for rule_id, values in changes.items():
        rule = RULES[rule_id]
        row = stored.get(rule_id)
        old_stored = dict(row.parameters) if row is not None else {}
        kept = {k: v for k, v in old_stored.items() if k not in _managed(rule)}
        new_stored = {
            **kept,
            **{
                key: value
                for key, value in values.items()
                if value != (True if key == ENABLED else rule.defaults[key])
            },
        }
        before, after = _effective(rule, old_stored), _effective(rule, new_stored)
        diff = {
            key: {"old": before.get(key), "new": after.get(key)}
            for key in _managed(rule)
            if before.get(key) != after.get(key)
        }
        if new_stored == old_stored:
            continue
        if diff:
            changed[rule_id] = diff
        if not new_stored:
            if row is not None:
                row.delete()
            continue
        if row is None:
            row = RuleOverride(patient=patient, rule_id=rule_id)
        row.parameters, row.set_by = new_stored, by
        row.full_clean()
        row.save()
    return RuleSettingsChanged(changes=changed)
