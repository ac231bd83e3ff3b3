"""Function decline (FD-1 to FD-8) and kidney (KID-1 to KID-3) rules of DOMAIN.md 2 and 6.

Evaluated for a batch of patients in a fixed number of queries: when a new assessment or
session log arrives (for that patient, after commit) and again in the weekly job. Each rule
fires on the newest value; the alert's period is that value, so re-running raises nothing."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from backend.accounts.models import PatientProfile
from backend.alerts.models import Alert, DeclineCheck, RuleOverride
from backend.alerts.rules import Params, overrides_for, params
from backend.alerts.services.alerting import Audience, Finding, alerts_raise
from backend.alerts.services.isolation import isolate_failures
from backend.core import fanout
from backend.core.enqueue import enqueue_on_commit
from backend.exercise.measures import Measure, Setting
from backend.exercise.models import Assessment
from backend.exercise.selectors import SessionScore, assessments_in_order, session_scores

ASSESSED = [Measure.CMAS, Measure.MMT8, Measure.CHAQ, Measure.STS30, Measure.TUG, Measure.EGFR]
SESSION_WINDOW = timedelta(days=28)
EGFR_UNIT = "mL/min/1.73 m²"
# How a value reads in a reason: "40 points", "11 stands", "10.8 s", "55 mL/min/1.73 m²".
UNITS: dict[str, str] = {
    Measure.CMAS: " points",
    Measure.CHAQ: "",  # a 0–3 index without a unit
    Measure.STS30: " stands",
    Measure.TUG: " s",
    Measure.EGFR: f" {EGFR_UNIT}",
}

Series = list[Assessment]
Rule = Callable[[Params, dict[tuple[str, str], Series], ZoneInfo], list[Finding]]


def _num(value: Decimal | float | int) -> str:
    return f"{Decimal(value).normalize():f}"


def _shown(value: Decimal | float | int) -> str:
    """A value as a clinician reads it: at most two decimals (a median of 9.25 and 9.5 is
    9.38, not 9.375), no trailing zeros."""
    return _num(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _chaq(value: Decimal | float | int) -> str:
    """CHAQ is scored in steps of 0.125: its values and rises are shown exactly (0.625)."""
    return _num(Decimal(str(value)))


def _percent(ratio: Decimal | float) -> str:
    return f"{Decimal(str(ratio)):.0%}"


def _day(moment: datetime, zone: ZoneInfo) -> str:
    """The local date in the patient's own time zone: "19 Nov 2026"."""
    local = moment.astimezone(zone)
    return f"{local.day} {local:%b %Y}"


def _point(assessment: Assessment) -> dict[str, Any]:
    return {
        "assessment_id": assessment.pk,
        "value": _num(assessment.value),
        "measured_at": assessment.measured_at.isoformat(),
        "setting": assessment.setting,
    }


def _finding(
    rule: Params,
    latest: Assessment,
    reason: str,
    evidence: dict[str, Any],
    audience: str = Audience.PHYSIO,
) -> Finding:
    day = latest.measured_at.date()
    return Finding(
        patient_id=latest.patient_id,
        rule_id=rule.rule.id,
        urgency=rule.urgency,
        reason=reason,
        evidence={
            "rule": {"id": rule.rule.id, "version": rule.rule.version},
            "thresholds": rule.values,
            "latest": _point(latest),
            **evidence,
        },
        period_start=day,
        period_end=day,
        period_key=f"assessment:{latest.pk}",
        audience=audience,
    )


def _drop_rule(
    measure: str, rule: Params, series: Series, zone: ZoneInfo, *, ratio: bool
) -> list[Finding]:
    """FD-1 / FD-3: the newest value dropped from the previous one or the recent best."""
    if len(series) < 2:
        return []
    latest, previous = series[-1], series[-2]
    since = latest.measured_at - timedelta(days=rule["best_window_days"])
    window = [a for a in series[:-1] if a.max_score == latest.max_score and a.measured_at >= since]
    best = max(window, key=lambda a: a.value) if window else previous
    # The previous value counts however old it is; the best only within the window.
    for label, reference in (("previous", previous), ("best", best)):
        if reference.max_score != latest.max_score or reference.value <= 0:
            continue
        drop = reference.value - latest.value
        fired = (
            (drop / reference.value >= Decimal(str(rule["drop_ratio"])))
            if ratio
            else (drop >= Decimal(str(rule["drop_points"])))
        )
        if not fired:
            continue
        if ratio:  # MMT8, out of its stored maximum
            first, last = f"{_shown(reference.value)}/", f"{_shown(latest.value)}/"
            first, last = first + str(latest.max_score or 80), last + str(latest.max_score or 80)
            size, limit = _percent(drop / reference.value), _percent(rule["drop_ratio"])
        else:  # CMAS, in points
            first, last = _shown(reference.value), f"{_shown(latest.value)} points"
            size, limit = f"{_shown(drop)} points", f"{_shown(rule['drop_points'])} points"
        return [
            _finding(
                rule,
                latest,
                f"{measure} fell {size} below the {label} value: {first} → {last} "
                f"({_day(reference.measured_at, zone)} → {_day(latest.measured_at, zone)}); "
                f"alert at a drop of {limit}.",
                {
                    "previous": _point(previous),
                    "best_180_days": _point(best),
                    "compared_with": label,
                },
            )
        ]
    return []


