"""What a request does when a server it depends on is away: the database (503, never 500)
and the broker (the request goes on; the sweepers do the work later)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerUnavailable

from backend.alerts import tasks
from backend.core import enqueue as enqueue_module
from backend.core.enqueue import broker_pause_reset, enqueue
from backend.exercise import selectors

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("server closed the connection unexpectedly"),
        InterfaceError("connection already closed"),
    ],
    ids=["lost", "closed"],
)
def test_a_request_that_cannot_reach_the_database_gets_503_with_retry_after(
    world, client_for, monkeypatch, error
):
    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(selectors, "sessions_visible_to", unreachable)

    response = client_for(world.patient.user).get("/api/v1/sessions/")

    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert response.json() == {
        "status": 503,
        "code": "service_unavailable",
        "detail": "The service cannot reach its database just now. "
        "Please try again in a few seconds.",
        "request_id": response["X-Request-ID"],
    }


def test_other_errors_are_still_server_errors(world, client_for, monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(selectors, "sessions_visible_to", broken)
    client = client_for(world.patient.user)
    client.raise_request_exception = False

    response = client.get("/api/v1/sessions/")

    assert response.status_code == 500
    assert response.json()["code"] == "server_error"


@pytest.fixture
def broker_attempts(monkeypatch) -> Iterator[list[tuple[Any, ...]]]:
    """Publishing to a broker that refuses every connection; yields the attempts made."""
    attempts: list[tuple[Any, ...]] = []

    def refused(args: tuple[Any, ...], *rest: Any, **options: Any) -> None:
        attempts.append(args)
        raise BrokerUnavailable("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    broker_pause_reset()
    monkeypatch.setattr(tasks.evaluate_decline, "apply_async", refused)
    yield attempts
    broker_pause_reset()


def test_after_a_failed_publish_the_process_stops_trying_for_a_while(broker_attempts, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(enqueue_module.time, "monotonic", lambda: clock[0])

    first = enqueue(tasks.evaluate_decline, 1)
    clock[0] += 5
    during_pause = enqueue(tasks.evaluate_decline, 2)
    clock[0] += enqueue_module.PAUSE_AFTER_FAILURE
    after_pause = enqueue(tasks.evaluate_decline, 3)

    assert (first, during_pause, after_pause) == (False, False, False)
    assert broker_attempts == [(1,), (3,)]  # the second was not even tried
