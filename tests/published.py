"""What reaches the broker: each published task's name, arguments and queue, captured at the
Celery boundary (the `before_task_publish` signal, after routing), whatever the broker."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from celery.signals import before_task_publish


@dataclass(frozen=True)
class Published:
    task: str
    args: tuple[Any, ...]
    queue: str


@contextmanager
def published_tasks() -> Iterator[list[Published]]:
    seen: list[Published] = []

    def record(
        sender: str | None = None,
        body: Any = None,
        routing_key: str = "",
        headers: dict[str, Any] | None = None,
        **_: Any,
    ) -> None:
        args = body[0] if isinstance(body, tuple) else ()
        seen.append(Published(str(sender), tuple(args), routing_key))

    before_task_publish.connect(record, weak=False)
    try:
        yield seen
    finally:
        before_task_publish.disconnect(record)
