"""The periodic jobs spread over real Celery workers (issue 12), run by `make bench`:

    python -m bench.scale scale-out --patients 100000
    python -m bench.scale emergency --patients 100000
    python -m bench.scale reminders --patients 1000000
    python -m bench.scale bulk-export --patients 100000

scale-out: the weekly adherence job for every patient, run through the broker by 1 and then
by 2 worker processes on the "jobs" queue (same machine, same data): wall time from the
coordinator's publication to the end of its last chunk, and each worker's peak RSS.

emergency: the production layout of docker-compose.yml (a worker for "urgent", one for
"default", one for "bulk,jobs") and gunicorn (tests/faults' LiveApp). While the weekly job
and its bulk deliveries run, a patient posts a session log with a red-flag symptom every
second; the latency is the time from the POST leaving the client to the push sender (a
recording fake: push services are outside the machine) receiving the emergency push.

reminders: `--patients` patients in one time zone, all due at 17:30 (their own database,
generated here by cloning one patient), swept by the coordinator and its chunks on 2 worker
processes; done when the run releases its lock; each chunk's run time from the workers' log.

bulk-export: `GET /fhir/$export` of the whole organisation by its admin (issue #14), run by one
worker process on the "bulk" queue (prefork, one slot, as docker-compose's worker-jobs): wall
time from the kick-off to the job's completion, the worker's peak RSS, and what it wrote
(Patient and Observation NDJSON, four assessments a patient added to the data set here once).

scale-out, emergency and bulk-export use the data set of `python -m bench.jobs generate`
(physiotrack_bench_<n>), with a care-team seat for every patient (so the job's alerts make
bulk deliveries) added here once. All use Redis databases of their own and print one RESULT
line of JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.jobs import SERVER, evaluated_week
from tests.faults.processes import LiveApp, Managed, celery_worker, wait_until
from tools.databases import ensure_database

BROKER_URL = os.environ.get("BENCH_SCALE_BROKER_URL", "redis://127.0.0.1:6379/12")
CACHE_URL = os.environ.get("BENCH_SCALE_CACHE_URL", "redis://127.0.0.1:6379/13")
SETTINGS = "bench.settings"
PUSHES = "pushes.jsonl"
RED_FLAG_POSTS = 60  # one a second, each by another patient (a red flag pauses the programme)


def _prepare(database: str) -> str:
    """Django on `database` (created and migrated if new) with the bench's Redis; its URL."""
    os.environ.update({"CELERY_BROKER_URL": BROKER_URL, "CACHE_URL": CACHE_URL})
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    ensure_database(SERVER, database)
    url = os.environ["DATABASE_URL"] = f"{SERVER}/{database}"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url


def _prepare_job_data(patients: int) -> str:
    """The data set of `bench.jobs generate`, with a care-team seat for every patient and a
    phone for their physio, so the weekly job's alerts make bulk deliveries."""
    url = _prepare(f"physiotrack_bench_{patients}")
    from django.db import connection

    from backend.accounts.models import PushDevice, User

    physio = User.objects.get(username="bench.physio")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_careteammembership (patient_id, member_id, role, created_at) "
            "SELECT p.id, %s, 'physiotherapist', now() FROM accounts_patientprofile p "
            "WHERE NOT EXISTS (SELECT 1 FROM accounts_careteammembership m "
            "WHERE m.patient_id = p.id AND m.member_id = %s)",
            [physio.pk, physio.pk],
        )
    PushDevice.objects.get_or_create(user=physio, platform="android", token="bench-physio-phone")
    return url


def _reset(week: Any) -> None:
    """The job's output of an earlier run, and anything still queued, is dropped."""
    from django.core.cache import cache

    from backend.alerts.models import Alert, Notification, WeeklyAdherence
    from config.celery import app

    WeeklyAdherence.objects.filter(week_start=week).delete()
    Notification.objects.all().delete()
    Alert.objects.all().delete()
    app.control.purge()
    cache.clear()


