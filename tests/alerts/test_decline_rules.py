"""Function-decline (FD-1 to FD-8) and kidney (KID-1 to KID-3) rules of shared/DOMAIN.md
sections 2 and 6 (issue 4, "Function decline and symptoms"): for every rule a case that fires
(rule id, urgency, plain reason with the values, evidence with values and thresholds, who is
notified) and a close case that must not; per-patient overrides; re-runs raise nothing new."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from backend.accounts.models import User
from backend.alerts.models import Alert, Notification, NotificationKind, RuleOverride
from backend.alerts.services.alerting import alerts_raise
from backend.alerts.services.decline import decline_evaluate, kidney_overdue_findings
from backend.alerts.tasks import evaluate_decline, kidney_overdue
from backend.exercise.models import Assessment, Programme, SessionLog
from backend.exercise.services.assessments import assessment_record
from backend.exercise.services.sessions import session_log_record
from tests.conftest import World
from tests.exercise import conftest as exercise_fixtures
from tests.factories import CareTeamMembershipFactory, ClinicianFactory

pytestmark = pytest.mark.django_db

# The exercise area's fixtures: a small library and an active programme to log sessions against.
library = exercise_fixtures.library
programme = exercise_fixtures.programme

# A Friday, seven weeks into the programme of tests/exercise/conftest.py (started 2026-10-01).
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def physician(world: World) -> User:
    """A rheumatologist on the patient's care team (KID rules alert the whole team)."""
    doctor = ClinicianFactory.create(organisation=world.org, role="physician")
    CareTeamMembershipFactory.create(patient=world.patient, member=doctor, role="physician")
    return doctor


# --- Helpers ----------------------------------------------------------------------------------


def ago(*, days: float = 0, hours: float = 0) -> datetime:
    return NOW - timedelta(days=days, hours=hours)


def clinic(world: World, measure: str, value: Any, at: datetime, **extra: Any) -> Assessment:
    """A clinic measure recorded by the physiotherapist."""
    return assessment_record(
        by=world.physio,
        patient=world.patient,
        data={
            "measure": measure,
            "value": Decimal(str(value)),
            "setting": "clinic",
            "measured_at": at,
            **extra,
        },
    )


def home(world: World, measure: str, value: Any, at: datetime) -> Assessment:
    """A home measure entered by the patient in the app."""
    return assessment_record(
        by=world.patient.user,
        patient=world.patient,
        data={
            "measure": measure,
            "value": Decimal(str(value)),
            "setting": "home",
            "measured_at": at,
        },
    )


def session(
    world: World, programme: Programme, at: datetime, *, pain_after: int = 2, fatigue: int = 3
) -> SessionLog:
    """A session logged by the patient, without red-flag symptoms."""
    version = programme.current_version
    assert version is not None
    recorded = session_log_record(
        by=world.patient.user,
        patient=world.patient,
        data={
            "client_id": uuid.uuid4(),
            "version": version.pk,
            "started_at": at,
            "ended_at": at + timedelta(minutes=35),
            "completion": "full",
            "pain_before": 1,
            "pain_after": pain_after,
            "fatigue": fatigue,
            "symptoms": [],
            "results": [],
        },
    )
    assert recorded.created
    return recorded.session


def evaluate(world: World, now: datetime = NOW) -> list[Alert]:
    return decline_evaluate(patient_ids=[world.patient.pk], now=now)


def raised(world: World, rule_id: str) -> list[Alert]:
    return list(Alert.objects.filter(patient=world.patient, rule_id=rule_id).order_by("id"))


def only_alert(world: World, rule_id: str) -> Alert:
    alerts = raised(world, rule_id)
    assert len(alerts) == 1, [a.reason for a in alerts]
    return alerts[0]


def notified(alert: Alert) -> set[int]:
    """Who received a notification about this alert."""
    return set(
        Notification.objects.filter(
            kind=NotificationKind.ALERT, subject_type="alert", subject_id=alert.pk
        ).values_list("recipient_id", flat=True)
    )


def alert_notifications() -> int:
    return Notification.objects.filter(kind=NotificationKind.ALERT).count()


def value(point: dict[str, Any]) -> Decimal:
    return Decimal(point["value"])


def override(world: World, rule_id: str, **parameters: Any) -> None:
    RuleOverride.objects.create(
        patient=world.patient, rule_id=rule_id, parameters=parameters, set_by=world.physio
    )


# --- FD-1: CMAS drops >= 3 points below the previous value or the 180-day best -----------------


