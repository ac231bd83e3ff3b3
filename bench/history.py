"""Per-patient lists against a patient's history (issue #12, "History-proof reads").

Two patients on bench.physio's care team in the HTTP bench's database, one with 200 rows and
one with 10,000 in each history table (session logs, assessments, alerts, notifications in
their inbox, symptom reports). `make bench` compares a page of each one's session list in
the same run (`history_fixture`, used by bench/run.py); `explain` prints the plans of every
per-patient list's page and count queries for both, as the app and a clinician ask for them:

    python -m bench.history explain [--plans]   # after bench.run has prepared the data

Each patient's rows are written together (as one bulk insert), so they are clustered on
disk: a plan that reads the whole history touches fewer pages here than in a clinic's table,
where they arrived among everyone else's. Row counts and the plans' shapes are what to read.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

SIZES = (200, 10_000)


def _username(rows: int) -> str:
    return f"bench.history{rows}"


def fill_history(patient: Any, rows: int) -> None:
    """`rows` rows of each history table for `patient`, newest an hour ago, 8 hours apart."""
    from django.utils import timezone

    from backend.alerts.models import Alert, Notification
    from backend.exercise.models import Assessment, SessionLog
    from backend.symptoms.models import SymptomReport

    programme = patient.programmes.get(status="active")
    now = timezone.now()
    times = [now - timedelta(hours=1 + 8 * i) for i in range(rows)]
    SessionLog.objects.bulk_create(
        (
            SessionLog(
                patient=patient,
                client_id=uuid.uuid4(),
                programme=programme,
                version_id=programme.current_version_id,
                programme_status_at_log="active",
                recorded_by=patient.user,
                started_at=at,
                ended_at=at + timedelta(minutes=30),
                completion="full",
                pain_before=2,
                pain_after=3,
                fatigue=3,
                note="Felt fine",
            )
            for at in times
        ),
        batch_size=2000,
    )
    # auto_now_add stamps every row now: set the times afterwards, as they would have been.
    Assessment.objects.bulk_create(
        (
            Assessment(
                patient=patient,
                measure="STS30",
                value=Decimal(14),
                unit="count",
                setting="home",
                measured_at=at,
                measured_by=patient.user,
            )
            for at in times
        ),
        batch_size=2000,
    )
    ranks = [("emergency", 0), ("urgent", 1), ("routine", 2), ("info", 3)]
    alerts = Alert.objects.bulk_create(
        (
            Alert(
                patient=patient,
                rule_id="A-2",
                rule_version=1,
                urgency=ranks[i % 4][0],
                urgency_rank=ranks[i % 4][1],
                reason="bench",
                evidence={},
                period_start=date(2026, 1, 5),
                period_end=date(2026, 1, 11),
                dedup_key=f"bench:history:{patient.pk}:{i}",
                status="resolved" if i > 20 else "open",
            )
            for i in range(rows)
        ),
        batch_size=2000,
    )
    notifications = Notification.objects.bulk_create(
        (
            Notification(
                recipient=patient.user,
                patient=patient,
                kind="reminder",
                title="Session today",
                body="bench",
                subject_type="week",
                subject_id=i,
                dedup_key=f"bench:history:{patient.pk}:{i}",
                read_at=None if i < 20 else now,
            )
            for i in range(rows)
        ),
        batch_size=2000,
    )
    SymptomReport.objects.bulk_create(
        (
            SymptomReport(
                patient=patient,
                source="standalone",
                reported_at=at,
                codes=["fatigue"],  # type: ignore[misc]  # a CodeListField takes a list
                reported_by=patient.user,
            )
            for at in times
        ),
        batch_size=2000,
    )
    stamped = [_stamped(row, at) for row, at in zip(alerts, times, strict=True)]
    Alert.objects.bulk_update(stamped, ["created_at"], batch_size=2000)
    read = [_stamped(row, at) for row, at in zip(notifications, times, strict=True)]
    Notification.objects.bulk_update(read, ["created_at"], batch_size=2000)


def _stamped(row: Any, at: Any) -> Any:
    row.created_at = at
    return row


CROWD, CROWD_ROWS = 100, 1_000  # other patients of the table: 100,000 rows of each kind


def _crowd_sql(big: int, crowd: list[int]) -> list[str]:
    """Copies every 10th row of the big history to each crowd patient (ids in `crowd`), so
    that the history patients' rows are a small part of each table, as in a clinic."""
    ids = f"ARRAY{crowd}::bigint[]"
    some = f"x.patient_id = {big} AND x.id % {10_000 // CROWD_ROWS} = 0"
    return [
        f"""INSERT INTO exercise_sessionlog (patient_id, client_id, programme_id, version_id,
            programme_status_at_log, recorded_by_id, supervised, started_at, ended_at,
            completion, effort_scale, pain_before, pain_after, fatigue, symptoms, note,
            symptoms_reported, created_at, updated_at)
        SELECT c.id, gen_random_uuid(), x.programme_id, x.version_id, x.programme_status_at_log,
            x.recorded_by_id, x.supervised, x.started_at, x.ended_at, x.completion,
            x.effort_scale, x.pain_before, x.pain_after, x.fatigue, x.symptoms, x.note,
            x.symptoms_reported, x.created_at, x.updated_at
        FROM exercise_sessionlog x, unnest({ids}) c(id) WHERE {some}""",
        f"""INSERT INTO exercise_assessment (patient_id, measure, value, unit, setting,
            measured_at, measured_by_id, note, created_at, source_identifier_system,
            source_identifier_value)
        SELECT c.id, x.measure, x.value, x.unit, x.setting, x.measured_at, x.measured_by_id,
            x.note, x.created_at, x.source_identifier_system, x.source_identifier_value
        FROM exercise_assessment x, unnest({ids}) c(id) WHERE {some}""",
        f"""INSERT INTO alerts_alert (patient_id, rule_id, rule_version, urgency, urgency_rank,
            reason, evidence, period_start, period_end, dedup_key, status, resolution_note,
            created_at, occurrences, last_occurred_at)
        SELECT c.id, x.rule_id, x.rule_version, x.urgency, x.urgency_rank, x.reason,
            x.evidence, x.period_start, x.period_end, x.dedup_key || ':' || c.id, x.status,
            x.resolution_note, x.created_at, x.occurrences, x.last_occurred_at
        FROM alerts_alert x, unnest({ids}) c(id) WHERE {some}""",
        f"""INSERT INTO alerts_notification (recipient_id, patient_id, kind, title, body,
            subject_type, subject_id, dedup_key, created_at, read_at)
        SELECT p.user_id, c.id, x.kind, x.title, x.body, x.subject_type, x.subject_id,
            x.dedup_key || ':' || c.id, x.created_at, x.read_at
        FROM alerts_notification x, unnest({ids}) c(id)
        JOIN accounts_patientprofile p ON p.id = c.id WHERE {some}""",
        f"""INSERT INTO symptoms_symptomreport (patient_id, source, reported_at, codes,
            derived_codes, other, note, reported_by_id, created_at)
        SELECT c.id, x.source, x.reported_at, x.codes, x.derived_codes, x.other, x.note,
            x.reported_by_id, x.created_at
        FROM symptoms_symptomreport x, unnest({ids}) c(id) WHERE {some}""",
    ]


