"""An alert's evidence as a clinician reads it: a small table of what the rule saw (values,
thresholds with their units, dates in the patient's time zone) and, when the evidence holds a
series of values, a sparkline as inline SVG (server-drawn: readable without JS, printable).

Rules store different evidence (backend/alerts/services/decline.py, adherence.py,
symptoms.py); this reads any of them generically: nested objects and lists flatten into
labelled rows, ids and the rule reference stay out (the card names the rule already).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.html import format_html
from django.utils.safestring import SafeString

from backend.alerts.rules import RULES

HIDDEN_KEYS = frozenset({"rule", "log_client_id"})
MAX_ROWS = 30  # a coalesced alert may gather many reports: the card stays readable


@dataclass(frozen=True)
class EvidenceRow:
    label: str
    value: str


def _label(key: str) -> str:
    return key.replace("_", " ").strip().capitalize()


def _is_id(key: str) -> bool:
    return key == "id" or key.endswith(("_id", "_ids"))


def _when(value: str, zone: ZoneInfo) -> str | None:
    """An ISO date-time as the patient's local time ("19 Nov 2026 14:05"); None if not one."""
    if len(value) < 16 or value[4:5] != "-" or "T" not in value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    local = moment.astimezone(zone)
    return f"{local.day} {local:%b %Y %H:%M}"


def _text(value: Any, zone: ZoneInfo, unit: str = "") -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return _when(value, zone) or value
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(_text(v, zone) for v in value) + (f" {unit}" if unit else "")
    return f"{value} {unit}".strip()


def _units(rule_id: str) -> dict[str, str]:
    rule = RULES.get(rule_id)
    return {p.name: p.unit for p in rule.parameters} if rule else {}


def evidence_rows(rule_id: str, evidence: Any, zone: ZoneInfo) -> list[EvidenceRow]:
    """Every value of the evidence, labelled; thresholds with the catalogue's units."""
    if not isinstance(evidence, dict):
        return []
    units = _units(rule_id)
    rows: list[EvidenceRow] = []

    def walk(prefix: str, value: Any, unit: str = "") -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key in HIDDEN_KEYS or _is_id(key):
                    continue
                walk(
                    f"{prefix} · {_label(key)}" if prefix else _label(key),
                    inner,
                    units.get(key, ""),
                )
        elif isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
            for number, inner in enumerate(value, start=1):
                walk(f"{prefix} {number}", inner)
        else:
            rows.append(EvidenceRow(prefix, _text(value, zone, unit)))

    for key, value in evidence.items():
        if key in HIDDEN_KEYS or _is_id(key):
            continue
        if key == "thresholds" and isinstance(value, dict):
            for name, limit in value.items():
                rows.append(
                    EvidenceRow(
                        f"Threshold · {_label(name)}", _text(limit, zone, units.get(name, ""))
                    )
                )
            continue
        walk(_label(key), value)
    return rows[:MAX_ROWS]


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def evidence_series(evidence: Any) -> list[Decimal]:
    """The values the rule compared, oldest first, when the evidence holds two or more: a
    list of numbers (window_values), or the points of a measure (earlier…, previous, latest)."""
    if not isinstance(evidence, dict):
        return []
    for value in evidence.values():
        if isinstance(value, list) and len(value) >= 2:
            numbers = [_number(v) for v in value]
            if all(n is not None for n in numbers):
                return [n for n in numbers if n is not None]
    points: list[Any] = []
    earlier = evidence.get("earlier")
    if isinstance(earlier, list):
        points += earlier
    elif isinstance(evidence.get("previous"), dict):
        points.append(evidence["previous"])
    if isinstance(evidence.get("latest"), dict):
        points.append(evidence["latest"])
    values = [_number(p.get("value")) for p in points if isinstance(p, dict)]
    series = [v for v in values if v is not None]
    return series if len(series) >= 2 else []


SPARK_WIDTH, SPARK_HEIGHT, SPARK_PAD = 120, 32, 3


def sparkline_svg(values: list[Decimal]) -> SafeString | None:
    """A line through the values with a dot on the newest; its label says them in words."""
    if len(values) < 2:
        return None
    low, high = min(values), max(values)
    span = (high - low) or Decimal(1)
    step = Decimal(SPARK_WIDTH - 2 * SPARK_PAD) / (len(values) - 1)
    inner = Decimal(SPARK_HEIGHT - 2 * SPARK_PAD)
    points = [
        (
            float(SPARK_PAD + step * i),
            float(SPARK_PAD + inner - (v - low) / span * inner),
        )
        for i, v in enumerate(values)
    ]
    said = ", ".join(f"{v.normalize():f}" for v in values)
    last_x, last_y = points[-1]
    return format_html(
        '<svg class="sparkline" width="{}" height="{}" viewBox="0 0 {} {}" role="img" '
        'aria-label="{}"><polyline fill="none" stroke="currentColor" stroke-width="2" '
        'points="{}"/><circle cx="{}" cy="{}" r="3" fill="currentColor"/></svg>',
        SPARK_WIDTH,
        SPARK_HEIGHT,
        SPARK_WIDTH,
        SPARK_HEIGHT,
        f"Values, oldest to newest: {said}",
        " ".join(f"{x:.1f},{y:.1f}" for x, y in points),  # numbers only: nothing to escape
        f"{last_x:.1f}",
        f"{last_y:.1f}",
    )
