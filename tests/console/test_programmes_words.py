"""Doses in plain words, as the printable programme and the console's lists say them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from backend.console.views.programmes_words import dose_in_words, weekdays_in_words
from backend.exercise.models import ProgrammeItem


@pytest.mark.parametrize(
    ("item", "words"),
    [
        (
            {"sets": 2, "reps": 10, "load_unit": "kg", "load_value": "1.50", "rest_seconds": 60},
            "2 sets of 10 repetitions with 1.5 kg, rest 60 seconds between sets",
        ),
        ({"sets": 1, "hold_seconds": 20}, "1 set, hold 20 seconds"),
        (
            {"sets": 2, "reps": 8, "load_unit": "band", "band_colour": "red"},
            "2 sets of 8 repetitions with the red band",
        ),
        (
            {"sets": 2, "reps": 8, "load_unit": "body_weight"},
            "2 sets of 8 repetitions with your own body weight",
        ),
        (
            {
                "duration_minutes": 12,
                "interval_work_seconds": 30,
                "interval_rest_seconds": 60,
                "interval_repeats": 6,
                "intensity_scale": "rpe_6_20",
                "intensity_target": "11.0",
            },
            "12 minutes, in intervals: 30 seconds on, 60 seconds easy, 6 times, "
            "effort 11 on the Borg RPE 6–20 scale",
        ),
        (
            {"duration_minutes": 10, "intensity_scale": "cr10", "intensity_target": "3"},
            "10 minutes, effort 3 on the Borg CR10 0–10 scale",
        ),
    ],
)
def test_a_stored_dose_in_words(item, words):
    assert dose_in_words(item) == words


def test_a_programme_item_reads_the_same_as_its_stored_dose():
    item = ProgrammeItem(sets=3, reps=12, load_unit="kg", load_value=Decimal("2.00"))

    assert dose_in_words(item) == "3 sets of 12 repetitions with 2 kg"


def test_training_days_in_words():
    assert weekdays_in_words([5, 1, 3]) == "Monday, Wednesday, Friday"
    assert weekdays_in_words([]) == "any day"
