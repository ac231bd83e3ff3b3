"""Fixtures for the fault tests: private servers and processes they may stop and kill."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery import Task
from rest_framework_simplejwt.tokens import RefreshToken

from backend.accounts.models import User
from tests.conftest import REQUIRE_SERVICES
from tests.exercise.conftest import library, programme  # noqa: F401  # shared fixtures
from tests.faults.processes import Managed, RedisServer, wait_until
from tests.worker import _database_url


@pytest.fixture
def database_url(db: None) -> str:
    """The test database, for processes the test starts."""
    return _database_url()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own (port 6390-6399), free to be killed and restarted."""
    if shutil.which("redis-server") is None:
        reason = "needs the redis-server program to start a private Redis"
        if REQUIRE_SERVICES:
            pytest.fail(f"PHYSIOTRACK_REQUIRE_SERVICES=1 but this test {reason}")
        pytest.skip(reason)
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.kill()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def processes(request: pytest.FixtureRequest) -> Iterator[list[Managed]]:
    """Processes a test starts: killed at the end, the tails of their logs printed (shown by
    pytest) when the test failed."""
    started: list[Managed] = []
    yield started
    for process in started:
        process.kill()
    _wait_for_their_database_sessions_to_end()
    if request.node.stash.get(_FAILED, False):
        for process in started:
            print(process.tail())  # pytest shows it with the failure


def _wait_for_their_database_sessions_to_end() -> None:
    """PostgreSQL ends a killed process's sessions a moment later; until then a transaction
    it left open holds its locks and the test database cannot be flushed. Idle sessions hold
    none: behind PgBouncer (CI) the pool keeps idle server connections open between tests,
    and the suite ends them itself before dropping the database (tests/conftest.py)."""
    from django.db import connection

    def others() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend' AND state <> 'idle'"
            )
            return int(cursor.fetchone()[0])

    wait_until(lambda: others() == 0, 15, 0.1, "killed processes' database sessions to end")


def token_for(user: User) -> str:
    return str(RefreshToken.for_user(user).access_token)


def publish(broker_url: str, task: Task, *args: Any) -> None:
    """Enqueues on the given broker (as beat or an after-commit hook would there)."""
    from config.celery import app

    with app.connection_for_write(broker_url) as connection:
        app.send_task(task.name, args, connection=connection)


def recorded(path: Path) -> list[dict[str, Any]]:
    """The JSON lines a recording fake wrote (pushes or e-mails)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
