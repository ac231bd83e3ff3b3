"""Storing symptom reports and raising their alerts (shared/DOMAIN.md 5 and 7).

A report is stored whatever else its request got wrong, and never twice: a standalone report
is idempotent by its client_id; reports that come with a session log are keyed by the log's
client_id, so a retried upload (valid or not) stores and alerts only symptoms not reported
with that log before."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.accounts.models import PatientProfile, User
from backend.alerts.models import Alert
from backend.alerts.rules import RULES
from backend.alerts.services.symptoms import pain_thresholds_of, symptom_alerts_raise
from backend.exercise.codes import SAFETY_MESSAGES, Symptom, SymptomTier, highest_tier
from backend.exercise.models import SessionLog
from backend.symptoms.models import ReportSource, SymptomReport


def _lowest_allowed(name: str) -> float:
    (param,) = [p for p in RULES["SYM-2"].parameters if p.name == name]
    assert param.minimum is not None  # noqa: S101  # the catalogue bounds both thresholds
    return param.minimum


# The lowest thresholds SYM-2's settings allow (backend.alerts.rules): below both, pain
# scores cannot be a symptom for any patient, and no setting need be read.
PAIN_AFTER_FLOOR = _lowest_allowed("pain_after_at_least")
PAIN_RISE_FLOOR = _lowest_allowed("pain_rise_at_least")


@dataclass(frozen=True)
class Reported:
    """What one request reported: the symptoms (ticked and derived from pain scores)."""

    codes: list[str] = field(default_factory=list)
    pain_before: int | None = None
    pain_after: int | None = None
    other: str = ""
    note: str = ""

    @property
    def anything(self) -> bool:
        return bool(self.codes or self.other.strip() or self.pain_after is not None)


@dataclass(frozen=True)
class ReportOutcome:
    report: SymptomReport | None  # stored now, or the earlier one that already holds them
    created: bool
    tier: SymptomTier | None
    alerts: list[Alert] = field(default_factory=list)

    @property
    def safety_message(self) -> str | None:
        return SAFETY_MESSAGES[self.tier] if self.tier is not None else None


def pain_codes(
    *, patient: PatientProfile, pain_before: int | None, pain_after: int | None
) -> tuple[list[str], dict[str, int] | None]:
    """Pain after >= 7/10, or >= 4 above pain before, is the tier-2 muscle-pain symptom
    whether or not its box was ticked (DOMAIN.md 7; both thresholds per patient). Returns
    the code if it fires, and the thresholds when they were read (for the alert's reason)."""
    if pain_after is None:
        return [], None
    rise = pain_after - pain_before if pain_before is not None else None
    if pain_after < PAIN_AFTER_FLOOR and (rise is None or rise < PAIN_RISE_FLOOR):
        return [], None  # fires under no setting a clinician may choose: no query
    thresholds = pain_thresholds_of(patient.pk)
    high = pain_after >= thresholds["pain_after_at_least"]
    risen = rise is not None and rise >= thresholds["pain_rise_at_least"]
    return ([Symptom.SEVERE_MUSCLE_PAIN] if high or risen else []), thresholds


def report_tier(codes: list[str], other: str) -> SymptomTier | None:
    tier = highest_tier(codes)
    if tier is None and other.strip():
        return SymptomTier.ROUTINE  # an undescribed symptom still reaches the team
    return tier


def _already_reported(
    patient: PatientProfile, log_client_id: UUID, session: SessionLog | None, source: str
) -> tuple[set[str], set[str], SymptomReport | None]:
    """What was reported with this log before: codes, "other" texts, the newest report. A
    stored log's own ticks count as reported when it is revisited (logs stored before symptom
    reports existed have no report of them), not in the request that stores it."""
    rows = SymptomReport.objects.filter(patient=patient, log_client_id=log_client_id)
    revisited = session is not None and source != ReportSource.SESSION
    known: set[str] = set(session.symptoms) if revisited and session is not None else set()
    latest: SymptomReport | None = None
    others: set[str] = set()
    unlinked = []
    for report in rows.order_by("id"):
        known.update(report.all_codes)
        if report.other:
            others.add(report.other)
        if report.session_id is None:
            unlinked.append(report.pk)
        latest = report
    if session is not None and unlinked:
        # Reported with an earlier, refused upload of this log, which is now stored.
        SymptomReport.objects.filter(pk__in=unlinked).update(session=session)
        _mark_reported(session)
    return known, others, latest


def _mark_reported(session: SessionLog) -> None:
    if not session.symptoms_reported:
        SessionLog.objects.filter(pk=session.pk).update(symptoms_reported=True)
        session.symptoms_reported = True


# All or nothing, but no savepoint of its own: every caller is inside the request's or the
# session log's transaction and lets an error end it, so a savepoint would only add two round
# trips to every upload that reports a symptom (the save below keeps its own, for the race).
@transaction.atomic(savepoint=False)
def symptom_report_record(
    *,
    by: User,
    patient: PatientProfile,
    reported: Reported,
    source: str,
    session: SessionLog | None = None,
    log_client_id: UUID | None = None,
    client_id: UUID | None = None,
    reported_at: datetime | None = None,
) -> ReportOutcome:
    """Stores what is new in `reported` and raises its alerts in the caller's transaction
    (a tier 1 or 2 symptom also pauses the active programme and closes open proposals)."""

    from_pain, thresholds = pain_codes(
        patient=patient, pain_before=reported.pain_before, pain_after=reported.pain_after
    )
    derived = [code for code in from_pain if code not in reported.codes]
    tier = report_tier([*reported.codes, *derived], reported.other)
    if tier is None:
        return ReportOutcome(None, created=False, tier=None)  # nothing to report: no query
    if client_id is not None:
        stored = SymptomReport.objects.filter(patient=patient, client_id=client_id).first()
        if stored is not None:
            return ReportOutcome(stored, created=False, tier=_tier_of(stored))
    codes, other = list(reported.codes), reported.other.strip()
    latest: SymptomReport | None = None
    if log_client_id is not None:
        known, others, latest = _already_reported(patient, log_client_id, session, source)
        codes = [code for code in codes if code not in known]
        derived = [code for code in derived if code not in known]
        other = "" if other in others else other
    if not (codes or derived or other):
        return ReportOutcome(latest, created=False, tier=tier)
    report = SymptomReport(
        patient=patient,
        client_id=client_id,
        session=session,
        log_client_id=log_client_id,
        source=source,
        reported_at=min(reported_at or timezone.now(), timezone.now()),
        codes=codes,  # type: ignore[misc]  # CodeListField holds lists (stubs: str)
        derived_codes=derived,
        pain_before=reported.pain_before,
        pain_after=reported.pain_after,
        other=other[:300],
        note=reported.note[:2000],
        tier=report_tier([*codes, *derived], other),
        reported_by=by,
    )
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:  # the same client_id raced in: the winner holds it
        stored = SymptomReport.objects.get(patient=patient, client_id=client_id)
        return ReportOutcome(stored, created=False, tier=_tier_of(stored))
    if session is not None:
        _mark_reported(session)
    alerts = symptom_alerts_raise(report=report, session=session, pain_thresholds=thresholds)
    return ReportOutcome(report, created=True, tier=tier, alerts=alerts)


def _tier_of(report: SymptomReport) -> SymptomTier | None:
    return report_tier(report.all_codes, report.other)


def reported_from(data: dict[str, Any]) -> Reported:
    return Reported(
        codes=list(data.get("symptoms") or []),
        pain_before=data.get("pain_before"),
        pain_after=data.get("pain_after"),
        other=str(data.get("other") or ""),
        note=str(data.get("note") or ""),
    )
