"""One patient's bad stored setting (a RuleOverride of {"days_without_session": "abc"}, a
corrupt JSON field) must never stop a periodic job for everyone else. Jobs stay set-based:
only when a batch's evaluation raises is it split, each part in its own savepoint, down to
the patient whose evaluation raises: logged with their id, counted, skipped."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.db import transaction

logger = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


@contextmanager
def patient_isolated(job: str, patient_id: int, failed: set[int]) -> Iterator[None]:
    """Runs the block for one patient; if it raises, logs the error with the patient's id,
    records them in `failed` and lets the caller go on with the next patient. Wrap database
    work in `transaction.atomic()` inside this block, so its savepoint is rolled back first."""
    try:
        yield
    except Exception:  # any error of this one patient's evaluation: logged, then skipped
        patient_failed(job, patient_id, failed)


def patient_failed(job: str, patient_id: int, failed: set[int]) -> None:
    """In an `except` block: logs the error being handled with the patient's id, and records
    the patient in `failed`."""
    logger.exception(
        "%s: patient %s skipped, their evaluation failed",
        job,
        patient_id,
        extra={"patient_id": patient_id, "job": job},
    )
    failed.add(patient_id)


def isolate_failures(
    job: str,
    items: list[T],
    run: Callable[[list[T]], R],
    patient_id: Callable[[T], int],
    failed: set[int],
) -> list[R]:
    """Runs `run` once on the whole batch, in a savepoint: the happy path costs nothing more.
    If it raises, each half runs apart, and so on down to the patients whose run raises
    alone: they are logged and added to `failed`; everyone else is evaluated as usual. One
    bad patient in a batch of 500 costs about 2 × log2(500) = 18 more (smaller) batch runs,
    not 500 single-patient runs. Returns the results of the runs that succeeded."""
    if len(items) == 1:
        with patient_isolated(job, patient_id(items[0]), failed), transaction.atomic():
            return [run(items)]
        return []
    try:
        with transaction.atomic():
            return [run(items)]
    except Exception:  # somewhere in this batch: split it (outside this block, so that the
        # culprit's logged error is not chained to every enclosing batch's)
        logger.debug("%s: a batch of %d raised; splitting it", job, len(items), exc_info=True)
    middle = len(items) // 2
    return isolate_failures(job, items[:middle], run, patient_id, failed) + isolate_failures(
        job, items[middle:], run, patient_id, failed
    )