def test_fd1_cmas_drop_of_three_points_from_the_previous_value_fires(world: World) -> None:
    # given
    clinic(world, "CMAS", 44, ago(days=60))
    clinic(world, "CMAS", 40, ago(days=1))

    # when
    returned = evaluate(world)

    # then
    alert = only_alert(world, "FD-1")
    assert [a.pk for a in returned] == [alert.pk]
    assert alert.urgency == "routine"
    assert alert.rule_version == 1
    assert "CMAS" in alert.reason
    assert "44" in alert.reason
    assert "40" in alert.reason
    assert value(alert.evidence["latest"]) == 40
    assert value(alert.evidence["previous"]) == 44
    assert alert.evidence["thresholds"]["drop_points"] == 3
    assert alert.evidence["thresholds"]["best_window_days"] == 180
    assert alert.period_start == ago(days=1).date()
    assert notified(alert) == {world.physio.pk}


def test_fd1_drop_from_the_best_of_the_last_180_days_fires(world: World) -> None:
    # given: one point below the previous value, three below the best of the window
    clinic(world, "CMAS", 46, ago(days=120))
    clinic(world, "CMAS", 44, ago(days=60))
    clinic(world, "CMAS", 43, ago(days=1))

    # when
    evaluate(world)

    # then
    alert = only_alert(world, "FD-1")
    assert "46" in alert.reason
    assert "43" in alert.reason
    assert alert.evidence["compared_with"] == "best"
    assert value(alert.evidence["best_180_days"]) == 46
    assert value(alert.evidence["latest"]) == 43


@pytest.mark.parametrize(
    "history",
    [
        pytest.param([(44, 60), (42, 1)], id="drop-of-2-points"),
        pytest.param([(47, 200), (45, 60), (44, 1)], id="best-older-than-180-days"),
        pytest.param([(40, 60), (44, 1)], id="improvement"),
    ],
)
def test_fd1_does_not_fire_below_three_points_within_the_window(
    world: World, history: list[tuple[int, int]]
) -> None:
    # given
    for score, days in history:
        clinic(world, "CMAS", score, ago(days=days))

    # when
    evaluate(world)

    # then
    assert raised(world, "FD-1") == []
    assert alert_notifications() == 0


def test_fd1_drop_from_a_previous_value_older_than_180_days_fires(world: World) -> None:
    # given: the last clinic CMAS was seven months ago
    clinic(world, "CMAS", 44, ago(days=210))
    clinic(world, "CMAS", 41, ago(days=1))

    # when
    evaluate(world)

    # then: DOMAIN.md FD-1 "below the previous value" has no age limit
    alert = only_alert(world, "FD-1")
    assert value(alert.evidence["previous"]) == 44


# --- FD-2: CMAS < 15 ---------------------------------------------------------------------------


def test_fd2_cmas_below_15_is_urgent(world: World) -> None:
    # given
    clinic(world, "CMAS", 14, ago(days=1))

    # when
    evaluate(world)

    # then
    alert = only_alert(world, "FD-2")
    assert alert.urgency == "urgent"
    assert "CMAS 14" in alert.reason
    assert "15" in alert.reason
    assert value(alert.evidence["latest"]) == 14
    assert alert.evidence["thresholds"]["below"] == 15
    assert notified(alert) == {world.physio.pk, world.nurse.pk}  # urgent: DOMAIN.md 7


def test_fd2_cmas_of_exactly_15_does_not_fire(world: World) -> None:
    # given
    clinic(world, "CMAS", 15, ago(days=1))

    # when
    evaluate(world)

    # then
    assert raised(world, "FD-2") == []


# --- FD-3: MMT8 drops >= 20 % ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("max_score", "before", "after"),
    [pytest.param(80, 70, 56, id="of-80"), pytest.param(150, 100, 80, id="bilateral-of-150")],
)
def test_fd3_mmt8_drop_of_20_percent_fires(
    world: World, max_score: int, before: int, after: int
) -> None:
    # given
    clinic(world, "MMT8", before, ago(days=90), max_score=max_score)
    clinic(world, "MMT8", after, ago(days=1), max_score=max_score)

    # when
    evaluate(world)

    # then
    alert = only_alert(world, "FD-3")
    assert alert.urgency == "routine"
    assert "MMT8" in alert.reason
    assert "20%" in alert.reason
    assert f"{before}/{max_score} → {after}/{max_score}" in alert.reason
    assert value(alert.evidence["previous"]) == before
    assert value(alert.evidence["latest"]) == after
    assert alert.evidence["thresholds"]["drop_ratio"] == 0.2
    assert notified(alert) == {world.physio.pk}


