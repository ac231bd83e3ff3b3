from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine

from tests.alerts.conftest import recorded_pushes  # noqa: F401  # the push fake, shared
from tests.exercise.conftest import library, programme  # noqa: F401  # shared fixtures

WEDNESDAY = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen_week() -> Iterator[None]:
    """Everything a test makes is made inside this frozen week, whatever today's date is."""
    with time_machine.travel(WEDNESDAY, tick=True):
        yield
