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


@pytest.fixture
def jobs_run_inline() -> Iterator[None]:
    """The periodic jobs' chunks run at once, in this process, when their coordinator
    publishes them (CELERY_TASK_ALWAYS_EAGER), as workers would run them a moment later."""
    from config.celery import app

    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False
