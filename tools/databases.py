"""PostgreSQL databases of their own for the scripts that need one (`make bench`, `make fuzz`,
`make chaos`), made through the server's maintenance database."""

from __future__ import annotations


def ensure_database(server: str, name: str) -> str:
    """Creates `name` on `server` (a URL without a database) unless it exists; its URL."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def recreate_database(server: str, name: str) -> str:
    """Drops `name` (closing its connections) and creates it empty; its URL."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"
