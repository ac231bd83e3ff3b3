"""The Patients pages' plain functions, on their output: SVG charts, adherence marks in words
as well as colour, and what changed between two programme versions."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree

from backend.alerts.models import WeeklyAdherence
from backend.console import charts
from backend.console.views.patients_data import (
    current_week_mark,
    past_week_mark,
    version_changes,
)

SVG = "{http://www.w3.org/2000/svg}"
MONDAY = date(2026, 11, 16)


def parsed(svg: str) -> Any:
    return ElementTree.fromstring(svg)  # noqa: S314  # our own output, not outside input


def cmas_chart(**overrides):
    arguments = {
        "chart_id": "chart-cmas",
        "title": "CMAS over time",
        "description": "Every CMAS result.",
        "y_label": "points",
        "x_label": "Date measured",
        "lines": [
            charts.Line(
                name="CMAS (clinic)",
                css="series-1",
                points=[
                    charts.Point(datetime(2026, 9, 1, tzinfo=UTC), 40, "1 Sep: 40 points"),
                    charts.Point(datetime(2026, 10, 1, tzinfo=UTC), 36, "1 Oct: 36 points"),
                    charts.Point(datetime(2026, 11, 1, tzinfo=UTC), 30, "1 Nov: 30 points"),
                ],
            )
        ],
        "thresholds": [charts.Threshold(15, "FD-2 severe: below 15")],
        **overrides,
    }
    return charts.line_chart(**arguments)


def test_a_line_chart_names_itself_for_assistive_technology():
    svg = parsed(cmas_chart())

    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "chart-cmas-title chart-cmas-desc"
    assert svg.find(f"{SVG}title").text == "CMAS over time"
    assert svg.find(f"{SVG}title").get("id") == "chart-cmas-title"
    assert svg.find(f"{SVG}desc").text == "Every CMAS result."


def test_each_point_has_its_tooltip_and_the_axes_their_labels():
    svg = parsed(cmas_chart())

    tooltips = [c.find(f"{SVG}title").text for c in svg.iter(f"{SVG}circle")]
    assert tooltips == ["1 Sep: 40 points", "1 Oct: 36 points", "1 Nov: 30 points"]
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "points" in texts
    assert "Date measured" in texts
    assert "01 Sep 2026" in texts
    assert "01 Nov 2026" in texts


def test_a_lower_value_is_drawn_lower_and_the_threshold_below_it():
    svg = parsed(cmas_chart())

    ys = [float(c.get("cy")) for c in svg.iter(f"{SVG}circle")]
    assert ys[0] < ys[1] < ys[2]  # 40, 36, 30: SVG's y grows downwards
    threshold = svg.find(f"{SVG}g[@class='threshold']")
    assert float(threshold.find(f"{SVG}line").get("y1")) > ys[2]
    assert threshold.find(f"{SVG}text").text == "FD-2 severe: below 15"


def test_text_going_into_a_chart_is_escaped():
    svg = cmas_chart(title='<script>alert("x")</script>', description="a & b")

    assert "<script>" not in svg
    assert parsed(svg).find(f"{SVG}title").text == '<script>alert("x")</script>'


def test_an_empty_chart_says_so():
    svg = parsed(cmas_chart(lines=[charts.Line("CMAS (clinic)", [], "series-1")]))

    assert "No values yet" in [t.text for t in svg.iter(f"{SVG}text")]
    assert not list(svg.iter(f"{SVG}circle"))


def test_week_bars_write_each_count_and_label_the_target_band():
    svg = parsed(
        charts.week_bars(
            chart_id="chart-weeks",
            title="Sessions a week",
            description="d",
            y_label="Sessions",
            bars=[
                charts.Bar("09 Nov", 1, "Week of 09 Nov: 1 (below target)", "below"),
                charts.Bar("16 Nov", Decimal("2.5"), "Week of 16 Nov: 2.5 (met)", "met"),
            ],
            band=(2, 3),
            band_label="Target 2–3 a week",
        )
    )

    bars = svg.findall(f"{SVG}g[@class]")
    classes = [g.get("class") for g in bars]
    assert "bar below" in classes
    assert "bar met" in classes
    values = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "value"]
    assert values == ["1", "2.5"]
    band = svg.find(f"{SVG}g[@class='band']")
    assert band.find(f"{SVG}text").text == "Target 2–3 a week"
    below, met = (g.find(f"{SVG}rect") for g in bars if g.get("class", "").startswith("bar"))
    assert float(below.get("height")) < float(met.get("height"))


def test_the_mini_bar_is_decorative():
    svg = parsed(charts.mini_bar(Decimal(2), 3, "met"))

    assert svg.get("aria-hidden") == "true"
    assert svg.get("class") == "mini-bar met"


# --- Adherence marks: a symbol and words, not only a colour ------------------------------------


def adherence(**fields):
    return WeeklyAdherence(
        week_start=MONDAY,
        sessions=fields.pop("sessions", Decimal(2)),
        target_min=2,
        target_max=3,
        **fields,
    )


def test_a_week_the_job_judged_met_reads_met():
    mark = past_week_mark(adherence(), MONDAY)

    assert (mark.css, mark.text) == ("met", "2/2–3 ✓ met")


def test_a_week_below_target_reads_below():
    mark = past_week_mark(adherence(sessions=Decimal(1), below_minimum=True), MONDAY)

    assert (mark.css, mark.text) == ("below", "1/2–3 ↓ below target")


def test_a_week_above_the_maximum_reads_above():
    mark = past_week_mark(adherence(sessions=Decimal(4), above_maximum=True), MONDAY)

    assert (mark.css, mark.text) == ("above", "4/2–3 ↑ above maximum")


def test_a_paused_week_is_not_judged():
    mark = past_week_mark(adherence(sessions=Decimal(0), suppressed="paused"), MONDAY)

    assert (mark.css, mark.word) == ("none", "paused")


def test_a_week_without_a_stored_verdict_says_so():
    mark = past_week_mark(None, MONDAY)

    assert (mark.css, mark.text) == ("none", "– not evaluated")


def test_this_week_is_counted_not_judged():
    mark = current_week_mark(MONDAY, Decimal("1.5"), 2, 3)

    assert (mark.css, mark.text) == ("open", "1.5/2–3 … so far")


# --- Programme versions --------------------------------------------------------------------------


def content(**overrides):
    base = {
        "title": "Strength block 1",
        "goals": "",
        "start_date": date(2026, 10, 1),
        "review_date": None,
        "sessions_per_week_min": 2,
        "sessions_per_week_max": 3,
        "training_weekdays": [1, 3, 5],
        "items": [
            {"exercise": 1, "sets": 2, "reps": 10, "load_value": None},
            {"exercise": 2, "sets": 2, "reps": 12, "load_value": Decimal("2.00")},
        ],
    }
    return {**base, **overrides}


NAMES = {1: "Chair squat", 2: "Biceps curl", 3: "Calf stretch"}


def test_no_change_lists_nothing():
    assert version_changes(content(), content(), NAMES) == []


def test_added_removed_and_dose_changes_are_named():
    after = content(
        items=[
            {"exercise": 1, "sets": 3, "reps": 10, "load_value": None},
            {"exercise": 3, "sets": 2, "reps": None, "load_value": None},
        ]
    )

    assert version_changes(content(), after, NAMES) == [
        "Chair squat: sets 2 → 3",
        "Added Calf stretch",
        "Removed Biceps curl",
    ]


def test_programme_fields_that_changed_are_named_with_old_and_new():
    after = content(sessions_per_week_min=3, training_weekdays=[1, 2, 4, 6])

    changes = version_changes(content(), after, NAMES)

    assert changes == [
        "Sessions a week (minimum): 2 → 3",
        "Training days: 1, 3, 5 → 1, 2, 4, 6",
    ]


def test_a_load_reads_as_a_person_writes_it():
    after = content(
        items=[
            {"exercise": 1, "sets": 2, "reps": 10, "load_value": None},
            {"exercise": 2, "sets": 2, "reps": 12, "load_value": Decimal("2.50")},
        ]
    )

    (change,) = version_changes(content(), after, NAMES)
    assert re.fullmatch(r"Biceps curl: load value 2 → 2\.5", change)