def _patient(username: str, physio: Any) -> Any:
    from backend.accounts.models import CareTeamMembership, PatientProfile, User

    user = User.objects.create(
        username=username, role="patient", organisation_id=physio.organisation_id
    )
    profile = PatientProfile.objects.create(
        user=user, date_of_birth=date(2013, 1, 1), timezone="Europe/London"
    )
    CareTeamMembership.objects.create(patient=profile, member=physio, role="physiotherapist")
    return profile


def history_fixture(organisation_id: int | None) -> tuple[Any, dict[int, Any]]:
    """bench.history.physio and the two history patients on their care team (with the crowd
    of other patients), made once; the patients keyed by their history's size. A care team
    of its own: the other scenarios' clinician lists stay as they were."""
    from django.db import connection, transaction

    from backend.accounts.models import PatientProfile, User
    from backend.exercise.models import Exercise
    from backend.exercise.services.programmes import programme_create

    physio, created = User.objects.get_or_create(
        username="bench.history.physio",
        defaults={"role": "physiotherapist", "organisation_id": organisation_id},
    )
    if created:
        with transaction.atomic():  # all or nothing: a failed run is simply repeated
            exercise = Exercise.objects.filter(organisation__isnull=True).order_by("id")[0]
            items = [{"exercise": exercise.pk, "sets": 2, "reps": 10}]
            content = {"title": "Bench", "start_date": date(2026, 1, 5), "items": items}
            for rows in SIZES:
                profile = _patient(_username(rows), physio)
                programme_create(by=physio, patient=profile, content=content, activate=True)
                fill_history(profile, rows)
            crowd = [_patient(f"bench.crowd{i}", physio).pk for i in range(CROWD)]
            big = PatientProfile.objects.get(user__username=_username(SIZES[-1])).pk
            with connection.cursor() as cursor:
                for statement in _crowd_sql(big, crowd):
                    cursor.execute(statement)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    patients = {
        rows: PatientProfile.objects.select_related("user").get(user__username=_username(rows))
        for rows in SIZES
    }
    return physio, patients


