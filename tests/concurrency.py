"""One piece of work run from many threads at the same instant, for the race tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def all_at_once(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Calls work(0) … work(count - 1), each in a thread of its own, released together by a
    barrier; returns what each call returned, or the exception it raised, in order.

    Each thread closes the database connection Django opened for it: left open, it would keep
    the test database from being flushed or dropped."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except Exception as error:  # collected and asserted by the test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
