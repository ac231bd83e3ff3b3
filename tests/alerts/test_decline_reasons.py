"""Every function-decline and kidney alert explains itself (DOMAIN.md 6): the rule's real
version, and a reason with values, units, thresholds and local dates."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from backend.alerts.models import Alert
from backend.alerts.rules import RULES
from backend.alerts.tasks import kidney_overdue
from backend.exercise.models import Programme
from tests.alerts.reasons import assert_explained
from tests.alerts.test_decline_rules import ago, clinic, evaluate, home, override, session
from tests.conftest import World
from tests.exercise import conftest as exercise_fixtures

pytestmark = pytest.mark.django_db

library = exercise_fixtures.library
programme = exercise_fixtures.programme

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # Friday 20 November 2026, noon in London


@pytest.fixture(autouse=True)
def _frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def _new_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every rule at a version of its own (7 + its position), as the catalogue will bump
    them: an alert must record the version in force, never a literal 1."""
    for position, rule_id in enumerate(RULES):
        monkeypatch.setitem(
            RULES, rule_id, dataclasses.replace(RULES[rule_id], version=7 + position)
        )


def _alert(world: World, rule_id: str) -> Alert:
    (alert,) = Alert.objects.filter(patient=world.patient, rule_id=rule_id)
    return alert


def test_every_decline_and_kidney_reason_reads_in_seconds(
    world: World, programme: Programme
) -> None:
    # given: a patient in London whose every measure declined
    clinic(world, "CMAS", 44, ago(days=60))
    clinic(world, "CMAS", 14, ago(days=1))  # FD-1 (30 points) and FD-2 (below 15)
    clinic(world, "MMT8", 100, ago(days=60), max_score=150)
    clinic(world, "MMT8", 56, ago(days=1), max_score=150)  # FD-3 (44 %), FD-4 (< 30 of 80)
    home(world, "CHAQ", "0.5", ago(days=30))
    home(world, "CHAQ", "1.25", ago(days=1))  # FD-5
    for count, days in ((15, 30), (14, 27), (16, 24)):
        home(world, "STS30", count, ago(days=days))
    home(world, "STS30", 12, ago(days=5))
    home(world, "STS30", 11, ago(days=2))  # FD-6
    clinic(world, "EGFR", 80, ago(days=60))
    clinic(world, "EGFR", 55, ago(days=1))  # KID-1 (below 60) and KID-2 (a fall of 31 %)
    for days, pain, fatigue in ((12, 2, 3), (10, 3, 4), (9, 2, 3), (8, 3, 4)):
        session(world, programme, ago(days=days), pain_after=pain, fatigue=fatigue)
    session(world, programme, ago(days=4), pain_after=5, fatigue=6)
    session(world, programme, ago(days=2), pain_after=5, fatigue=6)  # FD-7, FD-8
    override(world, "KID-3", interval_days=30)

    # when
    evaluate(world)
    with time_machine.travel(NOW + timedelta(days=40), tick=False):
        kidney_overdue()  # KID-3: no eGFR for 41 days, checked every 30

    # then: each reason names the values with their units, the threshold and local dates
    assert_explained(_alert(world, "FD-1"), "44 → 14 points", "30 points", "3 points")
    assert_explained(_alert(world, "FD-2"), "CMAS 14 points", "below 15 points", "19 Nov 2026")
    assert_explained(_alert(world, "FD-3"), "100/150 → 56/150", "44%", "a drop of 20%")
    fd4 = _alert(world, "FD-4")
    assert_explained(fd4, "MMT8 56/150", "30/80", "37%", "38%")
    assert "56.25" not in fd4.reason
    assert_explained(_alert(world, "FD-5"), "CHAQ (0–3) rose 0.75", "0.5 → 1.25", "0.75")
    assert_explained(
        _alert(world, "FD-6"), "12 stands on 15 Nov 2026", "11 stands", "15 stands", "20%"
    )
    assert_explained(_alert(world, "FD-7"), "5/10", "median of 2.5/10", "+2 points", "+30%")
    assert_explained(_alert(world, "FD-8"), "6/10", "median of 3.5/10", "+2 points")
    assert_explained(_alert(world, "KID-1"), "eGFR 55 mL/min/1.73 m²", "below 60 mL/min/1.73 m²")
    assert_explained(_alert(world, "KID-2"), "fell 31%", "80 → 55 mL/min/1.73 m²", "a fall of 25%")
    assert_explained(_alert(world, "KID-3"), "19 Nov 2026", "41 days ago", "every 30 days")


def test_a_reason_gives_the_date_in_the_patients_own_time_zone(world: World) -> None:
    # given: a patient in Auckland, whose CMAS of 14 was measured at 20:00 UTC on
    # 18 November: already 19 November there
    world.patient.timezone = "Pacific/Auckland"
    world.patient.save()
    clinic(world, "CMAS", 14, datetime(2026, 11, 18, 20, 0, tzinfo=UTC))

    # when
    evaluate(world)

    # then
    assert_explained(_alert(world, "FD-2"), "on 19 Nov 2026")
