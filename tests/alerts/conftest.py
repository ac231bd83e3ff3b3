from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from backend.alerts.push import push_sender
from tests.exercise.conftest import library, programme  # noqa: F401  # shared fixtures
from tests.fakes import RecordingPushSender


@pytest.fixture
def recorded_pushes(settings: Any) -> Iterator[list[dict[str, Any]]]:
    """Pushes go to the recording fake; yields the list of what was 'sent'."""
    settings.PUSH_SENDER = "tests.fakes.RecordingPushSender"
    push_sender.cache_clear()
    RecordingPushSender.sent.clear()
    yield RecordingPushSender.sent
    push_sender.cache_clear()