def fd1(rule: Params, series: dict[tuple[str, str], Series], zone: ZoneInfo) -> list[Finding]:
    cmas = series.get((Measure.CMAS, Setting.CLINIC), [])
    return _drop_rule("CMAS", rule, cmas, zone, ratio=False)


def fd2(rule: Params, series: dict[tuple[str, str], Series], zone: ZoneInfo) -> list[Finding]:
    values = series.get((Measure.CMAS, Setting.CLINIC), [])
    if not values or values[-1].value >= rule["below"]:
        return []
    latest = values[-1]
    return [
        _finding(
            rule,
            latest,
            f"CMAS {_shown(latest.value)} points on {_day(latest.measured_at, zone)}, below "
            f"{_shown(rule['below'])} points (severe disability, SHARE high-risk).",
            {},
            Audience.PHYSIO_AND_NURSE,  # urgent (DOMAIN.md 7), whatever the override says
        )
    ]


def fd3(rule: Params, series: dict[tuple[str, str], Series], zone: ZoneInfo) -> list[Finding]:
    mmt8 = series.get((Measure.MMT8, Setting.CLINIC), [])
    return _drop_rule("MMT8", rule, mmt8, zone, ratio=True)


def fd4(rule: Params, series: dict[tuple[str, str], Series], zone: ZoneInfo) -> list[Finding]:
    values = series.get((Measure.MMT8, Setting.CLINIC), [])
    if not values:
        return []
    latest = values[-1]
    maximum = latest.max_score or 80
    below_of_80 = Decimal(str(rule["below_of_80"]))
    if latest.value >= below_of_80 * maximum / 80:
        return []
    # On the bilateral scale the limit is a proportion of 150 (56.25): shown as proportions.
    scaled = (
        ""
        if maximum == 80
        else f" ({_percent(latest.value / maximum)} of the maximum, against "
        f"{_percent(below_of_80 / 80)})"
    )
    return [
        _finding(
            rule,
            latest,
            f"MMT8 {_shown(latest.value)}/{maximum} on {_day(latest.measured_at, zone)}, below "
            f"the SHARE high-risk limit of {_shown(below_of_80)}/80{scaled}.",
            {"max_score": maximum},
            Audience.PHYSIO_AND_NURSE,  # urgent (DOMAIN.md 7), whatever the override says
        )
    ]


def fd5(rule: Params, series: dict[tuple[str, str], Series], zone: ZoneInfo) -> list[Finding]:
    # Home and clinic entries are compared only with their own kind (DOMAIN.md 1); each
    # setting that worsened is reported (its own newest entry: its own dedup key).
    return [
        found
        for setting in (Setting.HOME, Setting.CLINIC)
        if (found := _chaq_rise(rule, series.get((Measure.CHAQ, setting), []), setting, zone))
    ]


def _chaq_rise(rule: Params, values: Series, setting: str, zone: ZoneInfo) -> Finding | None:
    """One finding for the newest entry, naming every condition it meets: a single rise of
    `single_rise`, and a rise of `consecutive_rise` on each of the last two entries."""
    if len(values) < 2:
        return None
    latest, previous = values[-1], values[-2]
    rise = latest.value - previous.value
    single = rise >= Decimal(str(rule["single_rise"]))
    step = Decimal(str(rule["consecutive_rise"]))
    consecutive = len(values) >= 3 and rise >= step and previous.value - values[-3].value >= step
    if not (single or consecutive):
        return None
    entries = values[-3:] if consecutive else values[-2:]
    path = " → ".join(_chaq(a.value) for a in entries)
    days = " → ".join(_day(a.measured_at, zone) for a in entries)
    how = " and ".join(
        [f"{_chaq(rise)} in one entry"] * single + ["on two consecutive entries"] * consecutive
    )
    limits = " or ".join(
        [f"a rise of {_chaq(rule['single_rise'])} in one entry"] * single
        + [f"{_chaq(rule['consecutive_rise'])} twice in a row"] * consecutive
    )
    evidence: dict[str, Any] = {
        "setting": setting,
        "conditions": ["single_rise"] * single + ["consecutive_rise"] * consecutive,
        "previous": _point(previous),
    }
    if consecutive:
        evidence["earlier"] = [_point(values[-3]), _point(previous)]
    return _finding(
        rule,
        latest,
        f"{setting.capitalize()} CHAQ (0–3) rose {how} ({path}; {days}); alert at {limits}.",
        evidence,
    )