@pytest.mark.parametrize(
    ("max_score", "before", "after"),
    [
        pytest.param(150, 100, 81, id="drop-of-19-percent"),
        pytest.param(80, 70, 57, id="drop-of-18.6-percent"),
    ],
)
def test_fd3_mmt8_drop_under_20_percent_does_not_fire(
    world: World, max_score: int, before: int, after: int
) -> None:
    # given
    clinic(world, "MMT8", before, ago(days=90), max_score=max_score)
    clinic(world, "MMT8", after, ago(days=1), max_score=max_score)

    # when
    evaluate(world)

    # then
    assert raised(world, "FD-3") == []


def test_fd3_never_compares_scores_out_of_80_with_scores_out_of_150(world: World) -> None:
    # given: 100 of 150 then 70 of 80 is an improvement, though 70 < 80 % of 100
    clinic(world, "MMT8", 100, ago(days=90), max_score=150)
    clinic(world, "MMT8", 70, ago(days=1), max_score=80)

    # when
    evaluate(world)

    # then
    assert raised(world, "FD-3") == []


# --- FD-4: MMT8 < 30 of 80 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "max_score"), [pytest.param(29, 80, id="of-80"), pytest.param(56, 150, id="of-150")]
)
def test_fd4_mmt8_below_30_of_80_is_urgent(world: World, score: int, max_score: int) -> None:
    # given
    clinic(world, "MMT8", score, ago(days=1), max_score=max_score)

    # when
    evaluate(world)

    # then
    alert = only_alert(world, "FD-4")
    assert alert.urgency == "urgent"
    assert f"MMT8 {score}/{max_score}" in alert.reason
    assert value(alert.evidence["latest"]) == score
    assert alert.evidence["max_score"] == max_score
    assert alert.evidence["thresholds"]["below_of_80"] == 30
    assert notified(alert) == {world.physio.pk, world.nurse.pk}  # urgent: DOMAIN.md 7


@pytest.mark.parametrize(
    ("score", "max_score"), [pytest.param(30, 80, id="of-80"), pytest.param(57, 150, id="of-150")]
)
def test_fd4_mmt8_at_the_threshold_does_not_fire(world: World, score: int, max_score: int) -> None:
    # given
    clinic(world, "MMT8", score, ago(days=1), max_score=max_score)

    # when
    evaluate(world)

    # then
    assert raised(world, "FD-4") == []


# --- FD-5: CHAQ rises >= 0.75 in one entry or >= 0.125 on two consecutive entries -------------


def test_fd5_chaq_rise_of_075_in_one_entry_fires(world: World) -> None:
    # given
    home(world, "CHAQ", "0.5", ago(days=30))
    home(world, "CHAQ", "1.25", ago(days=1))

    # when
    evaluate(world)

    # then
    alert = only_alert(world, "FD-5")
    assert alert.urgency == "routine"
    assert "CHAQ (0–3) rose 0.75 in one entry" in alert.reason
    assert "0.5 → 1.25" in alert.reason
    assert value(alert.evidence["previous"]) == Decimal("0.5")
    assert value(alert.evidence["latest"]) == Decimal("1.25")
    assert alert.evidence["thresholds"]["single_rise"] == 0.75
    assert notified(alert) == {world.physio.pk}


def test_fd5_chaq_rises_of_0125_on_two_consecutive_entries_fire(world: World) -> None:
    # given
    home(world, "CHAQ", "0.5", ago(days=30))
    home(world, "CHAQ", "0.625", ago(days=15))
    home(world, "CHAQ", "0.75", ago(days=1))

    # when
    evaluate(world)

    # then
    alert = only_alert(world, "FD-5")
    assert alert.urgency == "routine"
    assert "two consecutive" in alert.reason
    assert "0.5 → 0.625 → 0.75" in alert.reason
    assert [value(p) for p in alert.evidence["earlier"]] == [Decimal("0.5"), Decimal("0.625")]
    assert value(alert.evidence["latest"]) == Decimal("0.75")
    assert alert.evidence["thresholds"]["consecutive_rise"] == 0.125
    assert notified(alert) == {world.physio.pk}


@pytest.mark.parametrize(
    "values",
    [
        pytest.param(["0.5", "0.5", "1.125"], id="single-rise-of-0.625"),
        pytest.param(["0.5", "0.625", "0.625", "0.75"], id="rises-not-consecutive"),
        pytest.param(["0.5", "0.625"], id="one-rise-of-0.125"),
    ],
)
def test_fd5_smaller_or_isolated_chaq_rises_do_not_fire(world: World, values: list[str]) -> None:
    # given
    for index, score in enumerate(values):
        home(world, "CHAQ", score, ago(days=40 - 10 * index))

    # when
    evaluate(world)

    # then
    assert raised(world, "FD-5") == []


def test_fd5_never_compares_a_home_chaq_with_a_clinic_chaq(world: World) -> None:
    # given: 0.75 apart, but one filled in at home and one in clinic
    home(world, "CHAQ", "0.5", ago(days=30))
    clinic(world, "CHAQ", "1.25", ago(days=1))

    # when
    evaluate(world)

    # then
    assert raised(world, "FD-5") == []


