"""Function decline (FD-1 to FD-8) and kidney (KID-1 to KID-3) rules of DOMAIN.md 2 and 6.

Evaluated for a batch of patients in a fixed number of queries: when a new assessment or
session log arrives (for that patient, after commit) and again in the weekly job. Each rule
fires on the newest value; the alert's period is that value, so re-running raises nothing."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from backend.alerts.models import Alert, DeclineCheck
from backend.alerts.rules import Params, overrides_for, params
from backend.alerts.services.alerting import Audience, Finding, alerts_raise
from backend.core.enqueue import enqueue_on_commit
from backend.exercise.measures import Measure, Setting
from backend.exercise.models import Assessment
from backend.exercise.selectors import SessionScore, assessments_in_order, session_scores

ASSESSED = [Measure.CMAS, Measure.MMT8, Measure.CHAQ, Measure.STS30, Measure.TUG, Measure.EGFR]
SESSION_WINDOW = timedelta(days=28)

Series = list[Assessment]
Rule = Callable[[int, Params, dict[tuple[str, str], Series]], Finding | None]


def _num(value: Decimal | float | int) -> str:
    return f"{Decimal(value).normalize():f}"


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


def _drop_rule(measure: str, rule: Params, series: Series, *, ratio: bool) -> Finding | None:
    """FD-1 / FD-3: the newest value dropped from the previous one or the recent best."""
    if len(series) < 2:
        return None
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
        if fired:
            size = f"{drop / reference.value:.0%}" if ratio else f"{_num(drop)} points"
            return _finding(
                rule,
                latest,
                f"{measure} fell {size} below the {label} value "
                f"({_num(reference.value)} → {_num(latest.value)}).",
                {
                    "previous": _point(previous),
                    "best_180_days": _point(best),
                    "compared_with": label,
                },
            )
    return None


def fd1(patient_id: int, rule: Params, series: dict[tuple[str, str], Series]) -> Finding | None:
    return _drop_rule("CMAS", rule, series.get((Measure.CMAS, Setting.CLINIC), []), ratio=False)


def fd2(patient_id: int, rule: Params, series: dict[tuple[str, str], Series]) -> Finding | None:
    values = series.get((Measure.CMAS, Setting.CLINIC), [])
    if values and values[-1].value < rule["below"]:
        latest = values[-1]
        return _finding(
            rule,
            latest,
            f"CMAS {_num(latest.value)} is below {rule['below']} "
            "(severe disability, SHARE high-risk).",
            {},
            Audience.PHYSIO_AND_NURSE,  # urgent (DOMAIN.md 7), whatever the override says
        )
    return None


def fd3(patient_id: int, rule: Params, series: dict[tuple[str, str], Series]) -> Finding | None:
    return _drop_rule("MMT8", rule, series.get((Measure.MMT8, Setting.CLINIC), []), ratio=True)


def fd4(patient_id: int, rule: Params, series: dict[tuple[str, str], Series]) -> Finding | None:
    values = series.get((Measure.MMT8, Setting.CLINIC), [])
    if not values:
        return None
    latest = values[-1]
    maximum = latest.max_score or 80
    threshold = Decimal(str(rule["below_of_80"])) * maximum / 80
    if latest.value < threshold:
        return _finding(
            rule,
            latest,
            f"MMT8 {_num(latest.value)}/{maximum} is below {_num(threshold)} (SHARE high-risk).",
            {"max_score": maximum},
            Audience.PHYSIO_AND_NURSE,  # urgent (DOMAIN.md 7), whatever the override says
        )
    return None


def fd5(patient_id: int, rule: Params, series: dict[tuple[str, str], Series]) -> Finding | None:
    # Home and clinic entries are compared only with their own kind (DOMAIN.md 1).
    for setting in (Setting.HOME, Setting.CLINIC):
        found = _chaq_rise(rule, series.get((Measure.CHAQ, setting), []))
        if found:
            return found
    return None


def _chaq_rise(rule: Params, values: Series) -> Finding | None:
    if len(values) < 2:
        return None
    latest, previous = values[-1], values[-2]
    rise = latest.value - previous.value
    if rise >= Decimal(str(rule["single_rise"])):
        return _finding(
            rule,
            latest,
            f"CHAQ rose {_num(rise)} in one entry ({_num(previous.value)} → {_num(latest.value)}).",
            {"previous": _point(previous)},
        )
    step = Decimal(str(rule["consecutive_rise"]))
    if len(values) >= 3 and rise >= step and previous.value - values[-3].value >= step:
        return _finding(
            rule,
            latest,
            "CHAQ worsened on two consecutive entries "
            f"({_num(values[-3].value)} → {_num(previous.value)} → "
            f"{_num(latest.value)}).",
            {"earlier": [_point(values[-3]), _point(previous)]},
        )
    return None


def fd6(patient_id: int, rule: Params, series: dict[tuple[str, str], Series]) -> Finding | None:
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
        if all((a.value <= limit) if higher_is_better else (a.value >= limit) for a in last_two):
            return _finding(
                rule,
                last_two[1],
                f"Home {measure} worse than the personal baseline ({_num(baseline)}) by "
                f"{worse:.0%} or more on two tests in a row "
                f"({_num(last_two[0].value)}, {_num(last_two[1].value)}).",
                {
                    "measure": measure,
                    "baseline": _num(baseline),
                    "baseline_tests": [_point(a) for a in values[:count]],
                    "tests": [_point(a) for a in last_two],
                },
            )
    return None


def fd_kidney(rule_id: str) -> Rule:
    def rule_fn(
        patient_id: int, rule: Params, series: dict[tuple[str, str], Series]
    ) -> Finding | None:
        values = sorted(
            series.get((Measure.EGFR, Setting.CLINIC), [])
            + series.get((Measure.EGFR, Setting.HOME), []),
            key=lambda a: (a.measured_at, a.pk),
        )
        if not values:
            return None
        latest = values[-1]
        if rule_id == "KID-1" and latest.value < rule["below"]:
            return _finding(
                rule,
                latest,
                f"eGFR {_num(latest.value)} is below {rule['below']} mL/min/1.73m².",
                {},
                Audience.TEAM,
            )
        if rule_id == "KID-2" and len(values) >= 2 and values[-2].value > 0:
            previous = values[-2]
            fall = (previous.value - latest.value) / previous.value
            if fall >= Decimal(str(rule["drop_ratio"])):
                return _finding(
                    rule,
                    latest,
                    f"eGFR fell {fall:.0%} from the last value "
                    f"({_num(previous.value)} → {_num(latest.value)}).",
                    {"previous": _point(previous)},
                    Audience.TEAM,
                )
        return None

    return rule_fn


ASSESSMENT_RULES: dict[str, Rule] = {
    "FD-1": fd1,
    "FD-2": fd2,
    "FD-3": fd3,
    "FD-4": fd4,
    "FD-5": fd5,
    "FD-6": fd6,
    "KID-1": fd_kidney("KID-1"),
    "KID-2": fd_kidney("KID-2"),
}


def _session_rule(
    rule: Params, sessions: list[SessionScore], field: str, label: str, *, with_ratio: bool
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
    return Finding(
        patient_id=latest.patient_id,
        rule_id=rule.rule.id,
        urgency=rule.urgency,
        reason=f"{label} {getattr(first, field)} then {getattr(latest, field)} after sessions, "
        f"well above the 14-day median of {_num(median)}.",
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


def decline_findings(*, patient_ids: list[int], now: datetime) -> list[Finding]:
    """Every FD and KID-1/2 finding for a batch of patients: three queries in all."""
    overrides = overrides_for(patient_ids)
    series: dict[int, dict[tuple[str, str], Series]] = defaultdict(lambda: defaultdict(list))
    for assessment in assessments_in_order(patient_ids, measures=ASSESSED, until=now):
        series[assessment.patient_id][(assessment.measure, assessment.setting)].append(assessment)
    sessions = session_scores(patient_ids, since=now - SESSION_WINDOW, until=now)
    findings = []
    for patient_id in patient_ids:
        patient_overrides = overrides.get(patient_id)
        for rule_id, rule_fn in ASSESSMENT_RULES.items():
            rule = params(rule_id, patient_overrides)
            if rule.enabled and (found := rule_fn(patient_id, rule, series[patient_id])):
                findings.append(found)
        for rule_id, field, label, with_ratio in (
            ("FD-7", "pain_after", "Pain", True),
            ("FD-8", "fatigue", "Fatigue", False),
        ):
            rule = params(rule_id, patient_overrides)
            if rule.enabled and (
                found := _session_rule(
                    rule, sessions[patient_id], field, label, with_ratio=with_ratio
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


def decline_checks_run(*, patient_ids: list[int], now: datetime) -> list[Alert]:
    """Evaluates, then clears the requests made up to `now` (a newer one stays for later)."""
    with transaction.atomic():
        alerts = decline_evaluate(patient_ids=patient_ids, now=now)
        DeclineCheck.objects.filter(patient_id__in=patient_ids, requested_at__lte=now).delete()
    return alerts


def decline_checks_sweep(*, now: datetime, batch_size: int = 500) -> int:
    waiting = list(
        DeclineCheck.objects.filter(requested_at__lt=now - STALE_CHECK)
        .order_by("requested_at")
        .values_list("patient_id", flat=True)[:5000]
    )
    for start in range(0, len(waiting), batch_size):
        decline_checks_run(patient_ids=waiting[start : start + batch_size], now=now)
    return len(waiting)


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
        since = last.measured_at.date() if last else None
        findings.append(
            Finding(
                patient_id=patient_id,
                rule_id="KID-3",
                urgency=rule.urgency,
                reason=(
                    f"eGFR overdue: last result {since}, checked every {interval.days} days."
                    if since
                    else "No eGFR result on record."
                ),
                evidence={
                    "rule": {"id": "KID-3", "version": 1},
                    "thresholds": rule.values,
                    "last": _point(last) if last else None,
                },
                period_start=since or now.date(),
                period_end=now.date(),
                period_key=f"after:{last.pk if last else 'none'}",
                audience=Audience.TEAM,  # DOMAIN.md 6: alert the team
            )
        )
    return findings