def fd6(rule: Params, series: dict[tuple[str, str], Series], zone: ZoneInfo) -> list[Finding]:
    """Each home measure (STS30, TUG) worse than its own baseline on its last two tests is
    reported: one finding per measure, keyed by its own newest test."""
    findings = []
    for measure, higher_is_better in ((Measure.STS30, True), (Measure.TUG, False)):
        values = series.get((measure, Setting.HOME), [])
        count = rule["baseline_tests"]
        if len(values) < count + 2:
            continue
        baseline = statistics.median(a.value for a in values[:count])
        last_two = values[-2:]
        if last_two[1].measured_at - last_two[0].measured_at < timedelta(
            hours=rule["min_hours_apart"]
        ):
            continue
        worse = Decimal(str(rule["worse_ratio"]))
        limit = baseline * (1 - worse) if higher_is_better else baseline * (1 + worse)
        if not all(
            (a.value <= limit) if higher_is_better else (a.value >= limit) for a in last_two
        ):
            continue
        unit = UNITS[measure]
        tests = " then ".join(
            f"{_shown(a.value)}{unit} on {_day(a.measured_at, zone)}" for a in last_two
        )
        findings.append(
            _finding(
                rule,
                last_two[1],
                f"Home {measure} {tests}: both {_percent(worse)} or more "
                f"{'below' if higher_is_better else 'above'} the personal baseline of "
                f"{_shown(baseline)}{unit}.",
                {
                    "measure": measure,
                    "baseline": _num(baseline),
                    "baseline_tests": [_point(a) for a in values[:count]],
                    "tests": [_point(a) for a in last_two],
                },
            )
        )
    return findings


def kid1(rule: Params, series: dict[tuple[str, str], Series], zone: ZoneInfo) -> list[Finding]:
    """The newest eGFR of any setting below the limit: a value, not a comparison."""
    values = sorted(
        series.get((Measure.EGFR, Setting.CLINIC), [])
        + series.get((Measure.EGFR, Setting.HOME), []),
        key=lambda a: (a.measured_at, a.pk),
    )
    if not values or values[-1].value >= rule["below"]:
        return []
    latest = values[-1]
    return [
        _finding(
            rule,
            latest,
            f"eGFR {_shown(latest.value)} {EGFR_UNIT} on {_day(latest.measured_at, zone)}, "
            f"below {_shown(rule['below'])} {EGFR_UNIT}.",
            {},
            Audience.TEAM,  # DOMAIN.md 6: alert the team
        )
    ]


def kid2(rule: Params, series: dict[tuple[str, str], Series], zone: ZoneInfo) -> list[Finding]:
    """A fall from the last value of the same setting: a home result is never compared with
    a clinic one (DOMAIN.md 1)."""
    findings = []
    for setting in (Setting.CLINIC, Setting.HOME):
        values = series.get((Measure.EGFR, setting), [])
        if len(values) < 2 or values[-2].value <= 0:
            continue
        latest, previous = values[-1], values[-2]
        fall = (previous.value - latest.value) / previous.value
        if fall < Decimal(str(rule["drop_ratio"])):
            continue
        findings.append(
            _finding(
                rule,
                latest,
                f"{setting.capitalize()} eGFR fell {_percent(fall)}: {_shown(previous.value)} → "
                f"{_shown(latest.value)} {EGFR_UNIT} ({_day(previous.measured_at, zone)} → "
                f"{_day(latest.measured_at, zone)}); alert at a fall of "
                f"{_percent(rule['drop_ratio'])}.",
                {"previous": _point(previous), "setting": setting},
                Audience.TEAM,  # DOMAIN.md 6: alert the team
            )
        )
    return findings


