from __future__ import annotations

from datetime import date, datetime

from rest_framework import serializers

# Every date this product records (births, programmes, sessions, measurements) falls within
# these years. Outside them a value is a typo or a probe, and year 1 or 9999 also overflows
# when converted to a patient's time zone (a 500, not a 400).
EARLIEST = date(1900, 1, 1)
LATEST = date(2099, 12, 31)


def plausible_date(value: date | datetime) -> None:
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise serializers.ValidationError(
            f"Must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}."
        )