def _worker_env(run_dir: Path, url: str) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "CACHE_URL": CACHE_URL,
        "PUSH_SENDER": "bench.scale.TimedRecordingSender",
        "PUSH_RECORD_FILE": str(run_dir / PUSHES),
        "DATABASE_URL": url,
    }


def _workers(run_dir: Path, url: str, layout: dict[str, tuple[str, int]]) -> list[Managed]:
    """One worker process tree per entry: name -> (queues, concurrency)."""
    workers = []
    for name, (queues, concurrency) in layout.items():
        worker = celery_worker(
            run_dir,
            name=name,
            broker_url=BROKER_URL,
            database_url=url,
            pool="prefork",
            concurrency=concurrency,
            **_worker_env(run_dir, url),
        )
        worker.command += ["-Q", queues]
        workers.append(worker)
    return workers


def _broker() -> Any:
    import redis

    return redis.Redis.from_url(BROKER_URL)


def _ready(count: int) -> None:
    from config.celery import app

    wait_until(lambda: len(app.control.ping(timeout=0.5) or []) >= count, 60, 0.2, "workers up")


def _peak_rss_mb(worker: Managed) -> float:
    """The largest peak resident set (VmHWM) of the worker's processes: the pool children do
    the work, the parent only hands it out."""
    if worker.process is None:
        return 0.0
    group = worker.process.pid
    peaks = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != group:  # the process group id
                continue
            status = (stat.parent / "status").read_text()
        except (OSError, IndexError, ValueError):
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return round(max(peaks, default=0.0), 1)


def _job_runs(job: str) -> tuple[Any, Any]:
    """Functions telling whether a run of `job` (backend/core/fanout.py) holds its lock, and
    whether it has ended (held once, and released)."""
    from django.core.cache import cache

    lock = f"jobs:{job}:lock"
    seen = threading.Event()

    def running() -> bool:
        held = cache.get(lock) is not None
        if held:
            seen.set()
        return held

    def ended() -> bool:
        return not running() and seen.is_set()

    return running, ended


def _timed_run(workers: list[Managed], job: str, start: Any) -> tuple[float, list[float]]:
    """Starts the workers, calls `start()` (which publishes the job's coordinator) and waits
    for the run of `job` to end; its wall time and each worker's peak RSS. Workers stopped."""
    for worker in workers:
        worker.start()
    try:
        _ready(len(workers))
        _, ended = _job_runs(job)
        started = time.perf_counter()
        start()
        wait_until(ended, 3600, 0.2, f"the {job} run")
        seconds = time.perf_counter() - started
        return seconds, [_peak_rss_mb(worker) for worker in workers]
    finally:
        for worker in workers:
            worker.stop()


def scale_out(patients: int) -> dict[str, Any]:
    url = _prepare_job_data(patients)
    from backend.alerts.models import WeeklyAdherence
    from backend.alerts.services.adherence import JOB
    from backend.alerts.tasks import evaluate_adherence

    week = evaluated_week(datetime.now(UTC))
    runs: dict[str, Any] = {}
    for processes in (1, 2):
        _reset(week)
        run_dir = Path(tempfile.mkdtemp(prefix=f"bench-scale-{processes}-"))
        (run_dir / PUSHES).touch()
        layout = {f"jobs{n}": ("jobs", 1) for n in range(1, processes + 1)}
        seconds, rss = _timed_run(
            _workers(run_dir, url, layout), JOB, lambda: evaluate_adherence.delay(week.isoformat())
        )
        runs[str(processes)] = {
            "seconds": round(seconds, 1),
            "evaluated": WeeklyAdherence.objects.filter(week_start=week).count(),
            "peak_rss_mb_per_worker": rss,
        }
    return {
        "patients": patients,
        "runs": runs,
        "ratio_2_to_1": round(runs["2"]["seconds"] / runs["1"]["seconds"], 3),
    }