ASSESSMENT_RULES: dict[str, Rule] = {
    "FD-1": fd1,
    "FD-2": fd2,
    "FD-3": fd3,
    "FD-4": fd4,
    "FD-5": fd5,
    "FD-6": fd6,
    "KID-1": kid1,
    "KID-2": kid2,
}


def _session_rule(
    rule: Params,
    sessions: list[SessionScore],
    field: str,
    label: str,
    zone: ZoneInfo,
    *,
    with_ratio: bool,
) -> Finding | None:
    """FD-7 / FD-8: the two newest entries both well above the median of the 14 days before."""
    entries = [s for s in sessions if getattr(s, field) is not None]
    if len(entries) < 3:
        return None
    first, latest = entries[-2], entries[-1]
    since = first.started_at - timedelta(days=rule["window_days"])
    window = [getattr(s, field) for s in entries[:-2] if s.started_at >= since]
    if len(window) < 1:
        return None
    median = Decimal(str(statistics.median(window)))
    points = Decimal(str(rule["points"]))

    def high(value: int) -> bool:
        above = Decimal(value) - median >= points
        return above and (
            not with_ratio or Decimal(value) >= median * (1 + Decimal(str(rule["ratio"])))
        )

    if not (high(getattr(first, field)) and high(getattr(latest, field))):
        return None
    day = latest.started_at.date()
    limit = f"+{_shown(points)} points" + (f" and +{_percent(rule['ratio'])}" if with_ratio else "")
    entries_read = " then ".join(
        f"{getattr(s, field)}/10 on {_day(s.started_at, zone)}" for s in (first, latest)
    )
    return Finding(
        patient_id=latest.patient_id,
        rule_id=rule.rule.id,
        urgency=rule.urgency,
        reason=f"{label} after sessions {entries_read}, above the {rule['window_days']}-day "
        f"median of {_shown(median)}/10 (alert at {limit}).",
        evidence={
            "rule": {"id": rule.rule.id, "version": rule.rule.version},
            "thresholds": rule.values,
            "median_14_days": _num(median),
            "window_values": window,
            "entries": [
                {
                    "session_id": s.pk,
                    "started_at": s.started_at.isoformat(),
                    field: getattr(s, field),
                }
                for s in (first, latest)
            ],
        },
        period_start=first.started_at.date(),
        period_end=day,
        period_key=f"session:{latest.pk}",
    )


def _zones(patient_ids: list[int]) -> dict[int, str]:
    return dict(PatientProfile.objects.filter(pk__in=patient_ids).values_list("pk", "timezone"))


def decline_findings(
    *, patient_ids: list[int], now: datetime, zones: Mapping[int, str] | None = None
) -> list[Finding]:
    """Every FD and KID-1/2 finding for a batch of patients: three queries in all, and one
    more for the patients' time zones (reasons give local dates) unless the caller has them."""
    zone_names = _zones(patient_ids) if zones is None else zones
    overrides = overrides_for(patient_ids)
    series: dict[int, dict[tuple[str, str], Series]] = defaultdict(lambda: defaultdict(list))
    for assessment in assessments_in_order(patient_ids, measures=ASSESSED, until=now):
        series[assessment.patient_id][(assessment.measure, assessment.setting)].append(assessment)
    sessions = session_scores(patient_ids, since=now - SESSION_WINDOW, until=now)
    findings = []
    for patient_id in patient_ids:
        zone = ZoneInfo(zone_names.get(patient_id) or "UTC")
        patient_overrides = overrides.get(patient_id)
        for rule_id, rule_fn in ASSESSMENT_RULES.items():
            rule = params(rule_id, patient_overrides)
            if rule.enabled:
                findings += rule_fn(rule, series[patient_id], zone)
        for rule_id, field, label, with_ratio in (
            ("FD-7", "pain_after", "Pain", True),
            ("FD-8", "fatigue", "Fatigue", False),
        ):
            rule = params(rule_id, patient_overrides)
            if rule.enabled and (
                found := _session_rule(
                    rule, sessions[patient_id], field, label, zone, with_ratio=with_ratio
                )
            ):
                findings.append(found)
    return findings


def decline_evaluate(*, patient_ids: list[int], now: datetime) -> list[Alert]:
    return alerts_raise(decline_findings(patient_ids=patient_ids, now=now))


STALE_CHECK = timedelta(minutes=2)


