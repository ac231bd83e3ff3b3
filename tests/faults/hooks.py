"""The project's Celery app with a fault point, for workers a test will SIGKILL at a known
moment: `celery -A tests.faults.hooks worker` with

- FAULT_POINT=adherence_batch:N : the weekly job hangs inside its N-th batch's transaction,
  after the batch's rows were written and before they are committed;
- FAULT_POINT=reminders:N : the N-th reminders run hangs inside its transaction, after its
  reminders and notifications were written;
- PUSH_SENDER=tests.faults.hooks.HangingPushSender and FAULT_POINT=push:N : the N-th push
  hangs in flight (claimed, not yet handed to the push service);
- FAULT_BATCH_SIZE: patients per batch of the weekly job (small, to have several batches);
- FAULT_MARKER: a file created when the worker reaches the point, so the test knows when
  to kill it.

Nothing here is imported by the project itself.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
django.setup()

from backend.alerts.push import PushResult  # noqa: E402
from backend.alerts.services import adherence, reminders  # noqa: E402
from config.celery import app  # noqa: E402
from tests.fakes import RecordingPushSender  # noqa: E402

__all__ = ["HangingPushSender", "app"]

POINT, _, NTH = os.environ.get("FAULT_POINT", "").partition(":")
_reached: dict[str, int] = {}


def _count_and_maybe_hang(point: str) -> None:
    if point != POINT:
        return
    _reached[point] = _reached.get(point, 0) + 1
    if _reached[point] == int(NTH or 1):
        Path(os.environ["FAULT_MARKER"]).write_text(point)
        while True:  # until the test kills this worker
            time.sleep(1)


if os.environ.get("FAULT_BATCH_SIZE"):
    adherence.BATCH_SIZE = int(os.environ["FAULT_BATCH_SIZE"])

_evaluate_batch = adherence._evaluate_batch


def _evaluate_batch_with_fault(*args: Any, **kwargs: Any) -> adherence.BatchResult:
    result = _evaluate_batch(*args, **kwargs)
    _count_and_maybe_hang("adherence_batch")  # still inside the batch's transaction
    return result


adherence._evaluate_batch = _evaluate_batch_with_fault

_send_due = reminders._send_due


def _send_due_with_fault(*args: Any, **kwargs: Any) -> int:
    sent = _send_due(*args, **kwargs)
    _count_and_maybe_hang("reminders")  # still inside the run's transaction
    return sent


reminders._send_due = _send_due_with_fault


class HangingPushSender(RecordingPushSender):
    def send(
        self, *, token: str, platform: str, title: str, body: str, data: dict[str, str]
    ) -> PushResult:
        _count_and_maybe_hang("push")
        return super().send(token=token, platform=platform, title=title, body=body, data=data)
