"""The audit trail's monthly partitions on PostgreSQL (migration audit/0007): creating the
coming months ahead of time, and expiring whole months past retention.

Expiring a month is the one way audit data ever goes: its partition is detached and dropped
(the append-only trigger refuses every UPDATE and DELETE, and a dropped partition is never
deleted row by row), and an audit event records who dropped which month and how many rows it
held. Retention is AUDIT_RETENTION_MONTHS, default none (keep forever); the current and future
months are never dropped, nor the DEFAULT partition (events of a month that had no partition).

On SQLite (development only) the trail is a plain table: these are no-ops that say so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from django.conf import settings
from django.db import connection, transaction

from backend.accounts.models import User
from backend.audit.models import AccessEvent, Action, Resource

TABLE = AccessEvent._meta.db_table
DEFAULT_PARTITION = f"{TABLE}_default"
NAME = re.compile(rf"^{TABLE}_p(\d{{4}})_(\d{{2}})$")
# Taken for the duration of a change of partitions, so two runs never race on one month.
LOCK_KEY = 0x61756469  # "audi"


class PartitionError(Exception):
    """A request to expire months that may not go (current or future, within retention)."""


@dataclass(frozen=True)
class Partition:
    name: str
    month: date  # first day, UTC


@dataclass
class UpkeepResult:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    # Months whose events already sit in the DEFAULT partition: a partition for them cannot
    # be created while they are there (PostgreSQL refuses), so they stay where they are.
    held_in_default: list[str] = field(default_factory=list)
    partitioned: bool = True


@dataclass(frozen=True)
class Expired:
    name: str
    month: date
    rows: int


def month_start(moment: datetime | date) -> date:
    """The first day of the month, in UTC for a datetime (the partitions' bounds are UTC)."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(UTC)
    return date(moment.year, moment.month, 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months_before(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{TABLE}_p{month:%Y_%m}"


def _bound(month: date) -> str:
    return f"'{month:%Y-%m-%d} 00:00:00+00'"  # UTC whatever the session's time zone


def is_partitioned() -> bool:
    """True on PostgreSQL once migration audit/0007 has run."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [TABLE])
        row = cursor.fetchone()
    return row is not None and row[0] == "p"


def monthly_partitions() -> list[Partition]:
    """The trail's monthly partitions, oldest first (not the DEFAULT one)."""
    if not is_partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [TABLE],
        )
        names = [name for (name,) in cursor.fetchall()]
    found = [(NAME.match(name), name) for name in names]
    return sorted(
        (Partition(name, date(int(m[1]), int(m[2]), 1)) for m, name in found if m),
        key=lambda p: p.month,
    )


def partitions_create_ahead(*, now: datetime, months_ahead: int | None = None) -> UpkeepResult:
    """Makes sure the current month and the next `months_ahead` (AUDIT_PARTITIONS_AHEAD_MONTHS)
    have their partition; safe to repeat (a second run creates nothing)."""
    ahead = settings.AUDIT_PARTITIONS_AHEAD_MONTHS if months_ahead is None else months_ahead
    result = UpkeepResult()
    if not is_partitioned():
        result.partitioned = False
        return result
    months = [month_start(now)]
    for _ in range(ahead):
        months.append(next_month(months[-1]))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        existing = {p.month for p in monthly_partitions()}
        for month in months:
            name = partition_name(month)
            if month in existing:
                result.existing.append(name)
                continue
            low, high = _bound(month), _bound(next_month(month))
            cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {DEFAULT_PARTITION} "  # noqa: S608  # our names
                f"WHERE occurred_at >= {low} AND occurred_at < {high})"
            )
            if cursor.fetchone()[0]:
                result.held_in_default.append(name)
                continue
            cursor.execute(
                f"CREATE TABLE {name} PARTITION OF {TABLE} FOR VALUES FROM ({low}) TO ({high})"
            )
            result.created.append(name)
    return result


def expiry_cutoff(*, now: datetime, before: date | None) -> date | None:
    """The first month to keep: `before` (a month's first day) when given, else the month
    AUDIT_RETENTION_MONTHS back from the current one; None when retention is to keep all.
    Refuses a cutoff past the current month, and one within AUDIT_RETENTION_MONTHS."""
    this_month = month_start(now)
    retention = settings.AUDIT_RETENTION_MONTHS
    kept_from = None if retention is None else months_before(this_month, retention)
    if before is None:
        return kept_from
    if before.day != 1:
        raise PartitionError(f"{before} is not the first day of a month.")
    if before > this_month:
        raise PartitionError(
            f"Refused: before {before:%Y-%m} would drop the current month ({this_month:%Y-%m}) "
            "or a future one."
        )
    if kept_from is not None and before > kept_from:
        raise PartitionError(
            f"Refused: AUDIT_RETENTION_MONTHS={retention} keeps every month from "
            f"{kept_from:%Y-%m}; before {before:%Y-%m} would drop some of them."
        )
    return before


def _expire_one(partition: Partition, *, by: User, at: datetime) -> Expired | None:
    """Detaches and drops one month and records it, in one transaction: both or neither.
    None when another run dropped it first."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        cursor.execute("SELECT to_regclass(%s) IS NULL", [partition.name])
        if cursor.fetchone()[0]:
            return None
        # No backdated event can slip into the month between the count and the drop.
        cursor.execute(f"LOCK TABLE {partition.name} IN SHARE MODE")
        cursor.execute(f"SELECT count(*) FROM {partition.name}")  # noqa: S608  # our names
        rows = int(cursor.fetchone()[0])
        # A table with deferred foreign-key checks still pending (events inserted earlier in
        # the same transaction) cannot be dropped: run them now, as Django's own check does.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {partition.name}")
        cursor.execute(f"DROP TABLE {partition.name}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        AccessEvent.objects.create(
            occurred_at=at,
            actor=by,
            actor_role=by.role,
            organisation_id=None,  # a platform action: the month held every organisation's
            patient=None,
            action=Action.DELETE,
            resource_type=Resource.AUDIT_PARTITION,
            resource_id=None,
            changes={
                "partition": partition.name,
                "from": f"{partition.month:%Y-%m-%d}T00:00:00Z",
                "to": f"{next_month(partition.month):%Y-%m-%d}T00:00:00Z",
                "rows": rows,
            },
        )
    return Expired(partition.name, partition.month, rows)


def partitions_expire(
    *, now: datetime, before: date | None, by: User, dry_run: bool = False
) -> list[Expired]:
    """Drops every monthly partition older than the cutoff (`expiry_cutoff`), each with an
        audit event of `by` (action delete, resource audit_partition, the month and its row count
        in `changes`), an active platform superuser. Nothing when retention is to keep all; safe
    to repeat. `dry_run` counts the
        rows of the months that would go and drops nothing."""
    if not (by.is_active and by.is_superuser):
        raise PartitionError("Only an active platform superuser may expire audit months.")
    cutoff = expiry_cutoff(now=now, before=before)
    if cutoff is None or not is_partitioned():
        return []
    due = [p for p in monthly_partitions() if next_month(p.month) <= cutoff]
    if dry_run:
        counted = []
        with connection.cursor() as cursor:
            for p in due:
                cursor.execute(f"SELECT count(*) FROM {p.name}")  # noqa: S608  # our names
                counted.append(Expired(p.name, p.month, int(cursor.fetchone()[0])))
        return counted
    expired = [_expire_one(p, by=by, at=now) for p in due]
    return [e for e in expired if e is not None]