# --- explain ------------------------------------------------------------------------------


def _requests(patient: Any, physio: Any) -> list[tuple[str, Any, str, str]]:
    """(title, user, path, table) of each per-patient list as the app and a clinician ask."""
    p = patient.pk
    lists = [
        ("sessions", "sessions/", "exercise_sessionlog", True),
        ("assessments", "assessments/", "exercise_assessment", True),
        ("alerts", "alerts/", "alerts_alert", False),  # the care team's only
        ("symptoms", "symptoms/", "symptoms_symptomreport", True),
    ]
    asked = [
        (f"{name}, clinician ?patient=", physio, f"/api/v1/{path}?patient={p}", table)
        for name, path, table, _ in lists
    ]
    asked += [
        (f"{name}, the patient", patient.user, f"/api/v1/{path}?page_size=20", table)
        for name, path, table, own in lists
        if own
    ]
    inbox = "/api/v1/notifications/?page_size=20"
    return [*asked, ("notifications, the patient", patient.user, inbox, "alerts_notification")]


def _plan(sql: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        for _ in range(3):  # the last run is warm, as in production
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            plan = [row[0] for row in cursor.fetchall()]
    return plan


SCAN = re.compile(
    r"(Index Only Scan|Bitmap Index Scan|Index Scan|Bitmap Heap Scan|Seq Scan)"
    r"(?: Backward)?(?: using (\w+))? on (\w+)"
)
SCOPE_TABLES = {"u0", "u1", "u2", "u3", "accounts_patientprofile", "accounts_user"}


def _summary(plan: list[str]) -> str:
    """Time, buffers, whether a Sort ran, and the scans of the listed table."""
    text = "\n".join(plan)
    scans = sorted(
        {f"{kind} {index} on {table}" if index else f"{kind} on {table}"
         for kind, index, table in SCAN.findall(text) if table not in SCOPE_TABLES}
    )  # fmt: skip
    sorts = [s for s in ("Incremental Sort", "Sort") if re.search(rf"(^|->)\s*{s}  \(", text, re.M)]
    buffers = re.search(r"Buffers: shared hit=(\d+)(?: read=(\d+))?", text)
    touched = sum(int(g) for g in buffers.groups() if g) if buffers else 0
    ms = re.search(r"Execution Time: ([\d.]+) ms", text)
    took = ms.group(1) if ms else "?"
    return f"{took} ms, {touched} buffers, {' + '.join(sorts) or 'no Sort'}; {', '.join(scans)}"


def explain(plans: bool) -> None:
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework_simplejwt.tokens import AccessToken

    from backend.accounts.models import User

    physio, patients = history_fixture(User.objects.get(username="bench.physio").organisation_id)
    out = sys.stdout
    for rows, patient in patients.items():
        for title, user, path, table in _requests(patient, physio):
            client = Client(
                HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}"
            )
            with transaction.atomic(), CaptureQueriesContext(connection) as captured:
                response = client.get(path)
                transaction.set_rollback(True)
            assert response.status_code == 200, response.content[:300]  # noqa: S101
            chosen: dict[str, str] = {}
            for query in captured:
                sql = query["sql"]
                if f'FROM "{table}"' not in sql:
                    continue
                if "COUNT(" in sql:
                    chosen["count"] = sql
                elif "LIMIT" in sql:
                    chosen["page"] = sql
            for kind, sql in chosen.items():
                plan = _plan(sql)
                out.write(f"{rows:>6} rows | {title:<34} | {kind:<5} | {_summary(plan)}\n")
                if plans:
                    out.write("```sql\n" + sql + "\n```\n```\n" + "\n".join(plan) + "\n```\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["explain"])
    parser.add_argument("--plans", action="store_true", help="print the SQL and whole plans")
    args = parser.parse_args()
    from bench.run import HTTP_DB, sh_env

    os.environ.update(sh_env(HTTP_DB))
    import django

    django.setup()
    explain(args.plans)


if __name__ == "__main__":
    main()