def _red_flag_body(version_id: int) -> bytes:
    started = datetime.now(UTC) - timedelta(minutes=40)
    body = {
        "client_id": str(uuid.uuid4()),
        "version": version_id,
        "started_at": started.isoformat(),
        "ended_at": (started + timedelta(minutes=30)).isoformat(),
        "completion": "partial",
        "effort_scale": "rpe_6_20",
        "effort_value": 13,
        "pain_before": 2,
        "pain_after": 3,
        "fatigue": 5,
        "symptoms": ["chest_pain"],
        "note": "",
        "results": [],
    }
    return json.dumps(body).encode()


def _post(base: str, token: str, body: bytes) -> int:
    request = urllib.request.Request(  # noqa: S310  # our own server on the loopback
        f"{base}/api/v1/sessions/",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return int(response.status)


def emergency(patients: int) -> dict[str, Any]:
    url = _prepare_job_data(patients)
    from rest_framework_simplejwt.tokens import RefreshToken

    from backend.accounts.models import PatientProfile
    from backend.alerts.models import Alert
    from backend.alerts.services.adherence import JOB
    from backend.alerts.tasks import evaluate_adherence
    from backend.exercise.models import Programme

    week = evaluated_week(datetime.now(UTC))
    _reset(week)
    # A red flag pauses the programme: reactivate the posting patients' for a rerun.
    chosen = list(PatientProfile.objects.select_related("user").order_by("pk")[:RED_FLAG_POSTS])
    Programme.objects.filter(patient__in=chosen).update(status="active")
    versions = dict(
        Programme.objects.filter(patient__in=chosen).values_list("patient_id", "current_version")
    )
    posters = [
        (p.pk, str(RefreshToken.for_user(p.user).access_token), versions[p.pk]) for p in chosen
    ]
    run_dir = Path(tempfile.mkdtemp(prefix="bench-emergency-"))
    (run_dir / PUSHES).touch()
    layout = {"urgent": ("urgent", 2), "default": ("default", 1), "jobs": ("bulk,jobs", 2)}
    workers = _workers(run_dir, url, layout)
    app = LiveApp(
        run_dir,
        database_url=url,
        broker_url=BROKER_URL,
        workers=3,
        threads=4,
        settings=SETTINGS,
        **_worker_env(run_dir, url),
    )
    posted: dict[int, float] = {}
    backlog: list[int] = []  # bulk and jobs tasks waiting at each red flag
    during_job = 0  # red flags posted while the job's run held its lock
    broker = _broker()
    try:
        for process in (*workers, app):
            process.start()
        _ready(len(workers))
        running, ended = _job_runs(JOB)
        evaluate_adherence.delay(week.isoformat())
        wait_until(running, 60, 0.1, "the weekly job to start")
        job_started = time.time()
        for patient_id, token, version_id in posters:
            tick = time.time()
            body = _red_flag_body(version_id)
            backlog.append(int(broker.llen("bulk")) + int(broker.llen("jobs")))
            during_job += running()
            posted[patient_id] = time.time()
            status = _post(app.base, token, body)
            if status != 201:
                raise SystemExit(f"a red-flag log was answered {status}, not 201")
            time.sleep(max(0.0, 1 - (time.time() - tick)))
        job_running_at_last_post = running()
        alerts = dict(
            Alert.objects.filter(patient_id__in=posted, urgency="emergency").values_list(
                "pk", "patient_id"
            )
        )
        received: dict[int, float] = {}

        def all_received() -> bool:
            for line in (run_dir / PUSHES).read_text().splitlines():
                record = json.loads(line)
                data = record["data"]
                if data.get("subject_type") == "alert":
                    patient = alerts.get(int(data["subject_id"]))
                    if patient is not None:
                        received.setdefault(patient, record["received_at"])
            return len(received) >= len(posted)

        wait_until(all_received, 300, 0.5, "every emergency push")
        wait_until(ended, 3600, 0.5, "the weekly job")
        job_seconds = time.time() - job_started  # at least the minute of posts
    finally:
        for process in (app, *workers):
            process.stop()
    latencies = sorted(received[p] - posted[p] for p in posted)
    return {
        "patients": patients,
        "red_flag_posts": len(posted),
        "latency_p50_s": round(statistics.median(latencies), 3),
        "latency_p99_s": round(latencies[min(len(latencies) - 1, round(0.99 * len(latencies)))], 3),
        "latency_max_s": round(latencies[-1], 3),
        "posted_while_the_job_ran": during_job,
        "job_running_at_last_post": job_running_at_last_post,
        "queued_bulk_and_job_tasks_at_posts_max": max(backlog),
        "queued_bulk_and_job_tasks_at_posts_median": statistics.median(backlog),
        "job_seconds": round(job_seconds, 1),
    }


REMINDER_ZONE = "Europe/London"
REMINDER_PREFIX = "rem"


def _clone(
    cursor: Any, table: str, template_id: int, source: str, overrides: dict[str, str]
) -> int:
    """Copies row `template_id` of `table` once per row of the `source` query (aliased s),
    with `overrides` (column -> SQL over s): every other column, whatever the migrations
    add, keeps the template's value. One INSERT ... SELECT, no Python loop."""
    from django.db import connection

    columns = [
        column.name
        for column in connection.introspection.get_table_description(cursor, table)
        if column.name != "id"
    ]
    values = ", ".join(overrides.get(column, f"t.{column}") for column in columns)
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) "  # our own table names
        f"SELECT {values} FROM {table} t, ({source}) s WHERE t.id = %s",
        [template_id],
    )
    return int(cursor.rowcount)


