"""CI runs the PostgreSQL suite through PgBouncer in transaction mode (.ci/run,
.ci/pgbouncer.ini). This proves it does, from PgBouncer's side: its admin console, which only
PgBouncer answers (PostgreSQL has no database "pgbouncer"), lists the suite's own connection
among its clients, on a pool in transaction mode. A port number or an application_name would
prove nothing: any server can listen anywhere and any client can name itself.

It runs when PHYSIOTRACK_EXPECT_PGBOUNCER=1 (.ci/run sets it for that run); otherwise it
skips and says why."""

from __future__ import annotations

import os
import socket
from typing import Any

import psycopg
import pytest
from django.db import connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

EXPECTED = os.environ.get("PHYSIOTRACK_EXPECT_PGBOUNCER") == "1"


def _admin(command: str) -> list[dict[str, Any]]:
    """One SHOW command on the admin console of whatever listens at the suite's database
    address."""
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"],
        port=db["PORT"],
        user=db["USER"],
        dbname="pgbouncer",
        autocommit=True,
        connect_timeout=5,
    ) as admin:
        cursor = admin.execute(command)
        names = [column.name for column in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _our_client_port() -> int:
    """The local port of the suite's own database connection (a duplicate of its socket,
    closed again: the connection itself is untouched)."""
    connection.ensure_connection()
    fd = connection.connection.pgconn.socket
    with socket.fromfd(fd, socket.AF_INET, socket.SOCK_STREAM) as ours:
        return int(ours.getsockname()[1])


@pytest.mark.skipif(
    not EXPECTED,
    reason="PHYSIOTRACK_EXPECT_PGBOUNCER is not 1: this run is not meant to go through "
    "PgBouncer (.ci/run sets it for the run that does)",
)
def test_the_suite_talks_to_postgresql_through_pgbouncer_in_transaction_mode():
    # Given the suite's own connection to the test database
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    port, name = _our_client_port(), connection.settings_dict["NAME"]

    # When PgBouncer is asked, on its admin console, who its clients are
    try:
        clients = _admin("SHOW CLIENTS")
        pools = _admin("SHOW POOLS")
    except psycopg.OperationalError as error:
        where = f"{connection.settings_dict['HOST']}:{connection.settings_dict['PORT']}"
        pytest.fail(f"no PgBouncer admin console at {where}, the suite's database: {error}")

    # Then ours is one of them, on the test database
    ours = [c for c in clients if c["port"] == port and c["addr"] in {"127.0.0.1", "::1"}]
    assert [c["database"] for c in ours] == [name], clients
    # and that database's pool hands out a server connection per transaction
    assert [p["pool_mode"] for p in pools if p["database"] == name] == ["transaction"], pools
    # and Django opens no server-side cursor, which would not survive the transaction
    assert connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] is True
