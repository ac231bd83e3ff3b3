"""The hot queries with their plans on the 10,000-patient bench data (docs/explain.md holds a
run, with a line of interpretation added to each plan by hand).

    python -m bench.explain prepare   # once: copy physiotrack_bench_10000, add clinical data
    python -m bench.explain run       # Markdown on stdout: each query's SQL and its plan

`prepare` copies the job bench's database (`CREATE DATABASE ... TEMPLATE`, so the cached
physiotrack_bench_10000 is never changed; generate it first with `python -m bench.jobs
generate --patients 10000`), migrates the copy and adds what the job bench does not have:
care teams (50 physiotherapists with 200 patients each, 20 nurses with 500), 12 weeks of
alerts, assessments, notifications and audit events at the rates a clinic would produce, and
programmes edited over the 12 weeks instead of all at generation time.

`run` makes the real requests (Django's test client, JWT as the app sends it, each inside a
transaction that is rolled back so the data stays put) or calls the job's selectors, captures
the SQL Django sends, and runs `EXPLAIN (ANALYZE, BUFFERS)` on it twice (the second, warm
run is printed). Long id lists are shortened in the output only."""

from __future__ import annotations

import argparse
import os
import re
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
SOURCE_DB = "physiotrack_bench_10000"
DATABASE = os.environ.get("BENCH_EXPLAIN_DB", "physiotrack_bench_idx")
PHYSIOS, PATIENTS_PER_PHYSIO = 50, 200
NURSES, PATIENTS_PER_NURSE = 20, 500
HISTORY_COPIES = 7  # 8 × 13 weeks: two years of session logs
SESSION_COLUMNS = (
    "client_id, programme_status_at_log, supervised, started_at, ended_at, completion, "
    "effort_scale, effort_value, pain_before, pain_after, fatigue, symptoms, note, deleted_at, "
    "created_at, updated_at, patient_id, programme_id, recorded_by_id, version_id"
)


def setup_django() -> None:
    os.environ["DATABASE_URL"] = f"{SERVER}/{DATABASE}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()


def copy_database() -> bool:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            return False
        conn.execute(f'CREATE DATABASE "{DATABASE}" TEMPLATE "{SOURCE_DB}"')
    return True


