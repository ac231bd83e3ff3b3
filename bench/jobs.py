"""Scenarios 5 and 6: the weekly adherence job and the reminder sweep on large generated
data sets, each measured in a fresh process (seconds, queries, peak RSS).

    python -m bench.jobs generate --patients 10000
    python -m bench.jobs adherence --patients 10000
    python -m bench.jobs sql-baseline --patients 10000
    python -m bench.jobs reminders --patients 10000

Each size has its own database (physiotrack_bench_<n>), generated once with bulk inserts
and COPY, then reused: generation is not part of any measurement."""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from tools.databases import ensure_database

SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
ZONES = ["Europe/London", "America/New_York", "Pacific/Auckland", "Asia/Tokyo", "Europe/Berlin"]
WEEKS_OF_HISTORY = 12


def database_url(patients: int) -> str:
    return f"{SERVER}/physiotrack_bench_{patients}"


def setup_django(patients: int) -> None:
    ensure_database(SERVER, f"physiotrack_bench_{patients}")
    os.environ["DATABASE_URL"] = database_url(patients)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def evaluated_week(now: datetime) -> date:
    """The last ISO week that has ended everywhere (Monday)."""
    monday = now.date() - timedelta(days=now.weekday())
    return monday - timedelta(days=14)


def generate(patients: int) -> dict[str, float]:
    from django.db import connection

    from backend.accounts.models import Organisation, PatientProfile, User
    from backend.exercise.models import Programme, ProgrammeVersion

    if PatientProfile.objects.count() >= patients:
        return {"generated": 0}
    started = time.perf_counter()
    org, _ = Organisation.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    physio, _ = User.objects.get_or_create(
        username="bench.physio", defaults={"role": "physiotherapist", "organisation": org}
    )
    users = User.objects.bulk_create(
        [
            User(username=f"p{i}", role="patient", organisation=org, password="!")
            for i in range(patients)
        ],
        batch_size=5000,
    )
    profiles = PatientProfile.objects.bulk_create(
        [
            PatientProfile(
                user=u,
                date_of_birth=date(2012, 1, 1),
                timezone=ZONES[i % len(ZONES)],
                training_weekdays=[1, 2, 3, 4, 5, 6, 7],
                notifications_consent=True,
            )
            for i, u in enumerate(users)
        ],
        batch_size=5000,
    )
    programmes = Programme.objects.bulk_create(
        [
            Programme(patient=p, status="active", ever_active=True, created_by=physio)
            for p in profiles
        ],
        batch_size=5000,
    )
    start = evaluated_week(datetime.now(UTC)) - timedelta(weeks=WEEKS_OF_HISTORY)
    versions = ProgrammeVersion.objects.bulk_create(
        [
            ProgrammeVersion(programme=g, number=1, title="Bench", start_date=start, author=physio)
            for g in programmes
        ],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE exercise_programme p SET current_version_id = v.id "
            "FROM exercise_programmeversion v WHERE v.programme_id = p.id"
        )
    rng = random.Random(patients)
    begin = datetime.combine(start, datetime.min.time(), tzinfo=UTC)
    columns = (
        "patient_id, client_id, programme_id, version_id, programme_status_at_log, "
        "recorded_by_id, supervised, started_at, ended_at, completion, effort_scale, "
        "symptoms, note, created_at, updated_at, symptoms_reported"
    )
    rows = 0
    with (
        connection.cursor() as cursor,
        cursor.connection.cursor().copy(f"COPY exercise_sessionlog ({columns}) FROM STDIN") as copy,
    ):
        for profile, programme, version in zip(profiles, programmes, versions, strict=True):
            for week in range(WEEKS_OF_HISTORY + 1):
                for _ in range(rng.choice([1, 2, 2, 3, 3])):
                    at = begin + timedelta(
                        weeks=week, days=rng.randint(0, 6), hours=rng.randint(6, 20)
                    )
                    copy.write_row(
                        (
                            profile.pk,
                            uuid.uuid4(),
                            programme.pk,
                            version.pk,
                            "active",
                            profile.user_id,
                            False,
                            at,
                            at + timedelta(minutes=30),
                            rng.choice(["full", "full", "partial"]),
                            "",
                            "",
                            "",
                            at,
                            at,
                            False,
                        )
                    )
                    rows += 1
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "generated": patients,
        "session_logs": rows,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _count_queries(run):  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = run()
        seconds = time.perf_counter() - started
    return result, seconds, len(queries)


