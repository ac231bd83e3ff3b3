"""Set-based inserts for the bulk jobs (reminder chunks, the weekly job's advice).

`bulk_create` builds a model instance per row, prepares every value through its field and
sends one placeholder per value: for a reminder chunk (500 reminders, 500 notifications and
their deliveries) that was half the chunk's time, most of it in Python, and psycopg parsed
each 4,500-placeholder statement anew. On PostgreSQL `insert_ignoring_conflicts` sends one
array per column instead (`INSERT … SELECT * FROM unnest(…) ON CONFLICT DO NOTHING`): one
placeholder per column whatever the row count. Elsewhere (SQLite) it is `bulk_create`.

For models whose columns are plain values (numbers, text, dates, times); rows give each
column they set by attribute name (`patient_id`), the rest take the field's default, and
`auto_now`/`auto_now_add` fields the time of the call.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection, models
from django.utils import timezone

PLAIN_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "DateField",
        "DateTimeField",
        "ForeignKey",
        "IntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
        "TextField",
        "TimeField",
    }
)


def _columns(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    for field in fields:
        if field.get_internal_type() not in PLAIN_TYPES:
            raise TypeError(f"{model.__name__}.{field.name} is not a plain column")
    return fields


TEXT_TYPES = frozenset({"CharField", "TextField"})


def _array_type(field: models.Field[Any, Any]) -> str:
    # Text goes as text[]: an explicit cast to varchar(n) would truncate a long value
    # silently, where the assignment to the column refuses it, as bulk_create's INSERT does.
    if field.get_internal_type() in TEXT_TYPES:
        return "text[]"
    return f"{field.cast_db_type(connection)}[]"


def _value(field: models.Field[Any, Any], row: Mapping[str, Any], now: Any) -> Any:
    if field.attname in row:
        value = row[field.attname]
        # Choices are enums; psycopg would send an enum's name, the column holds its value.
        return value.value if isinstance(value, enum.Enum) else value
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    return field.get_default()


def insert_ignoring_conflicts(model: type[models.Model], rows: Sequence[Mapping[str, Any]]) -> None:
    """Inserts `rows`; a row that breaks a unique constraint is skipped (as `bulk_create`'s
    `ignore_conflicts`), so a repeated chunk writes nothing twice."""
    if not rows:
        return
    fields = _columns(model)
    now = timezone.now()
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(
            [model(**{f.attname: _value(f, row, now) for f in fields}) for row in rows],
            ignore_conflicts=True,
        )
        return
    quote = connection.ops.quote_name
    names = ", ".join(quote(str(f.column)) for f in fields)
    arrays = ", ".join(f"%s::{_array_type(f)}" for f in fields)
    # Names from the model's metadata, quoted; every value is a parameter.
    table = quote(model._meta.db_table)
    sql = f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) ON CONFLICT DO NOTHING"  # noqa: S608
    columns = [[_value(f, row, now) for row in rows] for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, columns)