# Each statement adds one kind of row for the last 12 weeks (sessions: two years).
# Rates: alerts ~4 per patient (a clinician with 200 patients sees ~800), home tests weekly
# and clinic measures once, two reminders a week per patient, an alert notification per care
# team member, an audit event per session upload and per row of each clinician's list pages.
def _clinical_data_sql(org: int, physios: list[int], nurses: list[int]) -> list[str]:
    weeks = "interval '84 days'"
    earlier = SESSION_COLUMNS.replace("client_id", "gen_random_uuid()")
    for column in ("started_at", "ended_at", "created_at", "updated_at"):
        earlier = earlier.replace(column, f"{column} - k * interval '91 days'")
    return [
        "SELECT setseed(0.5)",
        # Two years of logs: the generated 12 weeks and {HISTORY_COPIES} earlier copies of them
        # (13 weeks apart), so that a query reading a patient's whole history shows it. The
        # job bench writes each patient's logs together (COPY in patient order); a clinic's
        # table holds them in the order they arrived, which is what the planner must face.
        f"""
        CREATE TEMP TABLE bench_arrived AS
        SELECT {SESSION_COLUMNS} FROM exercise_sessionlog
        UNION ALL
        SELECT {earlier} FROM exercise_sessionlog, generate_series(1, {HISTORY_COPIES}) k
        """,
        # the results and revisions tables are empty; the audit rows are written below
        "TRUNCATE exercise_sessionlog RESTART IDENTITY CASCADE",
        f"""
        INSERT INTO exercise_sessionlog ({SESSION_COLUMNS})
        SELECT * FROM bench_arrived ORDER BY created_at
        """,
        """
        CREATE TEMP TABLE bench_patient AS
        SELECT p.id, p.user_id, (row_number() OVER (ORDER BY p.id)) - 1 AS n
        FROM accounts_patientprofile p
        """,
        f"""
        INSERT INTO accounts_careteammembership (patient_id, member_id, role, created_at)
        SELECT bp.id, (ARRAY{physios}::bigint[])[bp.n / {PATIENTS_PER_PHYSIO} + 1],
               'physiotherapist', now() - {weeks}
        FROM bench_patient bp WHERE bp.n < {PHYSIOS * PATIENTS_PER_PHYSIO}
        UNION ALL
        SELECT bp.id, (ARRAY{nurses}::bigint[])[bp.n / {PATIENTS_PER_NURSE} + 1],
               'nurse', now() - {weeks}
        FROM bench_patient bp WHERE bp.n < {NURSES * PATIENTS_PER_NURSE}
        """,
        # Programmes edited at some point of the 12 weeks (the generator stamped them all now).
        f"UPDATE exercise_programme SET updated_at = now() - random() * {weeks}",
        # Alerts: the rules' mix (adherence most often, emergencies rare); older ones mostly
        # resolved, recent ones mostly open or acknowledged. Every table below is written in
        # time order, as a clinic writes it.
        f"""
        INSERT INTO alerts_alert (patient_id, rule_id, rule_version, urgency, urgency_rank,
            reason, evidence, period_start, period_end, dedup_key, status, acknowledged_at,
            resolved_at, resolution_note, created_at, acknowledged_by_id, resolved_by_id)
        SELECT a.patient_id, r.rule_id, 1, r.urgency, r.rank, 'bench', '{{}}'::jsonb,
               a.created_at::date, a.created_at::date + 6,
               'bench:' || a.patient_id || ':' || a.k, s.status,
               CASE WHEN s.status <> 'open' THEN a.created_at + interval '3 hours' END,
               CASE WHEN s.status = 'resolved' THEN a.created_at + interval '2 days' END,
               CASE WHEN s.status = 'resolved' THEN 'Reviewed' ELSE '' END,
               a.created_at,
               CASE WHEN s.status <> 'open' THEN a.physio END,
               CASE WHEN s.status = 'resolved' THEN a.physio END
        FROM (
            SELECT bp.id AS patient_id, k, now() - random() * {weeks} AS created_at,
                   random() AS pick, random() AS fate,
                   (ARRAY{physios}::bigint[])[bp.n / {PATIENTS_PER_PHYSIO} + 1] AS physio
            FROM bench_patient bp, generate_series(1, 4) k
        ) a
        CROSS JOIN LATERAL (
            SELECT * FROM (VALUES
                (0.00, 0.30, 'A-2', 'routine', 2), (0.30, 0.45, 'A-3', 'routine', 2),
                (0.45, 0.55, 'A-4', 'info', 3), (0.55, 0.65, 'FD-7', 'routine', 2),
                (0.65, 0.75, 'FD-8', 'routine', 2), (0.75, 0.83, 'SYM-3', 'routine', 2),
                (0.83, 0.88, 'SYM-2', 'urgent', 1), (0.88, 0.93, 'A-2', 'urgent', 1),
                (0.93, 0.95, 'FD-2', 'urgent', 1), (0.95, 0.97, 'KID-1', 'urgent', 1),
                (0.97, 0.99, 'FD-1', 'routine', 2), (0.99, 1.01, 'SYM-1', 'emergency', 0)
            ) AS v(lo, hi, rule_id, urgency, rank)
            WHERE a.pick >= v.lo AND a.pick < v.hi
        ) r
        CROSS JOIN LATERAL (
            SELECT CASE
                WHEN a.created_at < now() - interval '14 days' THEN
                    CASE WHEN a.fate < 0.85 THEN 'resolved'
                         WHEN a.fate < 0.95 THEN 'acknowledged' ELSE 'open' END
                ELSE CASE WHEN a.fate < 0.3 THEN 'resolved'
                          WHEN a.fate < 0.6 THEN 'acknowledged' ELSE 'open' END
            END AS status
        ) s
        ORDER BY a.created_at
        """,
        # Assessments: home tests weekly (STS30, TUG, PAIN, FATIGUE), clinic measures once.
        f"""
        INSERT INTO exercise_assessment (patient_id, measure, value, unit, setting,
            measured_at, measured_by_id, note, created_at, source_identifier_system,
            source_identifier_value)
        SELECT *, '', '' FROM (
            SELECT bp.id, m.measure, m.value, m.unit, 'home', t.at, bp.user_id, '', t.at
            FROM bench_patient bp
            CROSS JOIN generate_series(0, 11) w
            CROSS JOIN LATERAL (SELECT now() - {weeks} + w * interval '7 days'
                                       + random() * interval '6 days' AS at) t
            CROSS JOIN (VALUES ('STS30', 14, 'count'), ('TUG', 7, 's'), ('PAIN', 2, '0-10'),
                               ('FATIGUE', 3, '0-10')) m(measure, value, unit)
            UNION ALL
            SELECT bp.id, m.measure, m.value, m.unit, 'clinic', t.at,
                   (ARRAY{physios}::bigint[])[bp.n / {PATIENTS_PER_PHYSIO} + 1], '', t.at
            FROM bench_patient bp
            CROSS JOIN LATERAL (SELECT now() - random() * {weeks} AS at) t
            CROSS JOIN (VALUES ('CMAS', 44, 'points'), ('MMT8', 72, 'points'),
                               ('CHAQ', 0.5, 'points'), ('CK', 180, 'U/L'),
                               ('EGFR', 95, 'mL/min/1.73m2'), ('6MWD', 480, 'm'))
                       m(measure, value, unit)
        ) x(patient_id, measure, value, unit, setting, measured_at, by_id, note, created_at)
        ORDER BY x.created_at
        """,
        # Notifications: two reminders a week per patient; each alert to physio and nurse.
        f"""
        INSERT INTO alerts_notification (recipient_id, patient_id, kind, title, body,
            subject_type, subject_id, dedup_key, created_at, read_at)
        SELECT * FROM (
            SELECT bp.user_id, bp.id, 'reminder', 'Session today', 'bench', 'week', bp.id,
                   'bench:r:' || bp.id || ':' || k, t.at,
                   CASE WHEN t.at < now() - interval '3 days' AND random() < 0.8
                        THEN t.at + interval '1 hour' END
            FROM bench_patient bp
            CROSS JOIN generate_series(1, 24) k
            CROSS JOIN LATERAL (SELECT now() - {weeks} + k * interval '3.5 days' AS at) t
            UNION ALL
            SELECT m.member_id, a.patient_id, 'alert', 'Alert', 'bench', 'alert', a.id,
                   'bench:a:' || a.id || ':' || m.member_id, a.created_at,
                   CASE WHEN a.status <> 'open' THEN a.created_at + interval '3 hours' END
            FROM alerts_alert a
            JOIN accounts_careteammembership m ON m.patient_id = a.patient_id
        ) x(recipient_id, patient_id, kind, title, body, subject_type, subject_id, dedup_key,
            created_at, read_at)
        ORDER BY x.created_at
        """,
        # Audit: each session upload (the patient's write), and the clinicians' list pages:
        # each physiotherapist reads 2 pages of 50 rows, each nurse 1, every working day.
        f"""
        INSERT INTO audit_accessevent (occurred_at, actor_id, actor_role, organisation_id,
            patient_id, action, resource_type, resource_id, request_id, ip)
        SELECT * FROM (
            SELECT s.created_at, bp.user_id, 'patient', {org}, s.patient_id, 'create',
                   'session', s.id, md5(s.id::text), '10.0.0.1'::inet
            FROM exercise_sessionlog s JOIN bench_patient bp ON bp.id = s.patient_id
            WHERE s.created_at >= now() - {weeks}  -- the trail covers the last 12 weeks
            UNION ALL
            SELECT page.at, m.member_id, m.role, {org}, m.patient_id, 'read',
                   (ARRAY['session', 'patient', 'alert', 'assessment'])[1 + (day + page.n) % 4],
                   m.patient_id, md5(m.member_id::text || day || page.n), '10.0.0.2'::inet
            FROM accounts_careteammembership m
            CROSS JOIN generate_series(0, 59) day
            CROSS JOIN LATERAL (
                SELECT n, now() - {weeks} + day * interval '1.4 days' + n * interval '2 hours'
                       AS at
                FROM generate_series(1, CASE m.role WHEN 'nurse' THEN 1 ELSE 2 END) n
            ) page
            -- each page shows 50 of the clinician's patients, a different 50 each time
            WHERE (hashtext(m.id || ':' || day || ':' || page.n) & 1023)
                  < 1024 * 50 / CASE m.role WHEN 'nurse' THEN {PATIENTS_PER_NURSE}
                                           ELSE {PATIENTS_PER_PHYSIO} END
        ) x(occurred_at, actor_id, actor_role, organisation_id, patient_id, action,
            resource_type, resource_id, request_id, ip)
        ORDER BY x.occurred_at
        """,
        "ANALYZE",
    ]


