"""The weekly adherence job (DOMAIN.md 4: A-1 to A-4 and S), per patient's local ISO week.

Patients are evaluated in bounded batches, each in its own transaction, with a fixed number
of queries per batch whatever it holds. Results are stored per patient and week."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Max

from backend.accounts.models import PatientProfile
from backend.alerts.models import NotificationKind, WeeklyAdherence
from backend.alerts.rules import overrides_for, params
from backend.alerts.services.alerting import Audience, Finding, alerts_raise
from backend.alerts.services.decline import decline_findings
from backend.alerts.services.isolation import isolate_failures, patient_isolated
from backend.alerts.services.notifications import Message, Outgoing, notifications_send_many
from backend.alerts.services.reminders import quiet_until
from backend.core import fanout
from backend.exercise.models import ProgrammeStatus
from backend.exercise.selectors import (
    SESSION_WEIGHT,
    last_session_before,
    local_week_start,
    programme_starts,
    programmes_in_force,
    session_completions,
    week_bounds,
)

logger = logging.getLogger(__name__)
BATCH_SIZE = 500
CATCH_UP_WEEKS = 8  # after an outage, ended weeks up to this many back are evaluated


@dataclass(frozen=True)
class BatchResult:
    evaluated: int
    alerts: int
    failed_patients: int = 0  # patients whose evaluation raised: logged, skipped this run


def _weeks(count: int) -> str:
    return f"{count} week" if count == 1 else f"{count} weeks"


def last_completed_week(now: datetime, zone: ZoneInfo) -> date:
    return local_week_start(now, zone) - timedelta(days=7)


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _sessions(count: Decimal | int) -> str:
    """1.5, 2 (never 2.0): how a person says it."""
    return f"{Decimal(count).normalize():f}"


def _may_advise(patient: PatientProfile, paused: bool) -> bool:
    """Advice is a message to the patient like a reminder (DOMAIN.md 7): only with their
    consent, to an active account, and never while a clinician has paused the programme."""
    return patient.notifications_consent and patient.user.is_active and not paused


def _advice(
    patient: PatientProfile, rule_id: str, week: date, title: str, body: str, now: datetime
) -> Outgoing:
    message = Message(
        NotificationKind.ADHERENCE_ADVICE,
        title,
        body,
        "week",
        patient.pk,
        f"{rule_id}:{patient.pk}:{week}",
    )
    # The job runs as the week ends, at night: the push waits for the end of quiet hours.
    return Outgoing(patient.user, patient, message, not_before=quiet_until(patient, now))


def _evaluate_batch(
    patients: list[PatientProfile], week_of: dict[int, date], now: datetime
) -> BatchResult:
    ids = [p.pk for p in patients]
    programmes = programmes_in_force(ids)
    overrides = overrides_for(ids)
    zones = {p.pk: ZoneInfo(p.timezone) for p in patients}
    bounds = {p.pk: week_bounds(week_of[p.pk], zones[p.pk]) for p in patients}
    earliest = min(start for start, _ in bounds.values()) - timedelta(days=28)
    latest = max(end for _, end in bounds.values())
    sessions = session_completions(ids, since=earliest, until=latest)
    # A-3 needs the last session however old, and when the programme was last (re)started:
    # a gap counts from whichever is later, so days spent paused are never "missed".
    last_before_window = last_session_before(ids, before=earliest)
    activations = programme_starts([p.pk for p in programmes.values()], before=latest)
    # The three weeks before: the previous one for consecutive weeks below, all three to know
    # whether the 28-day window was interrupted by a pause.
    earlier: dict[tuple[int, date], WeeklyAdherence] = {
        (row.patient_id, row.week_start): row
        for row in WeeklyAdherence.objects.filter(
            patient_id__in=ids,
            week_start__in={
                week - timedelta(days=7 * n) for week in week_of.values() for n in (1, 2, 3)
            },
        )
    }
    rows, findings, advice = [], [], []
    for patient in patients:
        pid = patient.pk
        week, (start, end) = week_of[pid], bounds[pid]
        programme = programmes.get(pid)
        version = programme.current_version if programme else None
        in_week = [c for at, c in sessions[pid] if start <= at < end]
        count = sum((SESSION_WEIGHT.get(c, Decimal(0)) for c in in_week), Decimal(0))
        row = WeeklyAdherence(patient=patient, week_start=week, sessions=count)
        rows.append(row)
        if programme is None or version is None:
            row.suppressed = "no_programme"
            continue
        row.target_min, row.target_max = (
            version.sessions_per_week_min,
            version.sessions_per_week_max,
        )
        patient_overrides = overrides.get(pid)
        row.above_maximum = count > row.target_max
        week_end = week + timedelta(days=6)
        paused = programme.status == ProgrammeStatus.PAUSED
        a4 = params("A-4", patient_overrides)
        if row.above_maximum and a4.enabled:  # S suppresses only: overtraining
            findings.append(  # during a flare's pause matters most
                Finding(
                    pid,
                    "A-4",
                    a4.urgency,
                    f"Week of {_day(week)}: {_sessions(count)} sessions, above the maximum "
                    f"of {row.target_max} (overtraining risk in myositis).",
                    {
                        "rule": {"id": "A-4", "version": a4.rule.version},
                        "week_start": week.isoformat(),
                        "timezone": patient.timezone,
                        "window_utc": [start.isoformat(), end.isoformat()],
                        "sessions": str(count),
                        "target_max": row.target_max,
                        "programme_status": programme.status,
                    },
                    week,
                    week_end,
                    f"week:{week}",
                )
            )
            if _may_advise(patient, paused):  # the physiotherapist is informed regardless
                advice.append(
                    _advice(
                        patient,
                        "A-4",
                        week,
                        "Rest matters too",
                        f"You did {_sessions(count)} sessions last week, more than the "
                        f"{row.target_max} planned. Rest days help muscles recover: keep to "
                        f"{row.target_min} to {row.target_max} sessions this week.",
                        now,
                    )
                )
        if paused:
            row.suppressed = "paused"  # S: are suppressed while paused
            continue
        if version.start_date > week:  # the programme began during this week
            row.suppressed = "started_mid_week"
            continue
        row.below_minimum = count < row.target_min
        before = earlier.get((pid, week - timedelta(days=7)))
        row.consecutive_below = (
            (before.consecutive_below if before and before.below_minimum else 0) + 1
            if row.below_minimum
            else 0
        )
        window_start = start - timedelta(days=21)
        last_28 = sum(
            (
                SESSION_WEIGHT.get(c, Decimal(0))
                for at, c in sessions[pid]
                if window_start <= at < end
            ),
            Decimal(0),
        )
        evidence = {
            "week_start": week.isoformat(),
            "timezone": patient.timezone,
            "window_utc": [start.isoformat(), end.isoformat()],
            "sessions": str(count),
            "target_min": row.target_min,
            "target_max": row.target_max,
            "consecutive_below": row.consecutive_below,
            "sessions_28_days": str(last_28),
        }
        a1 = params("A-1", patient_overrides)
        if row.below_minimum and a1.enabled and _may_advise(patient, paused):
            advice.append(
                _advice(
                    patient,
                    "A-1",
                    week,
                    "Your week",
                    f"You did {_sessions(count)} of the {row.target_min} sessions planned last "
                    f"week. A short session still counts: try to fit in {row.target_min} to "
                    f"{row.target_max} this week.",
                    now,
                )
            )
        a2 = params("A-2", patient_overrides)
        ratio = last_28 / (row.target_min * 4) if row.target_min else Decimal(1)
        interrupted = any(
            (past := earlier.get((pid, week - timedelta(days=7 * n)))) and past.suppressed
            for n in (1, 2, 3)
        )  # a pause inside the 28 days: the window does not measure adherence
        low_ratio = (
            ratio < Decimal(str(a2["min_ratio_28_days"]))
            and version.start_date <= week - timedelta(days=21)
            and not interrupted
        )
        if a2.enabled and (row.consecutive_below >= a2["consecutive_weeks"] or low_ratio):
            urgent = row.consecutive_below >= a2["urgent_after_weeks"]
            findings.append(
                Finding(
                    pid,
                    "A-2",
                    "urgent" if urgent else a2.urgency,
                    f"Week of {_day(week)}: {_sessions(count)} of at least {row.target_min} "
                    f"sessions, {_weeks(row.consecutive_below)} in a row below; "
                    f"{_sessions(last_28)} of {row.target_min * 4} over 28 days ({ratio:.0%}). "
                    f"Alert at {_weeks(a2['consecutive_weeks'])} below or under "
                    f"{Decimal(str(a2['min_ratio_28_days'])):.0%}.",
                    {
                        **evidence,
                        "rule": {"id": "A-2", "version": a2.rule.version},
                        "thresholds": a2.values,
                    },
                    week,
                    week_end,
                    f"week:{week}",
                )
            )
        a3 = params("A-3", patient_overrides)
        last_session = max(
            (at for at, _ in sessions[pid] if at < end), default=last_before_window.get(pid)
        )
        started = datetime.combine(version.start_date, time.min, tzinfo=zones[pid])
        restarts = [at for at in activations[programme.pk] if at < end]
        gap_start = max([started, *restarts, *([last_session] if last_session else [])])
        if a3.enabled and end - gap_start >= timedelta(days=a3["days_without_session"]):
            findings.append(
                Finding(
                    pid,
                    "A-3",
                    a3.urgency,
                    f"No session for {(end - gap_start).days} days, since "
                    f"{_day(gap_start.astimezone(zones[pid]).date())} (alert at "
                    f"{a3['days_without_session']} days): illness or flare?",
                    {
                        **evidence,
                        "rule": {"id": "A-3", "version": a3.rule.version},
                        "thresholds": a3.values,
                        "last_session_at": last_session.isoformat() if last_session else None,
                        "counted_from": gap_start.isoformat(),
                    },
                    gap_start.date(),
                    week_end,
                    f"since:{gap_start.isoformat()}",  # one alert per gap, however long
                    Audience.PHYSIO_AND_NURSE,
                )
            )
    WeeklyAdherence.objects.bulk_create(rows, ignore_conflicts=True)
    findings += decline_findings(
        patient_ids=ids, now=now, zones={p.pk: p.timezone for p in patients}
    )
    alerts = alerts_raise(findings)
    notifications_send_many(advice)
    return BatchResult(evaluated=len(rows), alerts=len(alerts))


def _weeks_due(
    batch: list[PatientProfile], now: datetime, week_start: date | None, failed: set[int]
) -> list[dict[int, date]]:
    """The weeks to evaluate for a batch, oldest first (so consecutive weeks chain). With an
    explicit week, that week; otherwise each patient's ended weeks since their last evaluated
    one, up to CATCH_UP_WEEKS, so a job that was down for a while misses none. A patient whose
    stored time zone is not one is left out (and in `failed`)."""
    zones = {}
    for patient in batch:
        with patient_isolated("adherence", patient.pk, failed):
            zones[patient.pk] = ZoneInfo(patient.timezone)
    ended = {pid: last_completed_week(now, zone) for pid, zone in zones.items()}
    if week_start is not None:
        # A week is evaluated only once it has ended in the patient's own time zone.
        return [{pid: week_start for pid, last in ended.items() if week_start <= last}]
    last_done = dict(
        WeeklyAdherence.objects.filter(patient_id__in=zones)
        .values("patient_id")
        .annotate(last=Max("week_start"))
        .values_list("patient_id", "last")
    )
    rounds = []
    for weeks_back in range(CATCH_UP_WEEKS - 1, -1, -1):
        week_of = {}
        for pid, last in ended.items():
            week = last - timedelta(weeks=weeks_back)
            previous = last_done.get(pid)
            if (previous is None and weeks_back == 0) or (previous and week > previous):
                week_of[pid] = week
        rounds.append(week_of)
    return rounds


def adherence_evaluate(
    *,
    now: datetime,
    week_start: date | None = None,
    patient_ids: list[int] | None = None,
    batch_size: int | None = None,
) -> BatchResult:
    """Evaluates `week_start` (a Monday) for the given or all patients, or, without it, each
    patient's ended local weeks not evaluated yet. Safe to repeat. A patient whose evaluation
    raises (a corrupt override) is logged and counted in `failed_patients`; the others are
    evaluated all the same, and that patient's week is tried again on the next run."""
    patients = PatientProfile.objects.select_related("user").order_by("pk")
    if patient_ids is not None:
        patients = patients.filter(pk__in=patient_ids)
    total = BatchResult(0, 0)
    failed: set[int] = set()
    size = batch_size or BATCH_SIZE
    for batch in fanout.keyset_batches(patients, size):  # bounded memory, no long cursor
        for week_of in _weeks_due(batch, now, week_start, failed):
            done = set(
                WeeklyAdherence.objects.filter(
                    patient_id__in=week_of, week_start__in=set(week_of.values())
                ).values_list("patient_id", "week_start")
            )
            todo = [p for p in batch if p.pk in week_of and (p.pk, week_of[p.pk]) not in done]
            if not todo:
                continue
            for result in isolate_failures(
                "adherence",
                todo,
                partial(_evaluate_batch, week_of=week_of, now=now),
                lambda patient: patient.pk,
                failed,
            ):
                total = BatchResult(
                    total.evaluated + result.evaluated, total.alerts + result.alerts
                )
    total = BatchResult(total.evaluated, total.alerts, len(failed))
    logger.info(
        "adherence: %d patient-weeks evaluated, %d alerts, %d patients failed",
        total.evaluated,
        total.alerts,
        total.failed_patients,
    )
    return total


