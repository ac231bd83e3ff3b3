"""Writing a new session log and its item results in as few round trips as the database allows.

The hottest write (issue #12): on PostgreSQL the log and its results go in one statement, a
data-modifying `WITH`; SQLite has no such statement and takes two. Either way a log whose
client_id is already stored is not written (`ON CONFLICT … DO NOTHING`): the unique
constraint decides a race between two uploads without an error, so no savepoint is needed
to recover from one.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Field, Model

from backend.exercise.models import SessionItemResult, SessionLog


def _columns(model: type[Model], *, leave_out: tuple[str, ...] = ()) -> list[Field[Any, Any]]:
    """The model's stored columns the INSERT names (not the generated primary key)."""
    return [
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and field.name not in leave_out
    ]


def _row(fields: list[Field[Any, Any]], obj: Model) -> list[Any]:
    """The values Django's own INSERT would send (auto_now and defaults filled in on `obj`)."""
    return [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]


def _names(fields: list[Field[Any, Any]]) -> str:
    # A concrete field always has its column (the stubs allow None, for non-concrete ones).
    return ", ".join(connection.ops.quote_name(field.column or field.attname) for field in fields)


def _log_insert_sql(session: SessionLog) -> tuple[str, list[Any]]:
    fields = _columns(SessionLog)
    table, quote = SessionLog._meta.db_table, connection.ops.quote_name
    conflict = _names(
        [SessionLog._meta.get_field("patient"), SessionLog._meta.get_field("client_id")]
    )
    sql = (
        f"INSERT INTO {quote(table)} ({_names(fields)}) "  # noqa: S608  # names from the models
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({conflict}) DO NOTHING RETURNING {quote('id')}"
    )
    return sql, _row(fields, session)


def session_log_insert(session: SessionLog, results: list[SessionItemResult]) -> bool:
    """Inserts `session` and `results` (whose `session` is `session`, not yet saved) unless a
    log with the same patient and client_id is stored; whether it did. On success `session`
    has its id and is saved as far as Django knows; `results` are not re-read (the response
    has what it needs from them), so they carry no id."""
    log_sql, log_params = _log_insert_sql(session)
    if connection.vendor != "postgresql" or not results:
        with connection.cursor() as cursor:
            cursor.execute(log_sql, log_params)
            row = cursor.fetchone()
        if row is None:
            return False
        _saved(session, row[0])
        for result in results:
            result.session = session
        SessionItemResult.objects.bulk_create(results)
        return True
    fields = _columns(SessionItemResult, leave_out=("session",))
    # Each value cast to its column's type: in VALUES a column of NULLs would be text. Text
    # goes as text: an explicit cast to varchar(n) would truncate silently, where the
    # assignment to the column refuses a value too long.
    casts = ", ".join(f"CAST(%s AS {_cast_type(field)})" for field in fields)
    quote = connection.ops.quote_name
    sql = (
        f"WITH log AS ({log_sql}), "  # noqa: S608  # names from the models, values as params
        f"written AS (INSERT INTO {quote(SessionItemResult._meta.db_table)} "
        f"({quote('session_id')}, {_names(fields)}) "
        f"SELECT log.id, item.* FROM log CROSS JOIN "
        f"(VALUES {', '.join([f'({casts})'] * len(results))}) AS item) "
        "SELECT id FROM log"
    )
    params = [*log_params, *(value for result in results for value in _row(fields, result))]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    _saved(session, row[0])
    return True


def _cast_type(field: Any) -> str:
    if field.get_internal_type() in {"CharField", "TextField"}:
        return "text"
    return str(field.db_type(connection))


def _saved(obj: Model, pk: int) -> None:
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = connection.alias
