"""The audit list (`GET /audit/`, an organisation admin) on a plain and on a month-partitioned
trail: ~2M events over 24 months, the first and the 100th page, through the view (filters,
the selector, the keyset pagination, the serializer) in process, no HTTP.

    .venv/bin/python -m bench.audit_partitions [--events 2000000] [--months 24] [--repeat 15]

Its own database (physiotrack_bench_audit, recreated each run): migrated with the trail plain
(audit 0006), filled with generate_series in SQL, measured; then migration audit/0007
partitions it (timed), and the same pages are measured again. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

from tools.databases import recreate_database

SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
NAME = "physiotrack_bench_audit"
ACTORS = 40


def setup() -> None:
    os.environ["DATABASE_URL"] = recreate_database(SERVER, NAME)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("migrate", "audit", "0006", verbosity=0)  # the trail as it was: one table


def generate(events: int, months: int) -> tuple[Any, Any]:
    """An organisation with its admin and ACTORS clinicians, and `events` audit events spread
    evenly over the last `months` months (one every few seconds), oldest first."""
    from django.db import connection

    from backend.accounts.models import Organisation, User

    org = Organisation.objects.create(name="Bench", slug="bench")
    admin = User.objects.create(username="bench.admin", role="org_admin", organisation=org)
    clinicians = User.objects.bulk_create(
        [
            User(username=f"c{i}", role="physiotherapist", organisation=org, password="!")
            for i in range(ACTORS)
        ]
    )
    first, last = clinicians[0].pk, clinicians[-1].pk
    seconds = months * 30.44 * 86400
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO audit_accessevent (occurred_at, actor_id, actor_role, organisation_id,
                action, resource_type, resource_id, request_id, ip)
            SELECT now() - make_interval(secs => {seconds} * (1 - g::float8 / {events})),
                   {first} + g % ({last} - {first} + 1), 'physiotherapist', {org.pk},
                   (ARRAY['read','read','read','read','create','update'])[1 + g % 6],
                   (ARRAY['session','patient','alert','assessment'])[1 + g % 4],
                   g % 100000, md5(g::text), '192.0.2.1'
            FROM generate_series(1, {events}) AS g
            """
        )
    _vacuum()
    return admin, clinicians[3]


def _vacuum() -> None:
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"],
        autocommit=True,
    ) as conn:  # fmt: skip
        conn.execute("VACUUM ANALYZE audit_accessevent")  # the parent: every partition too


def measure(admin: Any, actor: Any, repeat: int) -> dict[str, dict[str, float]]:
    """Median and p90 milliseconds of page 1 and page 100, each with and without a filter."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIRequestFactory, force_authenticate

    from backend.audit.apis import AuditEventListApi

    view = AuditEventListApi.as_view()
    factory = APIRequestFactory()

    def get(url: str) -> Any:
        request = factory.get(url, HTTP_HOST="127.0.0.1")
        force_authenticate(request, user=admin)
        response = view(request)
        assert response.status_code == 200, response.data  # noqa: S101
        return response

    results: dict[str, dict[str, float]] = {}
    for label, url in (("all", "/api/v1/audit/"), ("actor", f"/api/v1/audit/?actor={actor.pk}")):
        pages = [url]
        while len(pages) < 100:
            following = get(pages[-1]).data["next"]
            if following is None:
                break
            pages.append(following)
        for number, page in ((1, pages[0]), (len(pages), pages[-1])):
            get(page)  # warm
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                get(page)
                times.append((time.perf_counter() - started) * 1000)
            with CaptureQueriesContext(connection) as captured:
                get(page)
            sql = max(captured.captured_queries, key=lambda q: len(q["sql"]))["sql"]
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}")
                plan = cursor.fetchone()[0][0]
            results[f"{label} page {number}"] = {
                "median_ms": round(statistics.median(times), 2),
                "p90_ms": round(sorted(times)[int(len(times) * 0.9) - 1], 2),
                "queries": len(captured.captured_queries),
                "sql_planning_ms": round(plan["Planning Time"], 2),
                "sql_execution_ms": round(plan["Execution Time"], 2),
                "shared_buffers": plan["Plan"].get("Shared Hit Blocks", 0)
                + plan["Plan"].get("Shared Read Blocks", 0),
            }
    return results


def partition() -> float:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", "audit", "0007", verbosity=0)
    took = time.perf_counter() - started
    _vacuum()
    return took


def report(before: dict[str, dict[str, float]], after: dict[str, dict[str, float]]) -> None:
    print(f"{'case':<16} {'plain median/p90 ms':>22} {'partitioned median/p90 ms':>28}"
          f" {'SQL plan+exec ms plain':>24} {'partitioned':>14}")  # fmt: skip
    for case in before:
        b, a = before[case], after[case]
        print(
            f"{case:<16} {b['median_ms']:>12} / {b['p90_ms']:<7} {a['median_ms']:>16} / "
            f"{a['p90_ms']:<9} {b['sql_planning_ms']:>10} + {b['sql_execution_ms']:<10} "
            f"{a['sql_planning_ms']:>6} + {a['sql_execution_ms']:<6}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    setup()
    started = time.perf_counter()
    admin, actor = generate(args.events, args.months)
    print(f"generated {args.events} events in {time.perf_counter() - started:.1f} s")
    before = measure(admin, actor, args.repeat)
    took = partition()
    from backend.audit.partitions import monthly_partitions

    print(f"migration audit/0007 (partition, copy, indexes): {took:.1f} s, "
          f"{len(monthly_partitions())} monthly partitions")  # fmt: skip
    after = measure(admin, actor, args.repeat)
    report(before, after)
    print({"plain": before, "partitioned": after})


if __name__ == "__main__":
    main()