# --- FD-6: home STS30 / TUG >= 20 % worse than the baseline on 2 tests >= 48 h apart -----------


def test_fd6_home_sts30_lower_than_baseline_on_two_tests_fires(world: World) -> None:
    # given: baseline median 15, so 12 or fewer is 20 % worse
    for count, days in ((15, 30), (14, 27), (16, 24)):
        home(world, "STS30", count, ago(days=days))
    home(world, "STS30", 12, ago(days=5))
    home(world, "STS30", 11, ago(days=2))

    # when
    evaluate(world)

    # then
    alert = only_alert(world, "FD-6")
    assert alert.urgency == "routine"
    assert "STS30" in alert.reason
    assert "baseline of 15 stands" in alert.reason
    assert "12 stands on 15 Nov 2026 then 11 stands on 18 Nov 2026" in alert.reason
    assert alert.evidence["measure"] == "STS30"
    assert Decimal(alert.evidence["baseline"]) == 15
    assert [value(p) for p in alert.evidence["baseline_tests"]] == [15, 14, 16]
    assert [value(p) for p in alert.evidence["tests"]] == [12, 11]
    assert alert.evidence["thresholds"]["worse_ratio"] == 0.2
    assert alert.evidence["thresholds"]["min_hours_apart"] == 48
    assert notified(alert) == {world.physio.pk}


def test_fd6_home_tug_slower_than_baseline_on_two_tests_exactly_48_hours_apart_fires(
    world: World,
) -> None:
    # given: baseline median 9.0 s, so 10.8 s or slower is 20 % worse
    for seconds, days in (("8.0", 30), ("9.0", 27), ("10.0", 24)):
        home(world, "TUG", seconds, ago(days=days))
    home(world, "TUG", "11.0", ago(days=4))
    home(world, "TUG", "10.8", ago(days=2))

    # when
    evaluate(world)

    # then
    alert = only_alert(world, "FD-6")
    assert "TUG" in alert.reason
    assert "baseline of 9 s" in alert.reason
    assert "11 s on 16 Nov 2026 then 10.8 s on 18 Nov 2026" in alert.reason
    assert alert.evidence["measure"] == "TUG"
    assert Decimal(alert.evidence["baseline"]) == 9
    assert [value(p) for p in alert.evidence["tests"]] == [Decimal("11.0"), Decimal("10.8")]


def test_fd6_two_worse_tests_less_than_48_hours_apart_do_not_fire(world: World) -> None:
    # given
    for count, days in ((15, 30), (14, 27), (16, 24)):
        home(world, "STS30", count, ago(days=days))
    home(world, "STS30", 12, ago(days=2, hours=47))
    home(world, "STS30", 11, ago(days=2))

    # when
    evaluate(world)

    # then
    assert raised(world, "FD-6") == []


def test_fd6_never_compares_home_sts30_with_clinic_values(world: World) -> None:
    # given: clinic counts of 20 first (a baseline of 20 would make 12 a 40 % drop),
    # then a home baseline of 14, from which 12 is only 14 % worse
    for days in (60, 57, 54):
        clinic(world, "STS30", 20, ago(days=days))
    for days in (30, 27, 24):
        home(world, "STS30", 14, ago(days=days))
    home(world, "STS30", 12, ago(days=5))
    home(world, "STS30", 12, ago(days=2))

    # when
    evaluate(world)

    # then
    assert raised(world, "FD-6") == []


def test_fd6_low_clinic_sts30_values_are_not_home_tests(world: World) -> None:
    # given: a home baseline of 15, then two low counts measured in clinic
    for count, days in ((15, 30), (14, 27), (16, 24)):
        home(world, "STS30", count, ago(days=days))
    clinic(world, "STS30", 10, ago(days=5))
    clinic(world, "STS30", 10, ago(days=2))

    # when
    evaluate(world)

    # then
    assert raised(world, "FD-6") == []


# --- FD-7: pain after sessions >= 2 points and >= 30 % above the 14-day median, twice ----------


