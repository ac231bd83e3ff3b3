from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404

from backend.accounts.models import CLINICIAN_ROLES, PatientProfile, User
from backend.accounts.selectors import patients_visible_to
from backend.alerts.models import Alert, AlertStatus, Notification, RuleOverride, WeeklyAdherence
from backend.alerts.rules import ENABLED, RULES_IN_ORDER, URGENCY, Rule, params
from backend.core.errors import require_role


def notifications_of(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)


def alerts_visible_to(viewer: User) -> QuerySet[Alert]:
    """Only the patient's care team sees alerts; patients and caregivers see none of the
    clinical alerts about them."""
    if not viewer.is_clinician:
        return Alert.objects.none()
    return Alert.objects.filter(patient__in=patients_visible_to(viewer)).select_related(
        "acknowledged_by", "resolved_by"
    )


def open_alert_counts(patient_ids: list[int]) -> dict[int, int]:
    rows = (
        Alert.objects.filter(patient_id__in=patient_ids)
        .exclude(status=AlertStatus.RESOLVED)
        .values("patient_id")
        .annotate(open=Count("id"))
    )
    return {row["patient_id"]: row["open"] for row in rows}


def weekly_adherence_of(patient: PatientProfile, *, weeks: int = 12) -> QuerySet[WeeklyAdherence]:
    return WeeklyAdherence.objects.filter(patient=patient).order_by("-week_start")[:weeks]


def patient_for_rule_settings(*, viewer: User, patient_id: int) -> PatientProfile:
    """The patient whose rule settings a care-team clinician reads or changes: 404 when the
    viewer may not see the patient (outsiders, org admins), 403 for the patient side."""
    patient = get_object_or_404(patients_visible_to(viewer).select_related("user"), pk=patient_id)
    require_role(viewer, CLINICIAN_ROLES, "Only the care team's clinicians see rule settings.")
    return patient


def alerts_about(patient: PatientProfile) -> QuerySet[Alert]:
    """Every alert about the patient, for their own copy of their record (GET /me/export/):
    the app does not show them clinical alerts, but the right of access covers them."""
    return (
        Alert.objects.filter(patient=patient)
        .select_related("acknowledged_by", "resolved_by")
        .order_by("created_at", "id")
    )


def adherence_history_of(patient: PatientProfile) -> QuerySet[WeeklyAdherence]:
    return WeeklyAdherence.objects.filter(patient=patient).order_by("week_start")


@dataclass(frozen=True)
class RuleSetting:
    """One configurable rule as it stands for a patient: the values in force, the catalogue's
    defaults and which settings differ from them."""

    rule: Rule
    values: dict[str, Any]  # parameters in force, with `enabled` for rules that may be off
    defaults: dict[str, Any]
    overridden: list[str]  # settings whose value in force is not the default
    enabled: bool
    urgency: str
    set_by: User | None
    updated_at: datetime | None


def rule_settings_of(*, patient: PatientProfile) -> list[RuleSetting]:
    """Every catalogue rule a clinician may configure, in catalogue order: one query."""
    rows = {
        row.rule_id: row
        for row in RuleOverride.objects.filter(patient=patient).select_related("set_by")
    }
    settings = []
    for rule in RULES_IN_ORDER:
        if not rule.configurable:
            continue
        row = rows.get(rule.id)
        stored = row.parameters if row is not None and isinstance(row.parameters, dict) else {}
        in_force = params(rule.id, {rule.id: stored})
        defaults = dict(rule.defaults)
        values = {name: in_force.values.get(name) for name in rule.defaults}
        if rule.may_disable:
            defaults[ENABLED], values[ENABLED] = True, in_force.enabled
        overridden = [name for name in values if values[name] != defaults[name]]
        if in_force.urgency != rule.urgency:
            overridden.append(URGENCY)
        settings.append(
            RuleSetting(
                rule=rule,
                values=values,
                defaults=defaults,
                overridden=overridden,
                enabled=in_force.enabled,
                urgency=in_force.urgency,
                set_by=row.set_by if row is not None else None,
                updated_at=row.updated_at if row is not None else None,
            )
        )
    return settings


def rule_settings_changed_of(*, patient: PatientProfile) -> list[RuleSetting]:
    """The rules whose settings differ from the defaults for the patient (their summary)."""
    return [setting for setting in rule_settings_of(patient=patient) if setting.overridden]
