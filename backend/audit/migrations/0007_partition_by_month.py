"""On PostgreSQL the audit trail becomes a table partitioned by month of `occurred_at`
(declarative RANGE partitioning), so that a month past retention is expired by dropping its
partition, never by DELETE (backend/audit/partitions.py), and the indexes a page walks stay
the size of a month. SQLite (development only) keeps the plain table.

The table is rebuilt, keeping every row and every id: the partitioned table is created under
the table's name (same columns, defaults and identity), with one partition per month that holds
events, the current month and the next three, and a DEFAULT partition that takes an event of a
month without a partition (an insert never fails for want of one). The rows are copied, the
identity sequence continues where the old one stopped, and the indexes, foreign keys and the
append-only trigger of migration 0002 are recreated under their own names (a row trigger on a
partitioned table is cloned to every partition, present and future, PostgreSQL 13+).

The primary key of a partitioned table must include the partition key: in the database it is
(id, occurred_at). Django's model keeps `id` as its primary key: ids come from the one
identity sequence and are never written by the application, so they stay unique.

The rebuild locks the table for its duration (a copy of the whole trail): on a large trail run
it in a maintenance window. The reverse rebuilds a plain table the same way.
"""

from datetime import UTC, date, datetime

from django.db import migrations

TABLE = "audit_accessevent"
OLD = f"{TABLE}_unpartitioned"
MONTHS_AHEAD = 3  # the daily audit.create_partitions task keeps this many ready afterwards

APPEND_ONLY_TRIGGER = f"""
CREATE TRIGGER audit_accessevent_append_only
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION audit_accessevent_append_only()
"""


# Kept here, not imported from backend.audit.partitions: a migration must not change when the
# application code does. The names and bounds are the same.
def _partition_name(month: date) -> str:
    return f"{TABLE}_p{month:%Y_%m}"


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _bound(month: date) -> str:
    return f"'{month:%Y-%m-%d} 00:00:00+00'"  # UTC whatever the session's time zone


def _fetch(cursor, sql, params=()):
    cursor.execute(sql, params)
    return cursor.fetchall()


def _rebuild(schema_editor, *, partitioned: bool) -> None:
    """Rebuilds TABLE as a partitioned (or plain) table with the same rows, ids, indexes,
    foreign keys and trigger."""
    run = schema_editor.execute
    with schema_editor.connection.cursor() as cursor:
        run(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
        (sequence,) = _fetch(cursor, "SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])[0]
        indexes = _fetch(
            cursor,
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = current_schema() AND tablename = %s AND indexname <> %s",
            [TABLE, f"{TABLE}_pkey"],
        )
        constraints = _fetch(
            cursor,
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('f', 'c') AND conparentid = 0",
            [TABLE],
        )
        months = {
            row[0]
            for row in _fetch(
                cursor,
                f"SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date "
                f"FROM {TABLE}",
            )
        }

        # Free the names: the old table's indexes and constraints go with it anyway.
        run(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
        for name, _ in constraints:
            run(f'ALTER TABLE {OLD} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            run(f'DROP INDEX "{name}"')
        run(f'ALTER INDEX "{TABLE}_pkey" RENAME TO "{OLD}_pkey"')
        run(f"ALTER SEQUENCE {sequence} RENAME TO {OLD}_id_seq")

        like = (
            f"(LIKE {OLD} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING STORAGE "
            f"INCLUDING COMMENTS INCLUDING COMPRESSION)"
        )
        if partitioned:
            run(f"CREATE TABLE {TABLE} {like} PARTITION BY RANGE (occurred_at)")
            run(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT")
            this_month = datetime.now(UTC).date().replace(day=1)
            ahead = [this_month]
            for _ in range(MONTHS_AHEAD):
                ahead.append(_next_month(ahead[-1]))
            for month in sorted(months | set(ahead)):
                run(
                    f"CREATE TABLE {_partition_name(month)} PARTITION OF {TABLE} "
                    f"FOR VALUES FROM ({_bound(month)}) TO ({_bound(_next_month(month))})"
                )
        else:
            run(f"CREATE TABLE {TABLE} {like}")

        run(f"INSERT INTO {TABLE} SELECT * FROM {OLD}")
        last_value, is_called = _fetch(cursor, f"SELECT last_value, is_called FROM {OLD}_id_seq")[
            0
        ]
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, %s)",
            [TABLE, last_value, is_called],
        )

        key = "(id, occurred_at)" if partitioned else "(id)"
        run(f'ALTER TABLE {TABLE} ADD CONSTRAINT "{TABLE}_pkey" PRIMARY KEY {key}')
        for _, definition in indexes:
            # "CREATE INDEX name ON [ONLY] <schema>.audit_accessevent ...": ONLY (a partitioned
            # index's own definition) would leave the new partitions without it.
            run(definition.replace(" ON ONLY ", " ON ", 1))
        for name, definition in constraints:
            run(f'ALTER TABLE {TABLE} ADD CONSTRAINT "{name}" {definition}')
        run(APPEND_ONLY_TRIGGER)
        run(f"DROP TABLE {OLD}")
        # autovacuum never analyses a partitioned parent: plans need its statistics once.
        run(f"ANALYZE {TABLE}")


def partition(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _rebuild(schema_editor, partitioned=True)


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _rebuild(schema_editor, partitioned=False)


class Migration(migrations.Migration):
    dependencies = [("audit", "0006_replayed_answer_resource")]

    operations = [migrations.RunPython(partition, unpartition)]
