"""Raising, acknowledging, resolving and escalating alerts. Rules produce Findings; this turns
them into alert rows (one per dedup key) and notifies the right care-team members."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from backend.accounts.models import CareTeamMembership, CareTeamRole, PatientProfile, User
from backend.alerts.models import URGENCY_RANK, Alert, AlertStatus, NotificationKind, Urgency
from backend.alerts.rules import RULES
from backend.alerts.services.notifications import Message, Outgoing, notifications_send_many
from backend.core.errors import DomainError


class Audience:
    TEAM = "team"  # every care-team member
    PHYSIO = "physio"
    PHYSIO_AND_NURSE = "physio_and_nurse"


AUDIENCE_ROLES: dict[str, set[str]] = {
    Audience.TEAM: set(CareTeamRole.values),
    Audience.PHYSIO: {CareTeamRole.PHYSIOTHERAPIST},
    Audience.PHYSIO_AND_NURSE: {CareTeamRole.PHYSIOTHERAPIST, CareTeamRole.NURSE},
}

# DOMAIN.md 7: who hears of an alert of each urgency. A rule may name a wider audience (A-3,
# the kidney rules), never a narrower one: an urgent alert reaches the nurse at once, not
# through escalation, whatever urgency a per-patient override gives it.
URGENCY_AUDIENCE: dict[str, str] = {
    Urgency.EMERGENCY: Audience.TEAM,
    Urgency.URGENT: Audience.PHYSIO_AND_NURSE,
    Urgency.ROUTINE: Audience.PHYSIO,
    Urgency.INFO: Audience.PHYSIO,
}
_NARROW_TO_WIDE = [Audience.PHYSIO, Audience.PHYSIO_AND_NURSE, Audience.TEAM]


@dataclass(frozen=True)
class Finding:
    patient_id: int
    rule_id: str
    urgency: str
    reason: str
    evidence: dict[str, Any]
    period_start: date
    period_end: date
    period_key: str  # what makes this firing distinct: a week, a session, an assessment…
    audience: str = Audience.PHYSIO

    @property
    def dedup_key(self) -> str:
        return f"{self.rule_id}:{self.patient_id}:{self.period_key}"

    @property
    def recipients(self) -> str:
        """The rule's audience, widened to what the urgency requires (DOMAIN.md 7)."""
        floor = URGENCY_AUDIENCE.get(self.urgency, Audience.PHYSIO)
        return max(self.audience, floor, key=_NARROW_TO_WIDE.index)


def _team(patient_ids: list[int]) -> dict[int, list[CareTeamMembership]]:
    team: dict[int, list[CareTeamMembership]] = defaultdict(list)
    for seat in CareTeamMembership.objects.filter(patient_id__in=patient_ids).select_related(
        "member"
    ):
        team[seat.patient_id].append(seat)
    return team


def alerts_raise(findings: list[Finding]) -> list[Alert]:
    """New alerts for findings not raised before, and their notifications, in the caller's
    transaction. A fixed number of queries whatever the number of findings."""
    if not findings:
        return []
    by_key = {finding.dedup_key: finding for finding in findings}
    existing = set(Alert.objects.filter(dedup_key__in=by_key).values_list("dedup_key", flat=True))
    fresh = [f for key, f in by_key.items() if key not in existing]
    if not fresh:
        return []
    Alert.objects.bulk_create(
        [
            Alert(
                patient_id=f.patient_id,
                rule_id=f.rule_id,
                rule_version=RULES[f.rule_id].version,
                urgency=f.urgency,
                urgency_rank=URGENCY_RANK[Urgency(f.urgency)],
                reason=f.reason[:300],
                evidence=f.evidence,
                period_start=f.period_start,
                period_end=f.period_end,
                dedup_key=f.dedup_key,
            )
            for f in fresh
        ],
        ignore_conflicts=True,  # a concurrent run may have raised the same key: one row
    )
    alerts = list(Alert.objects.filter(dedup_key__in=[f.dedup_key for f in fresh]))
    _notify(alerts, {f.dedup_key: f.recipients for f in fresh}, NotificationKind.ALERT)
    return alerts


# How many gathered reports' ids a coalesced alert keeps in its evidence (the newest).
COALESCED_IDS_KEPT = 20