def test_fd7_pain_after_well_above_the_14_day_median_twice_fires(
    world: World, programme: Programme
) -> None:
    # given
    for days in (12, 10, 8):
        session(world, programme, ago(days=days), pain_after=3)
    session(world, programme, ago(days=4), pain_after=5)
    latest = session(world, programme, ago(days=2), pain_after=5)

    # when
    evaluate(world)

    # then
    alert = only_alert(world, "FD-7")
    assert alert.urgency == "routine"
    assert "Pain after sessions 5/10 on 16 Nov 2026 then 5/10 on 18 Nov 2026" in alert.reason
    assert "median of 3/10" in alert.reason
    assert Decimal(alert.evidence["median_14_days"]) == 3
    assert alert.evidence["window_values"] == [3, 3, 3]
    assert [e["pain_after"] for e in alert.evidence["entries"]] == [5, 5]
    assert alert.evidence["entries"][1]["session_id"] == latest.pk
    assert alert.evidence["thresholds"]["points"] == 2
    assert alert.evidence["thresholds"]["ratio"] == 0.3
    assert alert.period_start == ago(days=4).date()
    assert alert.period_end == ago(days=2).date()
    assert notified(alert) == {world.physio.pk}


@pytest.mark.parametrize(
    ("usual", "first", "second"),
    [
        pytest.param(3, 5, 4, id="second-entry-only-1-point-above"),
        pytest.param(7, 9, 9, id="2-points-but-under-30-percent"),
    ],
)
def test_fd7_pain_not_high_enough_on_both_entries_does_not_fire(
    world: World, programme: Programme, usual: int, first: int, second: int
) -> None:
    # given
    for days in (12, 10, 8):
        session(world, programme, ago(days=days), pain_after=usual)
    session(world, programme, ago(days=4), pain_after=first)
    session(world, programme, ago(days=2), pain_after=second)

    # when
    evaluate(world)

    # then
    assert raised(world, "FD-7") == []


# --- FD-8: fatigue >= 2 points above the 14-day median, twice ---------------------------------


def test_fd8_fatigue_two_points_above_the_14_day_median_twice_fires(
    world: World, programme: Programme
) -> None:
    # given
    for days in (12, 10, 8):
        session(world, programme, ago(days=days), fatigue=4)
    session(world, programme, ago(days=4), fatigue=6)
    session(world, programme, ago(days=2), fatigue=6)

    # when
    evaluate(world)

    # then
    alert = only_alert(world, "FD-8")
    assert alert.urgency == "routine"
    assert "Fatigue after sessions 6/10" in alert.reason
    assert "median of 4/10" in alert.reason
    assert Decimal(alert.evidence["median_14_days"]) == 4
    assert [e["fatigue"] for e in alert.evidence["entries"]] == [6, 6]
    assert alert.evidence["thresholds"]["points"] == 2
    assert alert.evidence["thresholds"]["window_days"] == 14
    assert notified(alert) == {world.physio.pk}
    assert raised(world, "FD-7") == []


def test_fd8_fatigue_high_on_only_one_of_two_entries_does_not_fire(
    world: World, programme: Programme
) -> None:
    # given
    for days in (12, 10, 8):
        session(world, programme, ago(days=days), fatigue=4)
    session(world, programme, ago(days=4), fatigue=6)
    session(world, programme, ago(days=2), fatigue=5)

    # when
    evaluate(world)

    # then
    assert raised(world, "FD-8") == []


# --- KID-1 / KID-2: eGFR < 60, or a fall >= 25 % from the last value --------------------------


def test_kid1_egfr_below_60_alerts_the_whole_care_team(world: World, physician: User) -> None:
    # given
    clinic(world, "EGFR", 59, ago(days=1))

    # when
    evaluate(world)

    # then
    alert = only_alert(world, "KID-1")
    assert alert.urgency == "urgent"
    assert "eGFR 59" in alert.reason
    assert "60" in alert.reason
    assert value(alert.evidence["latest"]) == 59
    assert alert.evidence["thresholds"]["below"] == 60
    assert notified(alert) == {world.physio.pk, world.nurse.pk, physician.pk}


def test_kid1_egfr_of_60_does_not_fire(world: World, physician: User) -> None:
    # given
    clinic(world, "EGFR", 60, ago(days=1))

    # when
    evaluate(world)

    # then
    assert raised(world, "KID-1") == []
    assert alert_notifications() == 0


def test_kid2_egfr_fall_of_25_percent_alerts_the_whole_care_team(
    world: World, physician: User
) -> None:
    # given
    clinic(world, "EGFR", 100, ago(days=90))
    clinic(world, "EGFR", 75, ago(days=1))

    # when
    evaluate(world)

    # then
    alert = only_alert(world, "KID-2")
    assert alert.urgency == "urgent"
    assert "25%" in alert.reason
    assert "100 → 75" in alert.reason
    assert value(alert.evidence["previous"]) == 100
    assert value(alert.evidence["latest"]) == 75
    assert alert.evidence["thresholds"]["drop_ratio"] == 0.25
    assert notified(alert) == {world.physio.pk, world.nurse.pk, physician.pk}
    assert raised(world, "KID-1") == []