def _generate_reminder_patients(patients: int) -> float:
    """`patients` patients in one time zone, all reminded at 17:30 (the default), each with an
    active programme: cloned from one made with the ORM, in five statements."""
    from django.db import connection

    from backend.accounts.models import Organisation, PatientProfile, User
    from backend.exercise.models import Programme, ProgrammeVersion

    if User.objects.filter(username__startswith=REMINDER_PREFIX).count() >= patients:
        return 0.0
    started = time.perf_counter()
    org, _ = Organisation.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    physio, _ = User.objects.get_or_create(
        username="bench.physio", defaults={"role": "physiotherapist", "organisation": org}
    )
    user = User.objects.create(
        username=f"{REMINDER_PREFIX}0", role="patient", organisation=org, password="!"
    )
    profile = PatientProfile.objects.create(
        user=user,
        date_of_birth=datetime(2012, 1, 1, tzinfo=UTC).date(),
        timezone=REMINDER_ZONE,
        training_weekdays=[1, 2, 3, 4, 5, 6, 7],
        notifications_consent=True,
    )
    programme = Programme.objects.create(
        patient=profile, status="active", ever_active=True, created_by=physio
    )
    version = ProgrammeVersion.objects.create(
        programme=programme,
        number=1,
        title="Bench",
        start_date=datetime(2026, 1, 5, tzinfo=UTC).date(),
        author=physio,
    )
    Programme.objects.filter(pk=programme.pk).update(current_version=version)
    new_users = (
        f"SELECT id FROM accounts_user WHERE username LIKE '{REMINDER_PREFIX}_%%' "
        f"AND id <> {user.pk}"
    )
    with connection.cursor() as cursor:
        _clone(
            cursor,
            "accounts_user",
            user.pk,
            f"SELECT n FROM generate_series(1, {patients - 1}) n",
            {"username": f"'{REMINDER_PREFIX}' || s.n", "email": "''"},
        )
        _clone(cursor, "accounts_patientprofile", profile.pk, new_users, {"user_id": "s.id"})
        _clone(
            cursor,
            "exercise_programme",
            programme.pk,
            f"SELECT p.id FROM accounts_patientprofile p WHERE p.user_id IN ({new_users})",
            {"patient_id": "s.id", "current_version_id": "NULL"},
        )
        _clone(
            cursor,
            "exercise_programmeversion",
            version.pk,
            "SELECT g.id FROM exercise_programme g WHERE g.current_version_id IS NULL",
            {"programme_id": "s.id"},
        )
        cursor.execute(
            "UPDATE exercise_programme g SET current_version_id = v.id "
            "FROM exercise_programmeversion v "
            "WHERE v.programme_id = g.id AND g.current_version_id IS NULL"
        )
        cursor.execute("ANALYZE")
    return round(time.perf_counter() - started, 1)