def adherence(patients: int) -> dict[str, float]:
    from backend.alerts.models import Alert, Notification, WeeklyAdherence
    from backend.alerts.services.adherence import adherence_evaluate

    week = evaluated_week(datetime.now(UTC))
    WeeklyAdherence.objects.filter(week_start=week).delete()
    Notification.objects.all().delete()
    Alert.objects.all().delete()
    result, seconds, queries = _count_queries(
        lambda: adherence_evaluate(now=datetime.now(UTC), week_start=week)
    )
    return {
        "patients": patients,
        "evaluated": result.evaluated,
        "alerts": result.alerts,
        "seconds": round(seconds, 2),
        "queries": queries,
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }


def sql_baseline(patients: int) -> dict[str, float]:
    from django.db import connection

    week = evaluated_week(datetime.now(UTC))
    sql = """
        SELECT s.patient_id,
               SUM(CASE s.completion WHEN 'full' THEN 1 WHEN 'partial' THEN 0.5 ELSE 0 END)
        FROM exercise_sessionlog s
        JOIN accounts_patientprofile p ON p.id = s.patient_id
        WHERE s.deleted_at IS NULL
          AND s.started_at >= (%(monday)s::timestamp AT TIME ZONE p.timezone)
          AND s.started_at < ((%(monday)s::date + 7)::timestamp AT TIME ZONE p.timezone)
        GROUP BY s.patient_id
    """
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, {"monday": week})
        rows = cursor.fetchall()
    return {
        "patients": patients,
        "rows": len(rows),
        "seconds": round(time.perf_counter() - started, 3),
    }


def reminders(patients: int) -> dict[str, float]:
    """A third of the patients are due at the tick: their reminder time is 10 minutes ago."""
    from django.db import connection

    from backend.accounts.models import PatientProfile
    from backend.alerts.models import JobCheckpoint, Notification, Reminder
    from backend.alerts.services.reminders import reminders_run

    at = datetime.now(UTC).replace(second=0, microsecond=0)
    with connection.cursor() as cursor:
        for zone in ZONES:
            due = (at - timedelta(minutes=10)).astimezone(ZoneInfo(zone)).time()
            later = (at + timedelta(hours=3)).astimezone(ZoneInfo(zone)).time()
            cursor.execute(
                "UPDATE accounts_patientprofile SET reminder_time = CASE WHEN id %% 3 = 0 "
                "THEN %s::time ELSE %s::time END, quiet_hours_start = '00:00', "
                "quiet_hours_end = '00:00' WHERE timezone = %s",
                [due, later, zone],
            )
    Reminder.objects.all().delete()
    Notification.objects.filter(kind="reminder").delete()
    JobCheckpoint.objects.all().delete()
    run, seconds, queries = _count_queries(lambda: reminders_run(at=at))
    sent = run.sent
    return {
        "patients": PatientProfile.objects.count(),
        "due_expected": patients // 3,
        "reminders_written": sent,
        "notifications_written": Notification.objects.filter(kind="reminder").count(),
        "seconds": round(seconds, 2),
        "queries": queries,
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["generate", "adherence", "sql-baseline", "reminders"])
    parser.add_argument("--patients", type=int, required=True)
    args = parser.parse_args()
    setup_django(args.patients)
    action = {
        "generate": generate,
        "adherence": adherence,
        "sql-baseline": sql_baseline,
        "reminders": reminders,
    }[args.action]
    sys.stdout.write("RESULT " + json.dumps(action(args.patients)) + "\n")


if __name__ == "__main__":
    main()