def prepare() -> dict[str, Any]:
    created = copy_database()
    setup_django()
    from django.core.management import call_command
    from django.db import connection, transaction

    from backend.accounts.models import Organisation, User

    call_command("migrate", verbosity=0)
    org = Organisation.objects.get(slug="bench")
    if User.objects.filter(username="bench.admin").exists():
        return {"database": DATABASE, "created": created, "data": "already added"}
    with transaction.atomic():  # all or nothing: a failed run can simply be repeated
        physio0 = User.objects.get(username="bench.physio")
        physios = [physio0.pk] + [
            u.pk
            for u in User.objects.bulk_create(
                User(
                    username=f"bench.physio{k}",
                    role="physiotherapist",
                    organisation=org,
                    password="!",
                )
                for k in range(1, PHYSIOS)
            )
        ]
        nurses = [
            u.pk
            for u in User.objects.bulk_create(
                User(username=f"bench.nurse{k}", role="nurse", organisation=org, password="!")
                for k in range(NURSES)
            )
        ]
        User.objects.create(
            username="bench.admin", role="org_admin", organisation=org, password="!", is_staff=True
        )
        with connection.cursor() as cursor:
            for statement in _clinical_data_sql(org.pk, physios, nurses):
                cursor.execute(statement)
    counts = {}
    with connection.cursor() as cursor:
        for table in (
            "accounts_careteammembership",
            "exercise_sessionlog",
            "exercise_programme",
            "exercise_assessment",
            "alerts_alert",
            "alerts_notification",
            "audit_accessevent",
        ):
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    return {"database": DATABASE, "created": created, "rows": counts}