def test_kid2_egfr_fall_of_24_percent_does_not_fire(world: World) -> None:
    # given
    clinic(world, "EGFR", 100, ago(days=90))
    clinic(world, "EGFR", 76, ago(days=1))

    # when
    evaluate(world)

    # then
    assert raised(world, "KID-2") == []


# --- KID-3: eGFR overdue against the clinician's monitoring interval --------------------------


def test_kid3_overdue_egfr_alerts_physio_and_nurse_once_however_often_the_task_runs(
    world: World,
) -> None:
    # given: checked every 90 days, last result 100 days ago
    override(world, "KID-3", interval_days=90)
    clinic(world, "EGFR", 95, ago(days=100))

    # when
    first_run = kidney_overdue()
    second_run = kidney_overdue()

    # then
    assert (first_run, second_run) == (1, 0)
    alert = only_alert(world, "KID-3")
    assert alert.urgency == "routine"
    assert "overdue" in alert.reason
    assert "last result on 12 Aug 2026" in alert.reason  # the local date, readable
    assert "90 days" in alert.reason
    assert value(alert.evidence["last"]) == 95
    assert alert.evidence["thresholds"]["interval_days"] == 90
    assert {world.physio.pk, world.nurse.pk} <= notified(alert)
    assert alert_notifications() == len(notified(alert))


def test_kid3_overdue_egfr_also_alerts_a_physician_on_the_team(
    world: World, physician: User
) -> None:
    # given
    override(world, "KID-3", interval_days=90)
    clinic(world, "EGFR", 95, ago(days=100))

    # when
    kidney_overdue()

    # then
    alert = only_alert(world, "KID-3")
    assert notified(alert) == {world.physio.pk, world.nurse.pk, physician.pk}


def test_kid3_result_within_the_interval_does_not_fire(world: World) -> None:
    # given
    override(world, "KID-3", interval_days=90)
    clinic(world, "EGFR", 95, ago(days=80))

    # when
    findings = kidney_overdue_findings(patient_ids=[world.patient.pk], now=NOW)
    alerts_raise(findings)

    # then
    assert findings == []
    assert raised(world, "KID-3") == []


def test_kid3_without_a_monitoring_interval_does_not_fire(world: World) -> None:
    # given: no clinician has set an interval
    clinic(world, "EGFR", 95, ago(days=400))

    # when
    kidney_overdue()

    # then
    assert raised(world, "KID-3") == []


# --- Overrides ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("drop_points", "scores", "fires"),
    [
        pytest.param(5, (44, 40), False, id="stricter-threshold-silences-a-4-point-drop"),
        pytest.param(2, (44, 42), True, id="looser-threshold-flags-a-2-point-drop"),
    ],
)
def test_override_of_fd1_drop_points_changes_the_outcome(
    world: World, drop_points: int, scores: tuple[int, int], fires: bool
) -> None:
    # given
    override(world, "FD-1", drop_points=drop_points)
    clinic(world, "CMAS", scores[0], ago(days=60))
    clinic(world, "CMAS", scores[1], ago(days=1))

    # when
    evaluate(world)

    # then
    alerts = raised(world, "FD-1")
    assert len(alerts) == int(fires)
    if fires:
        assert alerts[0].evidence["thresholds"]["drop_points"] == drop_points


def test_override_disabling_a_rule_silences_it(world: World) -> None:
    # given
    override(world, "FD-1", enabled=False)
    clinic(world, "CMAS", 44, ago(days=60))
    clinic(world, "CMAS", 40, ago(days=1))

    # when
    evaluate(world)

    # then
    assert raised(world, "FD-1") == []
    assert alert_notifications() == 0


def test_a_stored_override_cannot_switch_off_a_safety_critical_rule(world: World) -> None:
    # given: FD-2 is safety-critical (DOMAIN.md 7), yet a row says enabled: false
    override(world, "FD-2", enabled=False)
    clinic(world, "CMAS", 10, ago(days=1))

    # when
    evaluate(world)

    # then: the rule still fires
    assert len(raised(world, "FD-2")) == 1


def test_override_of_urgency_is_used_by_the_alert(world: World) -> None:
    # given
    override(world, "FD-1", urgency="urgent")
    clinic(world, "CMAS", 44, ago(days=60))
    clinic(world, "CMAS", 40, ago(days=1))

    # when
    evaluate(world)

    # then
    alert = only_alert(world, "FD-1")
    assert alert.urgency == "urgent"
    assert alert.evidence["thresholds"]["drop_points"] == 3
    # an urgent alert reaches the nurse at once, never only through escalation (DOMAIN.md 7)
    assert notified(alert) == {world.physio.pk, world.nurse.pk}


