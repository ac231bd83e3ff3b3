"""Red flags (DOMAIN.md 5 and 7): raised in the request that reports them, never by a nightly
job, from the symptom report that stores them."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.utils import timezone

from backend.alerts.models import Alert
from backend.alerts.rules import RULES, overrides_for, params
from backend.alerts.services.alerting import Audience, Finding, alerts_raise_coalesced
from backend.exercise.codes import SYMPTOM_TIERS, Symptom, SymptomTier

if TYPE_CHECKING:
    from backend.exercise.models import SessionLog
    from backend.symptoms.models import SymptomReport

TIER_RULES = {
    SymptomTier.EMERGENCY: ("SYM-1", Audience.TEAM),
    SymptomTier.SAME_DAY: ("SYM-2", Audience.PHYSIO_AND_NURSE),
    SymptomTier.ROUTINE: ("SYM-3", Audience.PHYSIO),
}
PAUSING_RULES = frozenset({"SYM-1", "SYM-2"})
REPORT_IDS = "symptom_report_ids"


def _label(code: str) -> str:
    return str(Symptom(code).label).lower()


def _pain_reason(report: SymptomReport, thresholds: dict[str, int]) -> str:
    before, after = report.pain_before, report.pain_after
    parts = []
    if after is not None and after >= thresholds["pain_after_at_least"]:
        parts.append(
            f"pain {after}/10 after exercise (threshold {thresholds['pain_after_at_least']}/10)"
        )
    if (
        before is not None
        and after is not None
        and after - before >= thresholds["pain_rise_at_least"]
    ):
        parts.append(
            f"pain rose from {before}/10 to {after}/10 "
            f"(+{after - before}, threshold +{thresholds['pain_rise_at_least']})"
        )
    return "; ".join(parts)


def symptom_findings(
    report: SymptomReport,
    session: SessionLog | None = None,
    pain_thresholds: dict[str, int] | None = None,
) -> list[Finding]:
    zone = ZoneInfo(report.patient.timezone)
    when = timezone.localtime(session.started_at if session else report.reported_at, zone)
    day = when.date()
    context = (
        f"with a session on {day:%a %d %b %Y}"
        if session is not None
        else f"on {when:%a %d %b %Y %H:%M} ({report.patient.timezone})"
    )
    by_tier: dict[SymptomTier, list[str]] = {}
    for code in report.all_codes:
        by_tier.setdefault(SYMPTOM_TIERS[code], []).append(code)
    if report.other and not by_tier:
        by_tier[SymptomTier.ROUTINE] = []
    thresholds = pain_thresholds or {}
    if report.derived_codes and not thresholds:  # the caller did not read them already
        thresholds = pain_thresholds_of(report.patient_id)
    findings = []
    for tier, codes in sorted(by_tier.items()):
        rule_id, audience = TIER_RULES[tier]
        said = [_label(code) for code in codes if code not in report.derived_codes]
        derived = [code for code in codes if code in report.derived_codes]
        if derived:
            said.append(_pain_reason(report, thresholds))
        if tier == SymptomTier.ROUTINE and report.other:
            said.append(f"other: “{report.other[:80]}”")
        findings.append(
            Finding(
                patient_id=report.patient_id,
                rule_id=rule_id,
                urgency=params(rule_id).urgency,  # safety tiers are not overridable
                reason=f"Reported {context}: {'; '.join(said)}.",
                evidence={
                    "rule": {"id": rule_id, "version": RULES[rule_id].version, "tier": int(tier)},
                    "symptom_report_id": report.pk,
                    # Every report this alert gathers (coalesced repeats), the newest last.
                    REPORT_IDS: [report.pk],
                    "symptoms": codes,
                    "derived_from_pain": (
                        {
                            "thresholds": thresholds,
                            "pain_before": report.pain_before,
                            "pain_after": report.pain_after,
                        }
                        if derived
                        else None
                    ),
                    "other": report.other,
                    "session_id": session.pk if session is not None else None,
                    "log_client_id": str(report.log_client_id) if report.log_client_id else None,
                    "reported_at": report.reported_at.isoformat(),
                    "started_at": session.started_at.isoformat() if session else None,
                    "pain_before": report.pain_before,
                    "pain_after": report.pain_after,
                    "fatigue": session.fatigue if session is not None else None,
                    "note": report.note[:500],
                },
                period_start=day,
                period_end=day,
                period_key=f"report:{report.pk}",
                audience=audience,
            )
        )
    return findings


def pain_thresholds_of(patient_id: int) -> dict[str, int]:
    """The patient's SYM-2 pain thresholds (DOMAIN.md 7), overrides applied."""
    sym2 = params("SYM-2", overrides_for([patient_id]).get(patient_id))
    return {key: int(sym2[key]) for key in ("pain_after_at_least", "pain_rise_at_least")}


def symptom_alerts_raise(
    *,
    report: SymptomReport,
    session: SessionLog | None = None,
    pain_thresholds: dict[str, int] | None = None,
) -> list[Alert]:
    """Alerts for a stored report, in its transaction (the rows exist when the response is
    sent); a tier 1-2 alert pauses the patient's active programme and closes its open
    progression proposals. A tier reported again within ALERT_COALESCE_MINUTES of its last
    report, while its alert is not resolved, is gathered into that alert (one more
    occurrence, no new push): a phone looping uploads cannot flood the care team. The pause
    applies again all the same (a clinician may have resumed the programme meanwhile)."""
    from backend.exercise.services.programmes import programme_pause_for_red_flag_of
    from backend.exercise.services.progression import proposals_close_for_red_flag

    findings = symptom_findings(report, session, pain_thresholds)
    alerts = alerts_raise_coalesced(findings, ids_key=REPORT_IDS)
    if any(alert.rule_id in PAUSING_RULES for alert in alerts):
        programme_pause_for_red_flag_of(
            patient_id=report.patient_id,
            note="Paused after a red-flag symptom; a clinician must review before resuming.",
        )
        proposals_close_for_red_flag(patient_id=report.patient_id)
    return alerts
