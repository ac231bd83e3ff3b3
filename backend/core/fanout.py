"""A periodic job spread over any number of workers.

A beat tick runs a small coordinator: it takes the job's lock, pages patients by key
(`pk > last`, a bounded page) and publishes one chunk task per page on the "jobs" queue. Each
chunk is its own transaction, idempotent (unique constraints), and retried alone.

The run is a lock plus a counter of unfinished pieces, both in the Django cache (Redis in
production, so shared by every worker and machine; they expire, so a run whose worker died
frees the job after `timeout`):

- the lock, `cache.add(key, token, timeout)`: a tick that finds the previous run still going
  starts nothing; only the run holding the token releases it;
- the counter starts at 1 (the coordinator's own share) and goes up by one before each chunk
  is published, so it cannot reach 0 while chunks are still being published; each finished
  piece takes one off, and the piece that brings it to 0 ends the run: it releases the lock
  and, if no piece failed, runs the job's completion (the reminders' checkpoint).

Nothing depends on the cache being right: if it loses the counter, the run ends by expiry
and the job's completion does not run (its checkpoint stays behind, so the next run covers
the same window again, and its unique constraints make that add nothing).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.cache import cache
from django.db.models import Model, QuerySet

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Run:
    job: str
    token: str
    timeout: int  # seconds: the lock and the counter expire after this long


@dataclass(frozen=True)
class FanOut:
    """What a coordinator did: nothing while the previous run holds the lock."""

    started: bool
    chunks: int = 0


def _lock(job: str) -> str:
    return f"jobs:{job}:lock"


def _pending(job: str, token: str) -> str:
    return f"jobs:{job}:{token}:pending"


def _failed(job: str, token: str) -> str:
    return f"jobs:{job}:{token}:failed"


def run_begin(job: str, *, timeout: int) -> Run | None:
    """The job's lock and a new run, or None while a previous run holds the lock."""
    token = uuid.uuid4().hex
    if not cache.add(_lock(job), token, timeout):
        logger.info("%s: the previous run is still going; this tick starts nothing", job)
        return None
    cache.set(_pending(job, token), 1, timeout)  # the coordinator's own share
    return Run(job, token, timeout)


def keyset_batches(queryset: QuerySet[M], size: int) -> Iterator[list[M]]:
    """The rows of `queryset` by ascending primary key, `size` at a time. Each page is one
    query (`pk > last`, `LIMIT size`; no OFFSET, so as fast on the last page), read whole
    before the next: memory holds one page however large the table, and no cursor outlives
    its query. `iterator()` would not do: outside a transaction it opens a server-side cursor,
    which PgBouncer in transaction mode breaks, and with DISABLE_SERVER_SIDE_CURSORS it reads
    the whole result at once."""
    return _keyset(queryset, size, lambda row: row.pk)


def keyset_pages(queryset: QuerySet[Model], size: int) -> Iterator[list[int]]:
    """The primary keys of `queryset`, ascending, `size` at a time (as `keyset_batches`)."""
    return _keyset(queryset.values_list("pk", flat=True), size, lambda pk: pk)


def _keyset(queryset: QuerySet[Any], size: int, key: Callable[[Any], Any]) -> Iterator[list[Any]]:
    if size < 1:
        raise ValueError(f"page size must be at least 1, not {size}")
    last: Any = None
    while True:
        page = queryset.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        rows = list(page[:size])
        if rows:
            yield rows
        if len(rows) < size:  # a short page is the last: no query for an empty one
            return
        last = key(rows[-1])


def fan_out(run: Run, pages: Iterator[list[int]], publish: Callable[[list[int]], bool]) -> bool:
    """Publishes a chunk per page (`publish` returns False when the broker refused it), then
    finishes the coordinator's share. True if this ended the run with every piece done
    (possible when there were no pages, or when chunks ran at once, eagerly)."""
    complete = True
    for ids in pages:
        try:
            cache.incr(_pending(run.job, run.token))
        except ValueError:  # the run expired while publishing: its chunks still run
            logger.warning("%s: run %s expired while publishing", run.job, run.token)
        if not publish(ids):  # the broker is down: the rest waits for the next tick
            piece_done(run.job, run.token, ok=False)
            complete = False
            break
    return piece_done(run.job, run.token, ok=complete)


def piece_done(job: str, token: str, *, ok: bool) -> bool:
    """One piece of the run (a chunk, or the coordinator's share) is finished, for good:
    succeeded, or failed with no retry left. True when it was the last one and no piece
    failed; the caller then runs the job's completion. The last piece releases the lock."""
    if not ok:
        cache.set(_failed(job, token), True, 24 * 60 * 60)
    try:
        left = cache.decr(_pending(job, token))
    except ValueError:  # expired, or the cache lost it: the lock has expired too
        logger.warning("%s: run %s finished after it expired", job, token)
        return False
    if left > 0:
        return False
    complete = not cache.get(_failed(job, token))
    cache.delete_many([_pending(job, token), _failed(job, token)])
    lock_release(job, token)
    return complete


def lock_release(job: str, token: str) -> None:
    """Frees the job if `token` still holds its lock (not once it expired and another run
    took it). Between the read and the delete the lock would have to expire and be taken
    again within microseconds: with timeouts of minutes, not a case that happens."""
    if cache.get(_lock(job)) == token:
        cache.delete(_lock(job))