# --- run --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    title: str
    capture: Callable[[], list[str]]  # the SQL Django sent, in order
    pick: Callable[[str], bool]  # which of them to explain


def _request(username: str, path: str, body: dict[str, Any] | None = None) -> list[str]:
    """One API request as the app makes it; its writes (audit rows) are rolled back."""
    import json

    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework_simplejwt.tokens import AccessToken

    from backend.accounts.models import User

    user = User.objects.get(username=username)
    client = Client(
        HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}"
    )
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        if body is None:
            response = client.get(path)
        else:
            response = client.post(path, json.dumps(body), content_type="application/json")
        transaction.set_rollback(True)
    if response.status_code >= 300:
        raise RuntimeError(f"{path}: {response.status_code} {response.content[:300]!r}")
    return [query["sql"] for query in captured]


def _calls(run: Callable[[], object]) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        run()
    return [query["sql"] for query in captured]


def _adherence_batch() -> tuple[list[int], datetime, datetime]:
    """The session window of one batch of the weekly job, computed as `_evaluate_batch` does."""
    from zoneinfo import ZoneInfo

    from backend.accounts.models import PatientProfile
    from backend.alerts.services.adherence import BATCH_SIZE
    from backend.exercise.selectors import week_bounds
    from bench.jobs import evaluated_week

    week = evaluated_week(datetime.now(UTC))
    batch = list(PatientProfile.objects.order_by("pk")[5000 : 5000 + BATCH_SIZE])
    bounds = [week_bounds(week, ZoneInfo(p.timezone)) for p in batch]
    earliest = min(start for start, _ in bounds) - timedelta(days=28)
    return [p.pk for p in batch], earliest, max(end for _, end in bounds)