def alerts_raise_coalesced(
    findings: list[Finding], *, ids_key: str, now: datetime | None = None
) -> list[Alert]:
    """Like alerts_raise, except that a finding whose rule already has an alert for the
    patient that is not resolved and last occurred within ALERT_COALESCE_MINUTES updates that
    alert instead: one more occurrence, the newest reason and evidence, and the ids under
    `ids_key` of the last COALESCED_IDS_KEPT findings it gathers; nobody is notified again.
    The first finding still reaches the team at once; a flood of repeats does not (an
    acknowledged alert still gathers repeats: the clinician is on it; escalation still runs
    from the first). Returns the alerts raised or updated.

    The patients' rows are locked first (FOR NO KEY UPDATE: it does not wait for the key-share
    locks of rows inserted for the patient), so of two concurrent reports with no open alert
    only one raises it and the other gathers into it. One finding per patient and rule."""
    if not findings:
        return []
    now = now or timezone.now()
    patient_ids = sorted({f.patient_id for f in findings})
    list(
        PatientProfile.objects.select_for_update(no_key=True)
        .filter(pk__in=patient_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    window = timedelta(minutes=settings.ALERT_COALESCE_MINUTES)
    gathering: dict[tuple[int, str], Alert] = {}
    for newer in (
        Alert.objects.filter(
            patient_id__in=patient_ids,
            rule_id__in={f.rule_id for f in findings},
            last_occurred_at__gte=now - window,
        )
        .exclude(status=AlertStatus.RESOLVED)
        .order_by("last_occurred_at", "id")
    ):
        gathering[(newer.patient_id, newer.rule_id)] = newer  # the newest one wins
    fresh: list[Finding] = []
    updated: list[Alert] = []
    for finding in findings:
        open_alert = gathering.get((finding.patient_id, finding.rule_id))
        if open_alert is None or _adds_a_symptom(open_alert, finding):
            fresh.append(finding)
        elif _gather(open_alert, finding, ids_key=ids_key, now=now):
            updated.append(open_alert)
    return [*updated, *alerts_raise(fresh)]


def _seen(evidence: dict[str, Any]) -> set[str]:
    return set(evidence.get("symptoms_seen") or evidence.get("symptoms") or [])


def _adds_a_symptom(alert: Alert, finding: Finding) -> bool:
    """A symptom not reported before in the window is news, not a repeat: chest pain
    acknowledged ten minutes ago does not make a seizure now a silent update."""
    return bool(_seen(finding.evidence) - _seen(alert.evidence))


def _gather(alert: Alert, finding: Finding, *, ids_key: str, now: datetime) -> bool:
    """One more occurrence on `alert`; False if it already holds this finding's ids."""
    held = list(alert.evidence.get(ids_key) or [])
    new = [each for each in finding.evidence[ids_key] if each not in held]
    if not new:
        return False
    alert.occurrences += len(new)  # under the patient's lock: no lost update
    alert.last_occurred_at = now
    alert.reason = finding.reason[:300]
    alert.evidence = {
        **finding.evidence,
        ids_key: [*held, *new][-COALESCED_IDS_KEPT:],
        "symptoms_seen": sorted(_seen(alert.evidence) | _seen(finding.evidence)),
    }
    alert.period_start = min(alert.period_start, finding.period_start)
    alert.period_end = max(alert.period_end, finding.period_end)
    alert.save(
        update_fields=[
            "occurrences",
            "last_occurred_at",
            "reason",
            "evidence",
            "period_start",
            "period_end",
        ]
    )
    return True


def _notify(alerts: list[Alert], audiences: dict[str, str], kind: str) -> None:
    team = _team(sorted({alert.patient_id for alert in alerts}))
    prefix = "Escalated: " if kind == NotificationKind.ALERT_ESCALATED else ""
    outgoing = []
    for alert in alerts:
        roles = AUDIENCE_ROLES[audiences.get(alert.dedup_key, Audience.PHYSIO)]
        message = Message(
            kind,
            f"{prefix}{alert.urgency.capitalize()} alert: {alert.rule_id}",
            alert.reason,
            "alert",
            alert.pk,
            f"{kind}:{alert.pk}",
        )
        outgoing += [
            Outgoing(seat.member, None, message, patient_id=alert.patient_id)
            for seat in team[alert.patient_id]
            if seat.role in roles
        ]
    notifications_send_many(outgoing)


def _locked(alert: Alert) -> Alert:
    return Alert.objects.select_for_update().get(pk=alert.pk)


@transaction.atomic
def alert_acknowledge(*, alert: Alert, by: User, at: datetime | None = None) -> Alert:
    alert = _locked(alert)
    if alert.acknowledged_at is not None:
        return alert  # twenty taps, one acknowledgement
    alert.acknowledged_at, alert.acknowledged_by = at or timezone.now(), by
    if alert.status == AlertStatus.OPEN:
        alert.status = AlertStatus.ACKNOWLEDGED
    alert.save(update_fields=["acknowledged_at", "acknowledged_by", "status"])
    return alert


@transaction.atomic
def alert_resolve(*, alert: Alert, by: User, note: str) -> Alert:
    if not note.strip():
        raise DomainError("Say how it was resolved.", errors={"note": ["A note is required."]})
    alert = _locked(alert)
    if alert.status == AlertStatus.RESOLVED:
        return alert
    now = timezone.now()
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = now, by
    alert.status, alert.resolved_at, alert.resolved_by = AlertStatus.RESOLVED, now, by
    alert.resolution_note = note.strip()
    alert.save()
    return alert


def escalation_delays() -> dict[str, timedelta]:
    return {
        Urgency.EMERGENCY: timedelta(minutes=settings.ALERT_ESCALATE_EMERGENCY_MINUTES),
        Urgency.URGENT: timedelta(minutes=settings.ALERT_ESCALATE_URGENT_MINUTES),
    }


@transaction.atomic
def alerts_escalate(*, now: datetime) -> int:
    """Re-sends unacknowledged emergency and urgent alerts to the whole care team, once."""
    overdue: list[Alert] = []
    for urgency, delay in escalation_delays().items():
        overdue += list(
            Alert.objects.select_for_update(skip_locked=True).filter(
                urgency=urgency,
                status=AlertStatus.OPEN,
                escalated_at__isnull=True,
                created_at__lte=now - delay,
            )[:1000]
        )
    if not overdue:
        return 0
    Alert.objects.filter(pk__in=[a.pk for a in overdue]).update(escalated_at=now)
    _notify(
        overdue,
        dict.fromkeys((a.dedup_key for a in overdue), Audience.TEAM),
        NotificationKind.ALERT_ESCALATED,
    )
    return len(overdue)