def test_a_stored_override_cannot_lower_a_safety_critical_rule_nor_drop_the_nurse(
    world: World,
) -> None:
    # given: FD-2 is safety-critical (DOMAIN.md 7); a stored override tries to make it routine
    override(world, "FD-2", urgency="routine")
    clinic(world, "CMAS", 14, ago(days=1))

    # when
    evaluate(world)

    # then it stays urgent and reaches physiotherapist and nurse at once
    alert = only_alert(world, "FD-2")
    assert alert.urgency == "urgent"
    assert notified(alert) == {world.physio.pk, world.nurse.pk}


def test_override_of_another_patient_does_not_change_this_one(world: World) -> None:
    # given
    RuleOverride.objects.create(
        patient=world.other_patient, rule_id="FD-2", parameters={"enabled": False}
    )
    clinic(world, "CMAS", 10, ago(days=1))

    # when
    evaluate(world)

    # then
    assert len(raised(world, "FD-2")) == 1


# --- Re-runs and new values --------------------------------------------------------------------


def test_evaluating_twice_raises_no_duplicate_alert_or_notification(
    world: World, programme: Programme
) -> None:
    # given: a decline firing FD-1, FD-2, KID-1 and FD-8
    clinic(world, "CMAS", 20, ago(days=60))
    clinic(world, "CMAS", 14, ago(days=1))
    clinic(world, "EGFR", 55, ago(days=1))
    for days in (12, 10, 8):
        session(world, programme, ago(days=days), fatigue=4)
    session(world, programme, ago(days=4), fatigue=7)
    session(world, programme, ago(days=2), fatigue=7)
    first = evaluate(world)
    alerts, notifications = Alert.objects.count(), alert_notifications()

    # when
    second = evaluate(world)

    # then
    assert sorted(a.rule_id for a in first) == ["FD-1", "FD-2", "FD-8", "KID-1"]
    assert second == []
    assert Alert.objects.count() == alerts == 4
    assert alert_notifications() == notifications


def test_evaluate_decline_task_raises_once_however_often_it_runs(world: World) -> None:
    # given
    clinic(world, "CMAS", 44, ago(days=60))
    clinic(world, "CMAS", 40, ago(days=1))

    # when
    first_run = evaluate_decline(world.patient.pk)
    second_run = evaluate_decline(world.patient.pk)

    # then
    assert (first_run, second_run) == (1, 0)
    alert = only_alert(world, "FD-1")
    assert notified(alert) == {world.physio.pk}
    assert alert_notifications() == 1


def test_a_new_lower_value_after_an_alert_raises_a_new_alert_for_its_own_period(
    world: World,
) -> None:
    # given: an FD-1 alert for the value of ten days ago
    clinic(world, "CMAS", 44, ago(days=60))
    clinic(world, "CMAS", 40, ago(days=10))
    evaluate(world, now=ago(days=9))
    first = only_alert(world, "FD-1")

    # when: a further drop is measured and evaluated
    clinic(world, "CMAS", 36, ago(days=1))
    evaluate(world)
    evaluate(world)

    # then
    alerts = raised(world, "FD-1")
    assert len(alerts) == 2
    assert alerts[0].pk == first.pk
    second = alerts[1]
    assert first.period_start == ago(days=10).date()
    assert second.period_start == second.period_end == ago(days=1).date()
    assert "36" in second.reason
    assert value(second.evidence["latest"]) == 36
    assert notified(second) == {world.physio.pk}
    assert alert_notifications() == 2


# --- What the care team sees -------------------------------------------------------------------


def test_the_nurse_is_notified_of_an_urgent_decline_but_not_of_a_routine_one(
    world: World, client_for: Callable[[User], APIClient]
) -> None:
    # given: CMAS 44 then 14: FD-1 (routine, a fall of 30 points) and FD-2 (urgent, below 15)
    clinic(world, "CMAS", 44, ago(days=60))
    clinic(world, "CMAS", 14, ago(days=1))
    evaluate(world)
    physio, nurse = client_for(world.physio), client_for(world.nurse)

    # when
    alerts = physio.get("/api/v1/alerts/", {"rule": "FD-2", "patient": str(world.patient.pk)})
    physio_inbox = physio.get("/api/v1/notifications/", {"kind": "alert"})
    nurse_inbox = nurse.get("/api/v1/notifications/", {"kind": "alert"})

    # then
    assert alerts.status_code == 200, alerts.json()
    [shown] = alerts.json()["results"]
    assert shown["rule_id"] == "FD-2"
    assert shown["urgency"] == "urgent"
    assert "CMAS 14" in shown["reason"]
    assert len(physio_inbox.json()["results"]) == 2
    [to_nurse] = nurse_inbox.json()["results"]
    assert "FD-2" in to_nurse["title"]