def cases() -> list[Case]:
    from backend.accounts.models import PatientProfile, User
    from backend.alerts.services.decline import SESSION_WINDOW
    from backend.exercise import selectors
    from backend.exercise.models import Programme

    now = datetime.now(UTC)
    patient = PatientProfile.objects.select_related("user").get(user__username="p5")
    physio = User.objects.get(username="bench.physio")
    own = PatientProfile.objects.filter(care_team__member=physio).order_by("pk")[7]
    version = Programme.objects.get(patient=patient, status="active").current_version_id
    ids, earliest, latest = _adherence_batch()
    week_ago, day_ago, two_weeks_ago, four_weeks_ago = (
        f"{now - timedelta(days=days):%Y-%m-%dT%H:%M:%SZ}" for days in (7, 1, 14, 28)
    )
    started = now - timedelta(hours=2)
    session = {
        "client_id": str(uuid.uuid4()),
        "version": version,
        "started_at": started.isoformat(),
        "ended_at": (started + timedelta(minutes=30)).isoformat(),
        "completion": "full",
        "pain_before": 2,
        "pain_after": 3,
        "fatigue": 3,
        "symptoms": [],
        "results": [],
    }
    q = "/api/v1"
    sessionlog, alert, audit = '"exercise_sessionlog"', '"alerts_alert"', '"audit_accessevent"'

    def page(table: str) -> Callable[[str], bool]:
        return lambda sql: f"FROM {table}" in sql and "LIMIT" in sql and "COUNT(" not in sql

    def count(table: str) -> Callable[[str], bool]:
        return lambda sql: f"FROM {table}" in sql and "COUNT(" in sql

    return [
        Case(
            "Session POST: the duplicate check (`client_id` already stored?)",
            lambda: _request("p5", f"{q}/sessions/", session),
            lambda sql: f"FROM {sessionlog}" in sql and '"client_id" =' in sql,
        ),
        Case(
            "Programme GET (`/programmes/current/`): the programme in force",
            lambda: _request("p5", f"{q}/programmes/current/"),
            lambda sql: 'FROM "exercise_programme"' in sql and "MAX(" in sql,
        ),
        Case(
            "Clinician patient list: sessions this local week (`_sessions_this_local_week`)",
            lambda: _request("bench.physio", f"{q}/patients/"),
            count(sessionlog),
        ),
        Case(
            "Weekly adherence job, one batch of 500 patients: `session_completions`",
            lambda: _calls(
                lambda: selectors.session_completions(ids, since=earliest, until=latest)
            ),
            lambda sql: f"FROM {sessionlog}" in sql,
        ),
        Case(
            "Weekly adherence job, one batch of 500 patients: `last_session_before`",
            lambda: _calls(lambda: selectors.last_session_before(ids, before=earliest)),
            lambda sql: f"FROM {sessionlog}" in sql,
        ),
        Case(
            "Decline rules, one batch of 500 patients: `session_scores`",
            lambda: _calls(
                lambda: selectors.session_scores(ids, since=now - SESSION_WINDOW, until=now)
            ),
            lambda sql: f"FROM {sessionlog}" in sql,
        ),
        Case(
            "Alert list (`/alerts/`, a physiotherapist with 200 patients): the page",
            lambda: _request("bench.physio", f"{q}/alerts/"),
            page(alert),
        ),
        Case(
            "Alert list: the page's count",
            lambda: _request("bench.physio", f"{q}/alerts/"),
            count(alert),
        ),
        Case(
            "Alert list `?status=open` (a nurse with 500 patients)",
            lambda: _request("bench.nurse0", f"{q}/alerts/?status=open"),
            page(alert),
        ),
        Case(
            "Alert list `?urgency=urgent` (a physiotherapist)",
            lambda: _request("bench.physio", f"{q}/alerts/?urgency=urgent"),
            page(alert),
        ),
        Case(
            "Audit list (`/audit/`, organisation admin): the page",
            lambda: _request("bench.admin", f"{q}/audit/"),
            page(audit),
        ),
        Case(
            "Audit list `?actor=` (one physiotherapist)",
            lambda: _request("bench.admin", f"{q}/audit/?actor={physio.pk}"),
            page(audit),
        ),
        Case(
            "Audit list `?patient=`",
            lambda: _request("bench.admin", f"{q}/audit/?patient={own.pk}"),
            page(audit),
        ),
        Case(
            "Audit list `?occurred_after=` (the last day)",
            lambda: _request("bench.admin", f"{q}/audit/?occurred_after={day_ago}"),
            page(audit),
        ),
        Case(
            "Audit list `?action=delete` (rare: the page walks the index)",
            lambda: _request("bench.admin", f"{q}/audit/?action=delete"),
            page(audit),
        ),
        Case(
            "Access log (`/me/access-log/`, a patient)",
            lambda: _request("p5", f"{q}/me/access-log/"),
            page(audit),
        ),
        Case(
            "Session list `?started_after=` (a patient, 4 weeks)",
            lambda: _request("p5", f"{q}/sessions/?started_after={four_weeks_ago}"),
            page(sessionlog),
        ),
        Case(
            "Session list `?updated_since=` (a patient's sync, the last day): the count",
            lambda: _request("p5", f"{q}/sessions/?updated_since={day_ago}"),
            count(sessionlog),
        ),
        Case(
            "Session list `?patient=&started_after=` (a physiotherapist)",
            lambda: _request(
                "bench.physio", f"{q}/sessions/?patient={own.pk}&started_after={four_weeks_ago}"
            ),
            page(sessionlog),
        ),
        Case(
            "Session list `?updated_since=` (a physiotherapist's sync, the last day): the count",
            lambda: _request("bench.physio", f"{q}/sessions/?updated_since={day_ago}"),
            count(sessionlog),
        ),
        Case(
            "Session list `?updated_since=` (a physiotherapist's sync, 14 days): the count",
            lambda: _request("bench.physio", f"{q}/sessions/?updated_since={two_weeks_ago}"),
            count(sessionlog),
        ),
        Case(
            "Assessments `?measure=CMAS` (a physiotherapist)",
            lambda: _request("bench.physio", f"{q}/assessments/?measure=CMAS"),
            page('"exercise_assessment"'),
        ),
        Case(
            "Assessments `?patient=&measured_after=` (a physiotherapist)",
            lambda: _request(
                "bench.physio",
                f"{q}/assessments/?patient={own.pk}&measured_after={four_weeks_ago}",
            ),
            page('"exercise_assessment"'),
        ),
        Case(
            "Programmes `?updated_since=` (a physiotherapist, the last week)",
            lambda: _request("bench.physio", f"{q}/programmes/?updated_since={week_ago}"),
            page('"exercise_programme"'),
        ),
        Case(
            "Programmes `?status=active` (a physiotherapist)",
            lambda: _request("bench.physio", f"{q}/programmes/?status=active"),
            page('"exercise_programme"'),
        ),
        Case(
            "Notifications `?unread=true` (a physiotherapist)",
            lambda: _request("bench.physio", f"{q}/notifications/?unread=true"),
            page('"alerts_notification"'),
        ),
        Case(
            "Notifications `?kind=alert` (a physiotherapist)",
            lambda: _request("bench.physio", f"{q}/notifications/?kind=alert"),
            page('"alerts_notification"'),
        ),
        Case(
            "Session list, unfiltered page (a physiotherapist)",
            lambda: _request("bench.physio", f"{q}/sessions/"),
            page(sessionlog),
        ),
    ]