def reminders(patients: int) -> dict[str, Any]:
    """Every patient due at 17:30 local in one zone; the sweep's coordinator and chunks run
    on 2 worker processes. Done when the run's lock is released; the checkpoint moves only
    when no chunk failed (a chunk over its time limit fails)."""
    url = _prepare(f"physiotrack_bench_reminders_{patients}")
    from zoneinfo import ZoneInfo

    from backend.alerts.models import JobCheckpoint, Notification, Reminder
    from backend.alerts.services.reminders import JOB
    from backend.alerts.tasks import run_reminders

    generated = _generate_reminder_patients(patients)
    Reminder.objects.all().delete()
    Notification.objects.filter(kind="reminder").delete()
    JobCheckpoint.objects.all().delete()
    local = datetime.now(ZoneInfo(REMINDER_ZONE)).replace(
        hour=17, minute=31, second=0, microsecond=0
    )
    at = local.astimezone(UTC)
    run_dir = Path(tempfile.mkdtemp(prefix="bench-reminders-"))
    (run_dir / PUSHES).touch()
    layout = {f"jobs{n}": ("jobs", 1) for n in (1, 2)}
    workers = _workers(run_dir, url, layout)
    for worker in workers:
        worker.command.append("--loglevel=INFO")  # each chunk's run time, in the log
    seconds, rss = _timed_run(workers, JOB, lambda: run_reminders.delay(at.isoformat()))
    chunk_seconds = [
        float(line.rsplit(" in ", 1)[1].split("s")[0])
        for worker in workers
        for line in worker.log.read_text().splitlines()
        if "alerts.remind_chunk[" in line and " succeeded in " in line
    ]
    checkpoint = JobCheckpoint.objects.filter(name="reminders").first()
    return {
        "patients": patients,
        "generated_seconds": generated,
        "due_at": local.isoformat(),
        "reminders_written": Reminder.objects.count(),
        "seconds": round(seconds, 1),
        "chunks": len(chunk_seconds),
        "chunk_seconds_max": max(chunk_seconds, default=0.0),
        "chunk_seconds_median": statistics.median(chunk_seconds) if chunk_seconds else 0.0,
        "checkpoint_moved": bool(checkpoint and checkpoint.completed_until >= at),
        "peak_rss_mb_per_worker": rss,
    }


class TimedRecordingSender:
    """A push fake (push services are outside the machine) that appends what it received, and
    when, to PUSH_RECORD_FILE as JSON lines: the bench's clock for "the push went out"."""

    _lock = threading.Lock()

    def send(
        self, *, token: str, platform: str, title: str, body: str, data: dict[str, str]
    ) -> Any:
        from backend.alerts.push import PushResult

        record = {"data": data, "received_at": time.time()}
        with self._lock, Path(os.environ["PUSH_RECORD_FILE"]).open("a") as file:
            file.write(json.dumps(record) + "\n")
        return PushResult(ok=True)


ASSESSMENTS = (  # measure, unit, setting, value: four a patient for the bulk export
    ("CMAS", "points", "clinic", 44),
    ("STS30", "count", "home", 14),
    ("CHAQ", "points", "home", 0.375),
    ("EGFR", "mL/min/1.73m2", "clinic", 96),
)