# --- Each declining measure is reported; comparisons stay within one setting ------------------


def test_fd6_reports_sts30_and_tug_when_both_declined_and_once_however_often_it_runs(
    world: World,
) -> None:
    # given: home STS30 20 % below its baseline of 15, and home TUG 20 % above its 9 s, twice
    for count, seconds, days in ((15, "8.0", 30), (14, "9.0", 27), (16, "10.0", 24)):
        home(world, "STS30", count, ago(days=days))
        home(world, "TUG", seconds, ago(days=days))
    for count, seconds, days in ((12, "11.0", 5), (11, "10.8", 2)):
        home(world, "STS30", count, ago(days=days))
        home(world, "TUG", seconds, ago(days=days))

    # when
    evaluate(world)
    evaluate(world)

    # then: one alert per measure, each with its own tests, and no duplicate on re-runs
    alerts = raised(world, "FD-6")
    assert sorted(a.evidence["measure"] for a in alerts) == ["STS30", "TUG"]
    assert len({a.dedup_key for a in alerts}) == 2
    by_measure = {a.evidence["measure"]: a for a in alerts}
    assert [value(p) for p in by_measure["STS30"].evidence["tests"]] == [12, 11]
    assert [value(p) for p in by_measure["TUG"].evidence["tests"]] == [
        Decimal("11.0"),
        Decimal("10.8"),
    ]
    assert "TUG" in by_measure["TUG"].reason
    assert alert_notifications() == 2


def test_fd5_reports_a_home_and_a_clinic_chaq_that_both_rose(world: World) -> None:
    # given: a rise of 0.75 at home and another in clinic (never compared with each other)
    home(world, "CHAQ", "0.5", ago(days=30))
    clinic(world, "CHAQ", "0.25", ago(days=20))
    home(world, "CHAQ", "1.25", ago(days=2))
    clinic(world, "CHAQ", "1.0", ago(days=1))

    # when
    evaluate(world)
    evaluate(world)

    # then
    alerts = raised(world, "FD-5")
    assert sorted(a.evidence["setting"] for a in alerts) == ["clinic", "home"]
    assert {a.evidence["latest"]["setting"] for a in alerts} == {"clinic", "home"}
    assert any(a.reason.startswith("Home CHAQ") for a in alerts)
    assert any(a.reason.startswith("Clinic CHAQ") for a in alerts)


def test_fd5_a_rise_meeting_both_conditions_gives_both_as_evidence(world: World) -> None:
    # given: 0.5 → 0.625 → 1.5: a rise of 0.875 in one entry, and two rises of >= 0.125
    home(world, "CHAQ", "0.5", ago(days=30))
    home(world, "CHAQ", "0.625", ago(days=15))
    home(world, "CHAQ", "1.5", ago(days=1))

    # when
    evaluate(world)

    # then: one alert (one entry), naming both conditions, with the values of both
    alert = only_alert(world, "FD-5")
    assert alert.evidence["conditions"] == ["single_rise", "consecutive_rise"]
    assert value(alert.evidence["previous"]) == Decimal("0.625")
    assert [value(p) for p in alert.evidence["earlier"]] == [Decimal("0.5"), Decimal("0.625")]
    assert "0.875 in one entry and on two consecutive entries" in alert.reason
    assert "0.5 → 0.625 → 1.5" in alert.reason


def test_kid2_never_compares_a_home_egfr_with_a_clinic_one(world: World) -> None:
    # given: 100 measured at home, then 70 in clinic: 30 % apart, but not comparable
    home_egfr = assessment_record(
        by=world.physio,
        patient=world.patient,
        data={
            "measure": "EGFR",
            "value": Decimal(100),
            "setting": "home",
            "measured_at": ago(days=30),
        },
    )
    assert home_egfr.setting == "home"
    clinic(world, "EGFR", 70, ago(days=1))

    # when
    evaluate(world)

    # then
    assert raised(world, "KID-2") == []


def test_kid2_compares_with_the_last_value_of_the_same_setting(world: World) -> None:
    # given: clinic 100, then a home 80, then clinic 74: a fall of 26 % from the last clinic
    # value (from the home value it would be 7.5 %)
    clinic(world, "EGFR", 100, ago(days=60))
    assessment_record(
        by=world.physio,
        patient=world.patient,
        data={
            "measure": "EGFR",
            "value": Decimal(80),
            "setting": "home",
            "measured_at": ago(days=30),
        },
    )
    clinic(world, "EGFR", 74, ago(days=1))

    # when
    evaluate(world)

    # then
    alert = only_alert(world, "KID-2")
    assert value(alert.evidence["previous"]) == 100
    assert alert.evidence["setting"] == "clinic"
    assert "100 → 74" in alert.reason
