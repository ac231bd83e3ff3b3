"""Alerts → DetectedIssue (the finding, its evidence and what was done) and Flag (a banner
for the record, active until the alert is resolved)."""

from __future__ import annotations

from typing import Any

from backend.alerts.models import Alert, AlertStatus, Urgency
from backend.fhir import codes
from backend.fhir.mapping.common import instant, patient_reference, reference

SEVERITY: dict[str, str] = {
    Urgency.EMERGENCY: "high",
    Urgency.URGENT: "high",
    Urgency.ROUTINE: "moderate",
    Urgency.INFO: "low",
}
# The keys under which the rules name the rows that fired them (backend.alerts.services).
EVIDENCE_KEYS: dict[str, str] = {"session_id": "session", "assessment_id": "assessment"}


def evidence_observations(evidence: Any) -> list[str]:
    """The Observation ids the alert's evidence names, in order, each once: the rules write
    `session_id` and `assessment_id` at any depth (entries, latest, previous, earlier)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                kind = EVIDENCE_KEYS.get(key)
                if kind and isinstance(value, int) and not isinstance(value, bool):
                    if f"{kind}-{value}" not in found:
                        found.append(f"{kind}-{value}")
                else:
                    walk(value)
        elif isinstance(node, list):
            for each in node:
                walk(each)

    walk(evidence)
    return found


def _rule_code(alert: Alert) -> dict[str, Any]:
    return {
        "coding": [codes.coding(codes.ALERT_RULES, alert.rule_id)],
        "text": f"Rule {alert.rule_id} (version {alert.rule_version})",
    }


def detected_issue_to_fhir(alert: Alert) -> dict[str, Any]:
    """One alert (acknowledged_by and resolved_by loaded)."""
    resource: dict[str, Any] = {
        "resourceType": "DetectedIssue",
        "id": str(alert.pk),
        "status": "preliminary" if alert.status == AlertStatus.OPEN else "final",
        "code": _rule_code(alert),
        "severity": SEVERITY[alert.urgency],
        "patient": patient_reference(alert.patient_id),
        "identifiedDateTime": instant(alert.created_at),
        "detail": alert.reason,
    }
    observations = evidence_observations(alert.evidence)
    if observations:
        resource["evidence"] = [
            {"detail": [reference("Observation", each) for each in observations]}
        ]
    mitigation = []
    if alert.acknowledged_at is not None:
        mitigation.append(_mitigation("acknowledged", alert.acknowledged_at, alert.acknowledged_by))
    if alert.resolved_at is not None:
        mitigation.append(_mitigation("resolved", alert.resolved_at, alert.resolved_by))
        if alert.resolution_note:
            mitigation[-1]["action"]["text"] = f"Resolved: {alert.resolution_note}"
    if mitigation:
        resource["mitigation"] = mitigation
    return resource


def _mitigation(action: str, at: Any, by: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "action": codes.concept(codes.ALERT_ACTIONS, action, action.capitalize()),
        "date": instant(at),
    }
    if by is not None:
        found["author"] = reference("Practitioner", by.pk, by.display_name)
    return found


def flag_to_fhir(alert: Alert) -> dict[str, Any]:
    """Active while the alert is open or acknowledged; inactive once resolved."""
    period: dict[str, Any] = {"start": instant(alert.created_at)}
    if alert.resolved_at is not None:
        period["end"] = instant(alert.resolved_at)
    return {
        "resourceType": "Flag",
        "id": str(alert.pk),
        "status": "inactive" if alert.status == AlertStatus.RESOLVED else "active",
        "category": [codes.concept(codes.FLAG_CATEGORY, "clinical", "Clinical")],
        "code": {"coding": _rule_code(alert)["coding"], "text": alert.reason},
        "subject": patient_reference(alert.patient_id),
        "period": period,
    }