def _add_assessments() -> None:
    """Each patient's assessments, once (one INSERT ... SELECT per measure)."""
    from django.db import connection

    from backend.accounts.models import User

    physio = User.objects.get(username="bench.physio")
    with connection.cursor() as cursor:
        for measure, unit, setting, value in ASSESSMENTS:
            # Once per measure for every patient. (A NOT EXISTS per patient read the rows the
            # same INSERT was writing: quadratic, hours at 100,000 patients.)
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM exercise_assessment WHERE measure = %s)", [measure]
            )
            if cursor.fetchone()[0]:
                continue
            cursor.execute(
                "INSERT INTO exercise_assessment (patient_id, measure, value, unit, setting, "
                "measured_at, measured_by_id, note, created_at, source_identifier_system, "
                "source_identifier_value) "
                "SELECT p.id, %s, %s, %s, %s, now() - interval '10 days', %s, '', now(), '', '' "
                "FROM accounts_patientprofile p",
                [measure, value, unit, setting, physio.pk],
            )


def bulk_export(patients: int) -> dict[str, Any]:
    url = _prepare(f"physiotrack_bench_{patients}")
    from django.utils import timezone

    from backend.accounts.models import Organisation, PatientProfile, User
    from backend.fhir.bulk.models import ExportJob, ExportStatus
    from backend.fhir.bulk.services import export_kick_off
    from bench.jobs import generate
    from config.celery import app

    generate(patients)
    _add_assessments()
    org = Organisation.objects.get(slug="bench")
    admin, _ = User.objects.get_or_create(
        username="bench.admin", defaults={"role": "org_admin", "organisation": org}
    )
    ExportJob.objects.filter(requested_by=admin).delete()
    app.control.purge()
    run_dir = Path(tempfile.mkdtemp(prefix="bench-bulk-export-"))
    exports = run_dir / "exports"
    worker = celery_worker(
        run_dir,
        name="bulk",
        broker_url=BROKER_URL,
        database_url=url,
        pool="prefork",
        concurrency=1,
        **{**_worker_env(run_dir, url), "FHIR_EXPORT_DIR": str(exports)},
    )
    worker.command += ["-Q", "bulk"]
    worker.start()
    try:
        _ready(1)
        started = time.perf_counter()
        job = export_kick_off(
            by=admin,
            resource_types=[],
            since=None,
            request_url="http://bench/fhir/$export",
            request_id="bench",
            ip=None,
            now=timezone.now(),
        )
        ended = (ExportStatus.COMPLETED, ExportStatus.FAILED)
        wait_until(
            lambda: ExportJob.objects.filter(pk=job.pk, status__in=ended).exists(),
            3600,
            0.5,
            "the export",
        )
        seconds = time.perf_counter() - started
        rss = _peak_rss_mb(worker)
    finally:
        worker.stop()
    job.refresh_from_db()
    files = {
        f.resource_type: {"count": f.count, "mb": round(f.size / 2**20, 1)} for f in job.files.all()
    }
    ExportJob.objects.filter(pk=job.pk).delete()
    shutil.rmtree(run_dir, ignore_errors=True)
    return {
        "patients": PatientProfile.objects.count(),
        "status": job.status,
        "seconds": round(seconds, 1),
        "patients_per_second": round(job.patients_done / seconds) if seconds else 0,
        "peak_rss_mb": rss,
        "files": files,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["scale-out", "emergency", "reminders", "bulk-export"])
    parser.add_argument("--patients", type=int, required=True)
    args = parser.parse_args()
    action = {
        "scale-out": scale_out,
        "emergency": emergency,
        "reminders": reminders,
        "bulk-export": bulk_export,
    }[args.action]
    sys.stdout.write("RESULT " + json.dumps(action(args.patients)) + "\n")


if __name__ == "__main__":
    main()
