"""Red flags (DOMAIN.md 5): raised in the request that reports them, never by a nightly job."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.utils import timezone

from backend.alerts.models import Alert
from backend.alerts.rules import params
from backend.alerts.services.alerting import Audience, Finding, alerts_raise
from backend.exercise.codes import SYMPTOM_TIERS, Symptom, SymptomTier
from backend.exercise.models import SessionLog

TIER_RULES = {
    SymptomTier.EMERGENCY: ("SYM-1", Audience.TEAM),
    SymptomTier.SAME_DAY: ("SYM-2", Audience.PHYSIO_AND_NURSE),
    SymptomTier.ROUTINE: ("SYM-3", Audience.PHYSIO),
}
PAUSING_RULES = frozenset({"SYM-1", "SYM-2"})


def symptom_findings(session: SessionLog) -> list[Finding]:
    by_tier: dict[SymptomTier, list[str]] = {}
    for code in session.symptoms:
        by_tier.setdefault(SYMPTOM_TIERS[code], []).append(code)
    day = timezone.localtime(session.started_at, ZoneInfo(session.patient.timezone)).date()
    findings = []
    for tier, codes in sorted(by_tier.items()):
        rule_id, audience = TIER_RULES[tier]
        labels = ", ".join(str(Symptom(code).label).lower() for code in codes)
        findings.append(
            Finding(
                patient_id=session.patient_id,
                rule_id=rule_id,
                urgency=params(rule_id).urgency,  # safety tiers are not overridable
                reason=f"Reported with a session on {day}: {labels}.",
                evidence={
                    "rule": {"id": rule_id, "version": 1, "tier": int(tier)},
                    "symptoms": codes,
                    "session_id": session.pk,
                    "started_at": session.started_at.isoformat(),
                    "pain_before": session.pain_before,
                    "pain_after": session.pain_after,
                    "fatigue": session.fatigue,
                    "note": session.note[:500],
                },
                period_start=day,
                period_end=day,
                period_key=f"session:{session.pk}",
                audience=audience,
            )
        )
    return findings


def symptom_alerts_raise(*, session: SessionLog) -> list[Alert]:
    """Alerts for the reported symptoms, in the log's transaction (the rows exist when the
    response is sent), and a pause of the programme for tiers 1 and 2."""
    from backend.exercise.services.programmes import programme_pause_for_red_flag

    findings = symptom_findings(session)
    alerts = alerts_raise(findings)
    # Only a newly raised tier 1-2 alert pauses: editing the note of a log whose red flag a
    # clinician has already reviewed must not pause the programme they resumed.
    if any(alert.rule_id in PAUSING_RULES for alert in alerts):
        programme_pause_for_red_flag(
            programme=session.programme,
            note="Paused after a red-flag symptom; a clinician must review before resuming.",
        )
    return alerts