def decline_check_request(*, patient_id: int) -> None:
    """Records, in the caller's transaction, that the patient's decline rules must run, and
    asks a worker to run them after commit. If the broker is down the row waits for the
    sweeper: the check is delayed, never lost."""
    from backend.alerts.tasks import evaluate_decline

    DeclineCheck.objects.bulk_create(
        [DeclineCheck(patient_id=patient_id, requested_at=timezone.now())],
        update_conflicts=True,
        unique_fields=["patient"],
        update_fields=["requested_at"],
    )
    enqueue_on_commit(evaluate_decline, patient_id)


@dataclass(frozen=True)
class DeclineRun:
    alerts: list[Alert]
    failed_patients: list[int]  # evaluation raised: logged, their check kept for a retry


def _checks_run(patient_ids: list[int], now: datetime) -> list[Alert]:
    alerts = decline_evaluate(patient_ids=patient_ids, now=now)
    DeclineCheck.objects.filter(patient_id__in=patient_ids, requested_at__lte=now).delete()
    return alerts


def decline_checks_run(*, patient_ids: list[int], now: datetime) -> DeclineRun:
    """Evaluates, then clears the requests made up to `now` (a newer one stays for later),
    in one transaction for the batch. A patient whose evaluation raises is logged and keeps
    their request; the rest of the batch is evaluated all the same."""
    failed: set[int] = set()
    runs = isolate_failures(
        "decline", patient_ids, partial(_checks_run, now=now), lambda pid: pid, failed
    )
    return DeclineRun([alert for alerts in runs for alert in alerts], sorted(failed))


@dataclass(frozen=True)
class SweepResult:
    checked: int
    failed_patients: int


def decline_checks_sweep(*, now: datetime, batch_size: int = 500) -> SweepResult:
    waiting = list(
        DeclineCheck.objects.filter(requested_at__lt=now - STALE_CHECK)
        .order_by("requested_at")
        .values_list("patient_id", flat=True)[:5000]
    )
    failed = 0
    for start in range(0, len(waiting), batch_size):
        run = decline_checks_run(patient_ids=waiting[start : start + batch_size], now=now)
        failed += len(run.failed_patients)
    return SweepResult(checked=len(waiting), failed_patients=failed)


KIDNEY_PAGE = 500  # patients with a KID-3 interval per page of the daily job


def kidney_overdue_run(*, now: datetime, page_size: int = KIDNEY_PAGE) -> int:
    """The daily KID-3 job: every patient with a monitoring interval, a bounded page at a
    time (one override per patient and rule, so each patient once); the alerts it raised."""
    overrides = RuleOverride.objects.filter(rule_id="KID-3").only("pk", "patient_id")
    raised = 0
    for page in fanout.keyset_batches(overrides, page_size):
        findings = kidney_overdue_findings(patient_ids=[o.patient_id for o in page], now=now)
        raised += len(alerts_raise(findings))
    return raised


def kidney_overdue_findings(*, patient_ids: list[int], now: datetime) -> list[Finding]:
    """KID-3: an eGFR result overdue against the interval a clinician set for the patient."""
    overrides = overrides_for(patient_ids)
    due = {
        pid: params("KID-3", o)
        for pid, o in overrides.items()
        if (o.get("KID-3") or {}).get("interval_days")
    }
    if not due:
        return []
    zones = {pid: ZoneInfo(name) for pid, name in _zones(list(due)).items()}
    latest: dict[int, Assessment] = {}
    for assessment in assessments_in_order(list(due), measures=[Measure.EGFR]):
        latest[assessment.patient_id] = assessment
    findings = []
    for patient_id, rule in due.items():
        if not rule.enabled:
            continue
        last = latest.get(patient_id)
        interval = timedelta(days=int(rule["interval_days"]))
        if last is not None and now - last.measured_at <= interval:
            continue
        zone = zones.get(patient_id, ZoneInfo("UTC"))
        since = last.measured_at.astimezone(zone).date() if last else None
        findings.append(
            Finding(
                patient_id=patient_id,
                rule_id="KID-3",
                urgency=rule.urgency,
                reason=(
                    f"eGFR overdue: last result on {_day(last.measured_at, zone)}, "
                    f"{(now - last.measured_at).days} days ago; due every {interval.days} days."
                    if last
                    else f"No eGFR result on record; due every {interval.days} days."
                ),
                evidence={
                    "rule": {"id": "KID-3", "version": rule.rule.version},
                    "thresholds": rule.values,
                    "last": _point(last) if last else None,
                },
                period_start=since or now.astimezone(zone).date(),
                period_end=now.astimezone(zone).date(),
                period_key=f"after:{last.pk if last else 'none'}",
                audience=Audience.TEAM,  # DOMAIN.md 6: alert the team
            )
        )
    return findings