_ID_LIST = re.compile(r"(\(|\{)((?:\d+, ?){20,}\d+)(\)|\})")


def shorten(text: str) -> str:
    """A 500-id list printed whole would drown the plan: the first three and the count."""

    def short(match: re.Match[str]) -> str:
        ids = re.split(r", ?", match.group(2))
        sep = ", " if ", " in match.group(2) else ","
        return f"{match.group(1)}{sep.join(ids[:3])}{sep}… {len(ids)} ids{match.group(3)}"

    return _ID_LIST.sub(short, text)


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        for _ in range(2):  # the second run is warm, as in production
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            plan = [row[0] for row in cursor.fetchall()]
    return "\n".join(plan)


def run(only: str | None) -> None:
    import sqlparse

    setup_django()
    out = sys.stdout
    for case in cases():
        if only and only.lower() not in case.title.lower():
            continue
        chosen = [sql for sql in case.capture() if case.pick(sql)]
        if len(chosen) != 1:
            raise RuntimeError(f"{case.title}: {len(chosen)} matching queries")
        sql = chosen[0]
        out.write(f"### {case.title}\n\n```sql\n")
        out.write(sqlparse.format(shorten(sql), reindent=True, wrap_after=96) + "\n```\n\n```\n")
        out.write(shorten(explain(sql)) + "\n```\n\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["prepare", "run"])
    parser.add_argument("--only", help="run the cases whose title contains this")
    args = parser.parse_args()
    if args.action == "prepare":
        sys.stdout.write(f"{prepare()}\n")
    else:
        run(args.only)


if __name__ == "__main__":
    main()
