"""The evidence of an alert as the card shows it: rows and the sparkline, from what the rules
store (backend/alerts/services/decline.py, adherence.py, symptoms.py)."""

from __future__ import annotations

import re
from decimal import Decimal
from zoneinfo import ZoneInfo

from backend.console.views.inbox_evidence import evidence_rows, evidence_series, sparkline_svg

LONDON = ZoneInfo("Europe/London")


def rows(rule_id: str, evidence: object) -> dict[str, str]:
    return {row.label: row.value for row in evidence_rows(rule_id, evidence, LONDON)}


def test_thresholds_carry_the_catalogue_units_and_ids_stay_out():
    shown = rows(
        "A-2",
        {
            "rule": {"id": "A-2", "version": 1},
            "thresholds": {"consecutive_weeks": 2, "min_ratio_28_days": 0.8},
            "sessions": "1",
            "target_min": 2,
            "window_utc": ["2026-11-09T00:00:00+00:00", "2026-11-16T00:00:00+00:00"],
        },
    )

    assert shown["Threshold · Consecutive weeks"] == "2 weeks"
    assert shown["Threshold · Min ratio 28 days"] == "0.8 ratio"
    assert shown["Sessions"] == "1"
    assert shown["Window utc"] == "9 Nov 2026 00:00, 16 Nov 2026 00:00"
    assert not any("Rule" in label for label in shown)


def test_a_symptom_report_reads_in_the_patients_time_zone_without_ids():
    shown = rows(
        "SYM-1",
        {
            "rule": {"id": "SYM-1", "version": 2, "tier": 1},
            "symptom_report_id": 12,
            "symptom_report_ids": [12],
            "symptoms": ["chest_pain"],
            "derived_from_pain": None,
            "reported_at": "2026-07-01T13:30:00+00:00",
            "pain_after": 7,
        },
    )

    assert shown == {
        "Symptoms": "chest_pain",
        "Derived from pain": "—",
        "Reported at": "1 Jul 2026 14:30",  # British summer time
        "Pain after": "7",
    }


def test_the_series_of_a_decline_is_its_points_oldest_first():
    evidence = {
        "latest": {"value": "31", "measured_at": "2026-11-19T10:00:00+00:00"},
        "earlier": [{"value": "38"}, {"value": "36"}],
    }

    assert evidence_series(evidence) == [Decimal(38), Decimal(36), Decimal(31)]
    assert evidence_series({"window_values": [3, 4, 8]}) == [Decimal(3), Decimal(4), Decimal(8)]
    assert evidence_series({"previous": {"value": "2.0"}, "latest": {"value": "2.5"}}) == [
        Decimal("2.0"),
        Decimal("2.5"),
    ]
    assert evidence_series({"latest": {"value": "31"}}) == []
    assert evidence_series({"symptoms": ["fainting", "rash_flare"]}) == []


def test_the_sparkline_draws_one_point_a_value_and_says_them():
    svg = str(sparkline_svg([Decimal(38), Decimal(36), Decimal(31)]))

    points = re.search(r'points="([^"]+)"', svg)
    assert points is not None
    xy = [tuple(float(n) for n in pair.split(",")) for pair in points.group(1).split()]
    assert len(xy) == 3
    assert xy[0][0] < xy[1][0] < xy[2][0]  # left to right, oldest first
    assert xy[0][1] < xy[1][1] < xy[2][1]  # falling values go down the picture
    assert 'aria-label="Values, oldest to newest: 38, 36, 31"' in svg
    assert 'role="img"' in svg
    assert "style" not in svg


def test_no_sparkline_for_fewer_than_two_values_and_a_flat_one_stays_inside():
    assert sparkline_svg([Decimal(5)]) is None
    flat = str(sparkline_svg([Decimal(5), Decimal(5)]))
    points = re.search(r'points="([^"]+)"', flat)
    assert points is not None
    assert all(0 <= float(pair.split(",")[1]) <= 32 for pair in points.group(1).split())
