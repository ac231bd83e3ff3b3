"""The search parameters the export understands (docs/fhir.md), parsed or refused with 400.

`patient` (required: `123` or `Patient/123`), `date` (repeatable, with a prefix eq, ge, gt,
le or lt; a date is a day in the patient's own time zone, a dateTime needs its offset),
`_count` (1–200, default 50) and `_cursor` (from a `next` link). Anything else is refused:
a misspelt parameter silently ignored would return more than asked for."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.http import QueryDict

from backend.fhir.selectors import Cursor, Window

DEFAULT_COUNT = 50
MAX_COUNT = 200
# `format` is DRF's choice of renderer (fhir or json), as an alternative to Accept.
FORMAT = "format"
KNOWN = frozenset({"patient", "date", "_count", "_cursor", FORMAT})
PREFIXES = ("eq", "ge", "gt", "le", "lt")
DATE_VALUE = re.compile(
    r"^(?P<year>\d{4})(-(?P<month>\d{2})(-(?P<day>\d{2})"
    r"(T(?P<hour>\d{2}):(?P<minute>\d{2})(:(?P<second>\d{2})(?P<fraction>\.\d{1,6})?)?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2}))?)?)?$"
)
PATIENT_VALUE = re.compile(r"^(Patient/)?(?P<id>[1-9]\d{0,17})$")
CURSOR_VALUE = re.compile(r"^(?P<at>-?\d{1,20})\.(?P<rank>\d)\.(?P<pk>\d{1,19})$")


class SearchError(ValueError):
    """A search parameter that does not parse: its name and why."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter


@dataclass(frozen=True)
class Search:
    patient_id: int
    dates: tuple[str, ...]
    count: int
    cursor: Cursor | None

    def window(self, zone: ZoneInfo) -> Window:
        return date_window(self.dates, zone)


def parse_search(query: QueryDict) -> Search:
    unknown = sorted(set(query) - KNOWN)
    if unknown:
        raise SearchError(unknown[0], "not a supported search parameter (see /fhir/metadata)")
    patients = query.getlist("patient")
    if len(patients) != 1:
        raise SearchError("patient", "give exactly one patient, e.g. patient=123")
    found = PATIENT_VALUE.match(patients[0])
    if found is None:
        raise SearchError("patient", "a patient id such as 123 or Patient/123")
    dates = tuple(query.getlist("date"))
    for value in dates:
        _bounds(value, ZoneInfo("UTC"))  # the syntax; the zone only moves the bounds
    return Search(
        patient_id=int(found["id"]),
        dates=dates,
        count=_count(query.getlist("_count")),
        cursor=_cursor(query.getlist("_cursor")),
    )


def _count(values: list[str]) -> int:
    if not values:
        return DEFAULT_COUNT
    if len(values) > 1 or not values[0].isdigit() or not 1 <= int(values[0]) <= MAX_COUNT:
        raise SearchError("_count", f"a whole number from 1 to {MAX_COUNT}")
    return int(values[0])


def cursor_value(cursor: Cursor) -> str:
    """The `_cursor` of a `next` link: microseconds since the epoch, the row's kind and id."""
    micros = (cursor.at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    return f"{micros}.{cursor.rank}.{cursor.pk}"


def _cursor(values: list[str]) -> Cursor | None:
    if not values:
        return None
    found = CURSOR_VALUE.match(values[0]) if len(values) == 1 else None
    if found is None:
        raise SearchError("_cursor", "use the `next` link of the previous page as it is")
    try:
        at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(found["at"]))
    except OverflowError as error:
        raise SearchError("_cursor", "use the `next` link of the previous page") from error
    return Cursor(at=at, rank=int(found["rank"]), pk=int(found["pk"]))


def _bounds(value: str, zone: ZoneInfo) -> tuple[str, datetime, datetime]:
    """The prefix and the interval [start, end) the value stands for, at its precision."""
    prefix = value[:2] if value[:2] in PREFIXES else "eq"
    text = value[2:] if value[:2] in PREFIXES else value
    found = DATE_VALUE.match(text)
    if found is None:
        raise SearchError("date", f"'{value}' is not a FHIR date or dateTime (e.g. ge2026-01-31)")
    parts = found.groupdict()
    try:
        if parts["hour"] is None:
            year, month, day_ = int(parts["year"]), int(parts["month"] or 1), int(parts["day"] or 1)
            first = date(year, month, day_)
            if parts["day"]:
                last = first + timedelta(days=1)
            elif parts["month"]:
                last = (first + timedelta(days=32)).replace(day=1)
            else:
                last = first.replace(year=year + 1)
            return (
                prefix,
                datetime.combine(first, time.min, tzinfo=zone),
                datetime.combine(last, time.min, tzinfo=zone),
            )
        start = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError) as error:
        raise SearchError("date", f"'{value}' is not a valid date") from error
    if parts["fraction"]:
        step = timedelta(microseconds=1)
    elif parts["second"]:
        step = timedelta(seconds=1)
    else:
        step = timedelta(minutes=1)
    return prefix, start, start + step


def date_window(values: tuple[str, ...], zone: ZoneInfo) -> Window:
    """Every `date` value narrows the window (FHIR: repeated parameters are all true)."""
    since: datetime | None = None
    until: datetime | None = None
    for value in values:
        prefix, start, end = _bounds(value, zone)
        lower = {"eq": start, "ge": start, "gt": end}.get(prefix)
        upper = {"eq": end, "le": end, "lt": start}.get(prefix)
        if lower is not None:
            since = lower if since is None else max(since, lower)
        if upper is not None:
            until = upper if until is None else min(until, upper)
    return Window(since=since, until=until)
