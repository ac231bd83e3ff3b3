"""Publishing tasks after a commit without letting a broker outage slow down or fail the
request that committed.

Everything enqueued this way is also a row that a periodic sweeper re-drives (notification
deliveries, decline checks), so the publish only makes the work start sooner. When the
broker is unreachable the caller goes on, and this process stops trying for a short while:
otherwise every task of every request would pay a connection timeout while it is down.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerUnavailable

logger = logging.getLogger(__name__)

PAUSE_AFTER_FAILURE = 15.0  # seconds; the sweepers run every 1-5 minutes
_paused_until = 0.0


def enqueue(task: Task, *args: Any, queue: str | None = None) -> bool:
    """Publishes the task unless the broker failed in the last few seconds; True if sent.
    `queue` overrides the task's route (CELERY_TASK_ROUTES) for this one message: a delivery
    of an emergency alert goes to "urgent" although deliveries are routed to "default"."""
    global _paused_until
    if time.monotonic() < _paused_until:
        return False
    try:
        if queue is None:
            task.apply_async(args)
        else:
            task.apply_async(args, queue=queue)
    except BrokerUnavailable:
        _paused_until = time.monotonic() + PAUSE_AFTER_FAILURE
        logger.warning(
            "broker unreachable: %s not enqueued; its sweeper will run it", task.name, exc_info=True
        )
        return False
    return True


def enqueue_on_commit(task: Task, *args: Any) -> None:
    """After the current transaction commits (at once outside one), `enqueue(task, *args)`."""
    transaction.on_commit(lambda: enqueue(task, *args), robust=True)


def broker_pause_reset() -> None:
    """Forgets an earlier failure (tests, and a process that knows the broker is back)."""
    global _paused_until
    _paused_until = 0.0
