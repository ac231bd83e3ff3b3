"""The weekly job and the reminders spread over workers (backend/core/fanout.py): a
coordinator pages patients by key and publishes chunks; each chunk is a transaction, safe to
repeat and retried alone; a lock keeps a second tick from starting while one runs."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from backend.alerts import tasks
from backend.alerts.models import JobCheckpoint, Reminder, RuleOverride, WeeklyAdherence
from backend.alerts.services import adherence, decline, reminders
from backend.core import fanout
from tests.alerts.test_reminders import EVERY_DAY, WEDNESDAY, _enrol, _utc
from tests.factories import PatientProfileFactory

pytestmark = pytest.mark.django_db

SETUP_DAY = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
AFTER_W48 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # Monday: week 48 has ended everywhere
WEDNESDAY_EVENING = _utc(WEDNESDAY, 17, 35)  # 17:30 reminders in London


@pytest.fixture(autouse=True)
def _made_before_the_runs() -> Iterator[None]:
    with time_machine.travel(SETUP_DAY, tick=True):
        yield


def _patients(count: int) -> list[int]:
    return [p.pk for p in PatientProfileFactory.create_batch(count)]


Chunk = tuple[Any, ...]


def _collect() -> tuple[list[Chunk], Callable[..., bool]]:
    """A publish that only records what would have been sent (no worker runs it yet)."""
    chunks: list[Chunk] = []

    def publish(*args: Any) -> bool:
        chunks.append(args)
        return True

    return chunks, publish


# --- The weekly job ---------------------------------------------------------------------------


def test_every_patient_is_evaluated_exactly_once_across_chunks(db):
    ids = sorted(_patients(7))
    chunks, publish = _collect()

    # when the coordinator pages by 3 and each chunk is run by "a worker"
    with time_machine.travel(AFTER_W48, tick=False):
        fanned = adherence.adherence_fan_out(
            now=AFTER_W48, week_start=None, publish=publish, page_size=3
        )
        results = [
            adherence.adherence_chunk_run(now=now, week_start=week, patient_ids=pids, token=token)
            for now, week, pids, token in chunks
        ]

    # then the pages are bounded and together hold every patient once
    pages = [pids for _, _, pids, _ in chunks]
    assert fanned.chunks == len(pages) >= 3
    assert all(len(page) <= 3 for page in pages)
    assert sorted(pid for page in pages for pid in page) == ids
    # and every patient's ended week is evaluated once
    evaluated = Counter(
        WeeklyAdherence.objects.filter(patient_id__in=ids).values_list("patient_id", flat=True)
    )
    assert evaluated == dict.fromkeys(ids, 1)
    assert sum(r.evaluated for r in results) == len(ids)


def test_the_weekly_task_run_twice_adds_nothing(db, jobs_run_inline, monkeypatch):
    _patients(5)
    monkeypatch.setattr(adherence, "BATCH_SIZE", 2)

    with time_machine.travel(AFTER_W48, tick=False):
        first_chunks = tasks.evaluate_adherence()
        first = WeeklyAdherence.objects.count()
        second_chunks = tasks.evaluate_adherence()

    assert first_chunks == second_chunks == 3  # 5 patients by 2: each run looks at everyone
    assert first == 5
    assert WeeklyAdherence.objects.count() == first


def test_a_chunk_that_raises_is_retried_alone_and_the_others_stand(
    db, jobs_run_inline, monkeypatch
):
    # given 6 patients in chunks of 2; the second chunk's database fails once
    ids = sorted(_patients(6))
    monkeypatch.setattr(adherence, "BATCH_SIZE", 2)
    monkeypatch.setattr(tasks, "chunk_backoff", lambda retries: 0)
    real = adherence.adherence_evaluate
    runs: Counter[tuple[int, ...]] = Counter()

    def flaky(**kwargs: Any) -> adherence.BatchResult:
        chunk = tuple(kwargs["patient_ids"])
        runs[chunk] += 1
        if chunk == tuple(ids[2:4]) and runs[chunk] == 1:
            WeeklyAdherence.objects.bulk_create(  # written, then rolled back with the chunk
                [WeeklyAdherence(patient_id=ids[2], week_start=date(2026, 11, 23), sessions=0)]
            )
            raise OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)

    monkeypatch.setattr(adherence, "adherence_evaluate", flaky)

    # when the hourly task runs
    with time_machine.travel(AFTER_W48, tick=False):
        tasks.evaluate_adherence()

    # then only that chunk ran again, and every patient's week is there once
    assert runs == {tuple(ids[0:2]): 1, tuple(ids[2:4]): 2, tuple(ids[4:6]): 1}
    evaluated = Counter(WeeklyAdherence.objects.values_list("patient_id", flat=True))
    assert evaluated == dict.fromkeys(ids, 1)
    # and the run is over: the next tick may start
    assert fanout.run_begin(adherence.JOB, timeout=60) is not None


def test_a_chunk_that_fails_for_good_leaves_only_its_patients_for_the_next_tick(
    db, jobs_run_inline, monkeypatch
):
    ids = sorted(_patients(4))
    monkeypatch.setattr(adherence, "BATCH_SIZE", 2)
    monkeypatch.setattr(tasks, "chunk_backoff", lambda retries: 0)
    real = adherence.adherence_evaluate
    broken = True

    def failing(**kwargs: Any) -> adherence.BatchResult:
        if broken and kwargs["patient_ids"] == ids[2:4]:
            raise OperationalError("deadlock detected")
        return real(**kwargs)

    monkeypatch.setattr(adherence, "adherence_evaluate", failing)

    with time_machine.travel(AFTER_W48, tick=False):
        tasks.evaluate_adherence()  # the chunk is tried 1 + CHUNK_RETRIES times, then fails
        done = set(WeeklyAdherence.objects.values_list("patient_id", flat=True))
        broken = False
        tasks.evaluate_adherence()  # the next tick is not locked out

    assert done == set(ids[0:2])
    assert set(WeeklyAdherence.objects.values_list("patient_id", flat=True)) == set(ids)


def test_a_tick_that_finds_the_previous_run_going_starts_nothing(db):
    _patients(4)
    chunks, publish = _collect()
    during: list[fanout.FanOut] = []

    def publish_and_tick_again(*args: Any) -> bool:
        during.append(adherence.adherence_fan_out(now=AFTER_W48, week_start=None, publish=publish))
        return publish(*args)

    with time_machine.travel(AFTER_W48, tick=False):
        # when a second tick comes while the first is publishing
        first = adherence.adherence_fan_out(
            now=AFTER_W48, week_start=None, publish=publish_and_tick_again, page_size=2
        )
        # and another after it published, while its chunks wait for workers
        waiting = adherence.adherence_fan_out(now=AFTER_W48, week_start=None, publish=publish)
        for now, week, pids, token in chunks:
            adherence.adherence_chunk_run(now=now, week_start=week, patient_ids=pids, token=token)
        # and one once its last chunk is done
        after = adherence.adherence_fan_out(now=AFTER_W48, week_start=None, publish=publish)

    assert first == fanout.FanOut(started=True, chunks=2)
    assert {d.started for d in during} == {False}
    assert waiting == fanout.FanOut(started=False)
    assert after.started
    assert WeeklyAdherence.objects.count() == 4  # the later ticks found nothing to do


def test_the_lock_expires_when_a_run_dies():
    run = fanout.run_begin("test-job", timeout=1)
    assert run is not None
    assert fanout.run_begin("test-job", timeout=1) is None
    time.sleep(1.1)  # LocMem expires on the real clock (the run's worker was killed)

    again = fanout.run_begin("test-job", timeout=60)
    assert again is not None
    fanout.lock_release("test-job", run.token)  # the dead run's token no longer holds it
    assert fanout.run_begin("test-job", timeout=60) is None


# --- The reminders ----------------------------------------------------------------------------


def test_every_patient_is_reminded_once_and_the_checkpoint_moves_with_the_last_chunk(
    world, library
):
    patients = [_enrol(world, library, weekdays=EVERY_DAY)[0] for _ in range(5)]
    chunks, publish = _collect()

    with time_machine.travel(WEDNESDAY_EVENING, tick=False):
        fanned = reminders.reminders_fan_out(at=WEDNESDAY_EVENING, publish=publish, page_size=2)
        checkpoints = []
        for at, since, pids, token in chunks:
            checkpoints.append(JobCheckpoint.objects.filter(name=reminders.CHECKPOINT).exists())
            reminders.reminders_chunk_run(at=at, since=since, patient_ids=pids, token=token)

    assert fanned.chunks == 3
    assert checkpoints == [False, False, False]  # not while a chunk is still to run
    assert JobCheckpoint.objects.get(name=reminders.CHECKPOINT).completed_until == (
        WEDNESDAY_EVENING
    )
    reminded = Counter(Reminder.objects.values_list("patient_id", flat=True))
    assert reminded == {p.pk: 1 for p in patients}


def test_a_reminders_chunk_that_fails_for_good_keeps_the_checkpoint_so_nobody_is_skipped(
    world, library, jobs_run_inline, monkeypatch
):
    patients = sorted(
        (_enrol(world, library, weekdays=EVERY_DAY)[0] for _ in range(4)), key=lambda p: p.pk
    )
    monkeypatch.setattr(reminders, "PAGE_SIZE", 2)
    real = reminders._send_due
    broken = True

    def failing(at: datetime, window: Any, failed: set[int], patient_ids: Any = None) -> int:
        if broken and patient_ids == [p.pk for p in patients[2:]]:
            raise ValueError("a bug, not a passing error: no retry")
        return real(at, window, failed, patient_ids)

    monkeypatch.setattr(reminders, "_send_due", failing)

    with time_machine.travel(WEDNESDAY_EVENING, tick=False):
        tasks.run_reminders()
    first = set(Reminder.objects.values_list("patient_id", flat=True))
    broken = False
    five_later = _utc(WEDNESDAY, 17, 40)
    with time_machine.travel(five_later, tick=False):
        tasks.run_reminders()

    assert first == {p.pk for p in patients[:2]}
    assert Counter(Reminder.objects.values_list("patient_id", flat=True)) == {
        p.pk: 1 for p in patients
    }
    assert JobCheckpoint.objects.get(name=reminders.CHECKPOINT).completed_until == five_later


# --- Every job in bounded pages, never one long cursor ----------------------------------------
# Behind PgBouncer in transaction mode (DATABASE_DISABLE_SERVER_SIDE_CURSORS=1) iterator() would
# read a whole table in one go: the jobs read a page (`pk > last LIMIT n`) at a time instead.


def _page_reads(queries: CaptureQueriesContext, table: str) -> list[str]:
    """The reads of `table` in key order: the pages."""
    return [
        q["sql"]
        for q in queries.captured_queries
        if f'FROM "{table}"' in q["sql"] and f'ORDER BY "{table}"."id" ASC' in q["sql"]
    ]


def test_the_weekly_job_over_more_patients_than_a_page_reads_each_once_a_page_at_a_time(
    db, monkeypatch
):
    # Given 7 patients and pages of 3
    ids = sorted(_patients(7))
    batches: list[list[int]] = []
    real = adherence._weeks_due

    def spy(batch: list[Any], *args: Any) -> Any:
        batches.append([p.pk for p in batch])
        return real(batch, *args)

    monkeypatch.setattr(adherence, "_weeks_due", spy)

    # When the whole job runs in one process (the evaluate_adherence command)
    with (
        time_machine.travel(AFTER_W48, tick=False),
        CaptureQueriesContext(connection) as queries,
    ):
        result = adherence.adherence_evaluate(now=AFTER_W48, batch_size=3)

    # Then every patient is evaluated once, in pages of at most 3
    assert batches == [ids[0:3], ids[3:6], ids[6:]]
    assert result.evaluated == 7
    # and no read of the patients can return more than a page
    pages = _page_reads(queries, "accounts_patientprofile")
    assert len(pages) == 3, pages  # the short last page ends it: no query for an empty one
    assert all("LIMIT 3" in sql for sql in pages), pages


def test_the_kidney_job_reads_its_patients_a_page_at_a_time_each_once(db, monkeypatch):
    ids = sorted(_patients(5))
    RuleOverride.objects.bulk_create(
        RuleOverride(patient_id=pid, rule_id="KID-3", parameters={"interval_days": 90})
        for pid in ids
    )
    pages: list[list[int]] = []

    def findings(*, patient_ids: list[int], now: datetime) -> list[Any]:
        pages.append(patient_ids)
        return []

    monkeypatch.setattr(decline, "kidney_overdue_findings", findings)

    with CaptureQueriesContext(connection) as queries:
        decline.kidney_overdue_run(now=AFTER_W48, page_size=2)

    assert pages == [ids[0:2], ids[2:4], ids[4:]]
    reads = _page_reads(queries, "alerts_ruleoverride")
    assert len(reads) == 3, reads
    assert all("LIMIT 2" in sql for sql in reads), reads


def test_the_reminders_command_sends_a_page_of_patients_at_a_time_each_once(
    world, library, monkeypatch
):
    patients = [_enrol(world, library, weekdays=EVERY_DAY)[0] for _ in range(5)]
    monkeypatch.setattr(reminders, "PAGE_SIZE", 2)
    pages: list[list[int]] = []
    real = reminders._send_due

    def spy(at: datetime, window: Any, failed: set[int], patient_ids: Any = None) -> int:
        pages.append(patient_ids)
        return real(at, window, failed, patient_ids)

    monkeypatch.setattr(reminders, "_send_due", spy)

    with time_machine.travel(WEDNESDAY_EVENING, tick=False):
        run = reminders.reminders_run(at=WEDNESDAY_EVENING)

    paged = [pid for page in pages for pid in page]
    assert all(len(page) <= 2 for page in pages)
    assert len(paged) == len(set(paged)) >= 5
    assert set(paged) == set(reminders._eligible().values_list("pk", flat=True))
    assert run.sent == 5
    assert Counter(Reminder.objects.values_list("patient_id", flat=True)) == {
        p.pk: 1 for p in patients
    }
