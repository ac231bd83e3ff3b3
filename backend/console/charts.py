"""Charts as inline SVG, drawn on the server: readable without JavaScript and printable.

Pure functions from a selector's series to an SVG string. Every text that goes in is escaped
here, so the result is marked safe once, by `_svg`. Each chart names itself for assistive
technology (<title>/<desc> and aria-labelledby), labels its axes, gives each point a <title>
tooltip, and draws rule thresholds as a dashed line with a text label; the page puts a data
table next to it for screen readers. Colours come from CSS classes (patients.css): the CSP
allows no style attributes, and presentation attributes alone would not follow the theme.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from html import escape

from django.utils.safestring import SafeString, mark_safe

Number = float | int | Decimal

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 150, 16, 40  # room for the y axis, threshold labels, x labels


@dataclass(frozen=True)
class Point:
    at: date | datetime
    value: Number
    tooltip: str  # what a reader hovering the point (or reading the <title>) learns


@dataclass(frozen=True)
class Line:
    name: str
    points: list[Point]
    css: str  # series colour and marker: "series-1" …


@dataclass(frozen=True)
class Threshold:
    value: Number
    label: str  # e.g. "FD-2: below 15"
    css: str = "threshold"  # "baseline" for a series' own reference value, drawn apart


@dataclass(frozen=True)
class Bar:
    label: str  # x-axis text (a week's Monday, "12 Oct")
    value: Number
    tooltip: str
    css: str  # "met", "below", "above", "open", "none": the state the text also says


def _svg(markup: str) -> SafeString:
    """The one place a chart becomes HTML: every caller escaped its text with `_t`."""
    return mark_safe(markup)  # noqa: S308  # built here from escaped text only


def _t(text: object) -> str:
    return escape(str(text), quote=True)


def number_text(value: Number) -> str:
    """A value as a person reads it: 3, 2.5, 0.125 (never 3.0 or 2.50)."""
    number = Decimal(str(value)).normalize()
    return f"{number:f}"


def _frame(chart_id: str, title: str, description: str, body: str, height: int = HEIGHT) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'aria-labelledby="{_t(chart_id)}-title {_t(chart_id)}-desc">'
        f'<title id="{_t(chart_id)}-title">{_t(title)}</title>'
        f'<desc id="{_t(chart_id)}-desc">{_t(description)}</desc>'
        f"{body}</svg>"
    )


def _scale(low: float, high: float, top: float, bottom: float) -> tuple[float, float]:
    """y = a * value + b mapping low..high onto bottom..top (SVG y grows downwards)."""
    span = (high - low) or 1.0
    a = (top - bottom) / span
    return a, bottom - a * low


def _y_axis(low: float, high: float, y_label: str, plot_bottom: float) -> str:
    a, b = _scale(low, high, TOP, plot_bottom)
    ticks = [low + (high - low) * i / 4 for i in range(5)]
    parts = [
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{plot_bottom}"/>',
        f'<line class="axis" x1="{LEFT}" y1="{plot_bottom}" x2="{WIDTH - RIGHT}" '
        f'y2="{plot_bottom}"/>',
        f'<text class="axis-label" x="12" y="{(TOP + plot_bottom) / 2:.1f}" '
        f'transform="rotate(-90 12 {(TOP + plot_bottom) / 2:.1f})" text-anchor="middle">'
        f"{_t(y_label)}</text>",
    ]
    for tick in ticks:
        y = a * tick + b
        parts.append(
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_t(number_text(round(tick, 2)))}</text>"
        )
        parts.append(
            f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}"/>'
        )
    return "".join(parts)


def _threshold(line: Threshold, a: float, b: float) -> str:
    y = a * float(line.value) + b
    return (
        f'<g class="{_t(line.css)}"><line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" '
        f'y2="{y:.1f}" stroke-dasharray="6 4"/>'
        f'<text x="{WIDTH - RIGHT + 6}" y="{y + 4:.1f}">{_t(line.label)}</text></g>'
    )


def _moment(at: date | datetime) -> float:
    if isinstance(at, datetime):
        return at.timestamp()
    return datetime(at.year, at.month, at.day, tzinfo=UTC).timestamp()


def line_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    y_label: str,
    x_label: str,
    lines: list[Line],
    thresholds: list[Threshold] | None = None,
    y_range: tuple[Number, Number] | None = None,
) -> SafeString:
    """Values over time, one polyline and markers per line, thresholds as labelled lines.

    `y_range` fixes the axis (a 0–10 score); otherwise it spans the values and thresholds."""
    thresholds = thresholds or []
    points = [p for line in lines for p in line.points]
    values = [float(p.value) for p in points] + [float(t.value) for t in thresholds]
    if y_range is not None:
        low, high = float(y_range[0]), float(y_range[1])
    elif values:
        low, high = min(values), max(values)
        pad = (high - low) * 0.1 or max(abs(high) * 0.1, 1.0)
        low, high = max(low - pad, 0.0) if low >= 0 else low - pad, high + pad
    else:
        low, high = 0.0, 1.0
    plot_bottom = HEIGHT - BOTTOM
    a, b = _scale(low, high, TOP, plot_bottom)
    parts = [_y_axis(low, high, y_label, plot_bottom)]
    parts.append(
        f'<text class="axis-label" x="{(LEFT + WIDTH - RIGHT) / 2:.1f}" y="{HEIGHT - 4}" '
        f'text-anchor="middle">{_t(x_label)}</text>'
    )
    parts.extend(_threshold(t, a, b) for t in thresholds)
    if not points:
        parts.append(
            f'<text class="empty" x="{(LEFT + WIDTH - RIGHT) / 2:.1f}" '
            f'y="{(TOP + plot_bottom) / 2:.1f}" text-anchor="middle">No values yet</text>'
        )
        return _svg(_frame(chart_id, title, description, "".join(parts)))
    first = min(_moment(p.at) for p in points)
    last = max(_moment(p.at) for p in points)
    span = (last - first) or 1.0
    inner = WIDTH - RIGHT - LEFT - 16

    def x_of(point: Point) -> float:
        if last == first:
            return LEFT + 8 + inner / 2
        return LEFT + 8 + inner * (_moment(point.at) - first) / span

    for label_at, anchor in ((first, "start"), (last, "end")):
        when = datetime.fromtimestamp(label_at, UTC).date()
        x = LEFT + 8 + (inner * (label_at - first) / span if last != first else inner / 2)
        parts.append(
            f'<text class="tick" x="{x:.1f}" y="{plot_bottom + 16}" text-anchor="{anchor}">'
            f"{_t(when.strftime('%d %b %Y'))}</text>"
        )
    for line in lines:
        coords = [(x_of(p), a * float(p.value) + b, p) for p in line.points]
        group = [f'<g class="line {_t(line.css)}"><title>{_t(line.name)}</title>']
        if len(coords) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in coords)
            group.append(f'<polyline fill="none" points="{path}"/>')
        for x, y, point in coords:
            group.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4"><title>{_t(point.tooltip)}</title>'
                "</circle>"
            )
        group.append("</g>")
        parts.append("".join(group))
    return _svg(_frame(chart_id, title, description, "".join(parts)))


def week_bars(
    *,
    chart_id: str,
    title: str,
    description: str,
    y_label: str,
    bars: list[Bar],
    band: tuple[Number, Number] | None,
    band_label: str = "",
) -> SafeString:
    """One bar per week against the target band (a shaded stripe between the weekly minimum
    and maximum, labelled); each bar's value is written on it, so colour is never the only
    sign of where it stands."""
    top_value = max([float(b.value) for b in bars] + [float(band[1]) if band else 0.0, 1.0])
    high = float(int(top_value) + 1)
    plot_bottom = HEIGHT - BOTTOM
    a, b = _scale(0.0, high, TOP, plot_bottom)
    parts = [_y_axis(0.0, high, y_label, plot_bottom)]
    if band is not None:
        y_top, y_low = a * float(band[1]) + b, a * float(band[0]) + b
        parts.append(
            f'<g class="band"><rect x="{LEFT}" y="{y_top:.1f}" width="{WIDTH - RIGHT - LEFT}" '
            f'height="{max(y_low - y_top, 2):.1f}"/>'
            f'<text x="{WIDTH - RIGHT + 6}" y="{(y_top + y_low) / 2 + 4:.1f}">'
            f"{_t(band_label)}</text></g>"
        )
    slot = (WIDTH - RIGHT - LEFT) / max(len(bars), 1)
    width = slot * 0.6
    for index, bar in enumerate(bars):
        x = LEFT + slot * index + (slot - width) / 2
        y = a * float(bar.value) + b
        height = plot_bottom - y
        parts.append(
            f'<g class="bar {_t(bar.css)}"><rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
            f'height="{height:.1f}"><title>{_t(bar.tooltip)}</title></rect>'
            f'<text class="value" x="{x + width / 2:.1f}" y="{y - 4:.1f}" '
            f'text-anchor="middle">{_t(number_text(bar.value))}</text>'
        )
        # Every other week's date (and the last): twelve would overlap at this width.
        if index % 2 == (len(bars) - 1) % 2:
            parts.append(
                f'<text class="tick" x="{x + width / 2:.1f}" y="{plot_bottom + 16}" '
                f'text-anchor="middle">{_t(bar.label)}</text>'
            )
        parts.append("</g>")
    return _svg(_frame(chart_id, title, description, "".join(parts)))


def mini_bar(value: Number, target_max: Number | None, css: str) -> SafeString:
    """A small bar for one week in a table cell; decorative (aria-hidden): the cell's text
    says the same."""
    scale = max(float(target_max or 0), float(value), 1.0)
    height = 16 * float(value) / scale
    return _svg(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="mini-bar {_t(css)}" aria-hidden="true" '
        f'focusable="false" viewBox="0 0 8 16" width="8" height="16">'
        f'<rect class="track" x="0" y="0" width="8" height="16"/>'
        f'<rect class="fill" x="0" y="{16 - height:.1f}" width="8" height="{height:.1f}"/></svg>'
    )
