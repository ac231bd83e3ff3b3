"""A prescribed dose in plain words, for the printable programme and the console's lists.

Works on a programme item (model) and on a template's stored item (a dict) alike.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from backend.exercise.codes import IntensityScale, LoadUnit

WEEKDAY_NAMES = {
    1: "Monday",
    2: "Tuesday",
    3: "Wednesday",
    4: "Thursday",
    5: "Friday",
    6: "Saturday",
    7: "Sunday",
}


def _get(item: Any, name: str) -> Any:
    value = item.get(name) if isinstance(item, dict) else getattr(item, name, None)
    return None if value == "" else value


def _number(value: Any) -> str:
    """2, 1.5, 11 — never 2.00 or 11.0."""
    if isinstance(value, str):
        value = Decimal(value)
    if isinstance(value, Decimal):
        value = value.normalize()
        return f"{value:f}"
    return str(value)


def _plural(count: Any, one: str, many: str) -> str:
    return f"{_number(count)} {one if str(count) == '1' else many}"


def _load(item: Any) -> str:
    unit = _get(item, "load_unit")
    if unit == LoadUnit.KG and _get(item, "load_value") is not None:
        return f"with {_number(_get(item, 'load_value'))} kg"
    if unit == LoadUnit.BAND:
        return f"with the {_get(item, 'band_colour') or ''} band".replace("  ", " ")
    if unit == LoadUnit.BODY_WEIGHT:
        return "with your own body weight"
    return ""


def _intensity(item: Any) -> str:
    scale, target = _get(item, "intensity_scale"), _get(item, "intensity_target")
    if not scale or target is None:
        return ""
    return f"effort {_number(target)} on the {IntensityScale(scale).label} scale"


def dose_in_words(item: Any) -> str:
    """`2 sets of 10 repetitions with 1.5 kg, rest 60 seconds between sets, effort 11 on the
    Borg RPE 6–20 scale`."""
    sets, reps, hold = _get(item, "sets"), _get(item, "reps"), _get(item, "hold_seconds")
    parts = []
    if sets and reps:
        parts.append(
            f"{_plural(sets, 'set', 'sets')} of {_plural(reps, 'repetition', 'repetitions')}"
        )
    elif sets:
        parts.append(_plural(sets, "set", "sets"))
    elif reps:
        parts.append(_plural(reps, "repetition", "repetitions"))
    if hold:
        parts.append(f"hold {_plural(hold, 'second', 'seconds')}")
    duration = _get(item, "duration_minutes")
    if duration:
        parts.append(_plural(duration, "minute", "minutes"))
    work, rest, repeats = (
        _get(item, "interval_work_seconds"),
        _get(item, "interval_rest_seconds"),
        _get(item, "interval_repeats"),
    )
    if work and rest and repeats:
        parts.append(
            f"in intervals: {_number(work)} seconds on, {_number(rest)} seconds easy, "
            f"{_plural(repeats, 'time', 'times')}"
        )
    load = _load(item)
    words = " ".join([", ".join(parts), load]).strip() if parts else load
    extras = []
    rest_between = _get(item, "rest_seconds")
    if rest_between:
        extras.append(f"rest {_plural(rest_between, 'second', 'seconds')} between sets")
    intensity = _intensity(item)
    if intensity:
        extras.append(intensity)
    return ", ".join([w for w in [words, *extras] if w])


def weekdays_in_words(days: list[int]) -> str:
    return ", ".join(WEEKDAY_NAMES[day] for day in sorted(days)) or "any day"