# --- The same, spread over workers (backend/core/fanout.py) -----------------------------------
# The coordinator pages every patient; each chunk evaluates its patients' due weeks in one
# transaction. WeeklyAdherence is the checkpoint, per patient and week: a chunk repeated (a
# retry, a redelivery, the next tick) finds its weeks done and adds nothing; a chunk that
# failed leaves its patients' weeks due for the next hourly tick.

JOB = "adherence"
RUN_TIMEOUT = 50 * 60  # under the hourly tick; a chunk's hard limit is 10 minutes (tasks.py)


def adherence_fan_out(
    *,
    now: datetime,
    week_start: date | None,
    publish: Callable[[datetime, date | None, list[int], str], bool],
    page_size: int | None = None,
) -> fanout.FanOut:
    """Publishes a chunk (`publish(now, week_start, patient_ids, token)`) per page of
    patients, unless the previous run is still going."""
    run = fanout.run_begin(JOB, timeout=RUN_TIMEOUT)
    if run is None:
        return fanout.FanOut(started=False)
    chunks = 0

    def one(ids: list[int]) -> bool:
        nonlocal chunks
        chunks += 1
        return publish(now, week_start, ids, run.token)

    pages = fanout.keyset_pages(PatientProfile.objects.all(), page_size or BATCH_SIZE)
    fanout.fan_out(run, pages, one)
    return fanout.FanOut(started=True, chunks=chunks)


def adherence_chunk_run(
    *, now: datetime, week_start: date | None, patient_ids: list[int], token: str
) -> BatchResult:
    """Evaluates these patients' due weeks in one transaction; safe to repeat."""
    with transaction.atomic():
        result = adherence_evaluate(
            now=now, week_start=week_start, patient_ids=patient_ids, batch_size=len(patient_ids)
        )
    fanout.piece_done(JOB, token, ok=True)
    return result


def adherence_chunk_failed(*, token: str) -> None:
    fanout.piece_done(JOB, token, ok=False)
