"""`make bench` / `make bench-quick`: every scenario of docs/benchmarks.md against its
baseline in the same run, on PostgreSQL and Redis, with gunicorn as in production.

Prints a table with PASS/FAIL per target and writes bench/results/latest.json."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tools.live_server import start_gunicorn, stop_gunicorn

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
LUA = ROOT / "bench" / "lua"
SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
HTTP_DB = "physiotrack_bench_http"
PORT = int(os.environ.get("BENCH_PORT", "8765"))
BASE = f"http://127.0.0.1:{PORT}"
CONNECTIONS = 8  # "8 concurrent clients"
# Candidates for config/gunicorn.py, each run on the same data and cores one after the other
# (docs/benchmarks.md, "Worker model"); "production" is config/gunicorn.py as committed.
WSGI, ASGI = "config.wsgi:application", "config.asgi:application"
WORKER_MODELS: dict[str, tuple[str, list[str], dict[str, str]]] = {
    "production": (WSGI, [], {}),
    "sync 2": (WSGI, ["--worker-class=sync", "--workers=2", "--threads=1"], {}),
    "sync 5": (WSGI, ["--worker-class=sync", "--workers=5", "--threads=1"], {}),
    "gthread 3x4": (WSGI, ["--worker-class=gthread", "--workers=3", "--threads=4"], {}),
    "gthread 2x2": (WSGI, ["--worker-class=gthread", "--workers=2", "--threads=2"], {}),
    # Django under ASGI must not keep connections (its docs): with CONN_MAX_AGE 60 every
    # request's thread kept one open and PostgreSQL ran out ("too many clients").
    "uvicorn 2": (
        ASGI,
        ["--worker-class=uvicorn_worker.UvicornWorker", "--workers=2"],
        {"DATABASE_CONN_MAX_AGE": "0"},
    ),
}


def sh_env(database: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": f"{SERVER}/{database}",
        # Databases of their own: the bench's queued tasks must never reach a test's worker.
        "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/4"),
        "CACHE_URL": os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/5"),
    }


def prepare_http_data() -> dict[str, Any]:
    """A physio with 200 patients; one patient with an active 6-item programme."""
    os.environ.update(sh_env(HTTP_DB))
    from tools.databases import ensure_database

    ensure_database(SERVER, HTTP_DB)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from rest_framework_simplejwt.tokens import RefreshToken

    call_command("migrate", verbosity=0)
    from config.celery import app

    app.control.purge()  # no worker runs during the bench: drop the last run's queued tasks
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_baseline_row "
            "(id bigserial PRIMARY KEY, client_id uuid, body jsonb)"
        )
        cursor.execute("TRUNCATE bench_baseline_row")
    from bench.fixtures import http_fixture

    fixture = http_fixture()
    fixture["patient_token"] = str(RefreshToken.for_user(fixture.pop("patient_user")).access_token)
    fixture["physio_token"] = str(RefreshToken.for_user(fixture.pop("physio_user")).access_token)
    return fixture


def wrk(url: str, script: str, seconds: int, env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{CONNECTIONS}",
            f"-d{seconds}s",
            "--timeout",
            "5s",
            "-s",
            str(LUA / script),
            url,
        ],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    result["rps"] = round(result["requests"] / result["seconds"], 1)
    return result


def job(action: str, patients: int, module: str = "bench.jobs") -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", module, action, "--patients", str(patients)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def compare_worker_models(
    post_env: dict[str, str], token: str, seconds: int
) -> dict[str, dict[str, Any]]:
    """Session POST and programme GET under each candidate worker model."""
    results: dict[str, dict[str, Any]] = {}
    for index, (name, (app, options, env)) in enumerate(WORKER_MODELS.items(), start=1):
        log = RESULTS / f"gunicorn-{name.replace(' ', '-')}.log"
        server_env = {**sh_env(HTTP_DB), **env}
        server = start_gunicorn(port=PORT, env=server_env, log=log, options=options, app=app)
        try:
            fresh_ids = {**post_env, "RUN_ID": str(int(post_env["RUN_ID"]) + index)}
            results[name] = {
                "session_post": wrk(
                    f"{BASE}/api/v1/sessions/", "post_session.lua", seconds, fresh_ids
                ),
                "programme_get": wrk(
                    f"{BASE}/api/v1/programmes/current/", "get.lua", seconds, {"TOKEN": token}
                ),
            }
        finally:
            stop_gunicorn(server)
    return results


def ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller, under 3 minutes")
    parser.add_argument(
        "--worker-models", action="store_true", help="only the worker-model comparison"
    )
    args = parser.parse_args()
    seconds = 8 if args.quick else 30
    sizes = (1_000, 10_000) if args.quick else (10_000, 100_000)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: run `make bench` (it installs it)")
    RESULTS.mkdir(exist_ok=True)
    fixture = prepare_http_data()
    (RESULTS / "programme_document.json").write_bytes(fixture.pop("programme_document"))
    post_env = {
        "BODY_TEMPLATE": json.dumps(fixture["session_body"]),
        "TOKEN": fixture["patient_token"],
        "RUN_ID": str(int(time.time()) % 2**31),
    }
    model_seconds = max(5, seconds // 3)
    if args.worker_models:
        models = compare_worker_models(post_env, fixture["patient_token"], model_seconds)
        (RESULTS / "worker_models.json").write_text(json.dumps(models, indent=2))
        print_worker_models(models)
        return
    server = start_gunicorn(port=PORT, env=sh_env(HTTP_DB), log=RESULTS / "gunicorn.log")
    scenarios: dict[str, Any] = {}
    try:
        scenarios["baseline_insert"] = wrk(
            f"{BASE}/bench/baseline/insert/", "post_session.lua", seconds, {**post_env, "TOKEN": ""}
        )
        scenarios["session_post"] = wrk(
            f"{BASE}/api/v1/sessions/", "post_session.lua", seconds, post_env
        )
        scenarios["session_replay"] = wrk(
            f"{BASE}/api/v1/sessions/", "post_session.lua", seconds, {**post_env, "REPLAY": "1"}
        )
        scenarios["baseline_document"] = wrk(
            f"{BASE}/bench/baseline/document/", "get.lua", seconds, {}
        )
        patient = {"TOKEN": fixture["patient_token"]}
        scenarios["programme_get"] = wrk(
            f"{BASE}/api/v1/programmes/current/", "get.lua", seconds, patient
        )
        scenarios["programme_304"] = wrk(
            f"{BASE}/api/v1/programmes/current/",
            "get.lua",
            seconds,
            {**patient, "ETAG": fixture["etag"]},
        )
        physio = {"TOKEN": fixture["physio_token"]}
        scenarios["patients_list"] = wrk(f"{BASE}/api/v1/patients/", "get.lua", seconds, physio)
        scenarios["alerts_list"] = wrk(f"{BASE}/api/v1/alerts/", "get.lua", seconds, physio)
        scenarios["patients_list"]["queries"] = fixture["queries"]["patients"]
        scenarios["alerts_list"]["queries"] = fixture["queries"]["alerts"]
    finally:
        stop_gunicorn(server)
    models = compare_worker_models(post_env, fixture["patient_token"], model_seconds)
    for name, pair in models.items():
        for endpoint, result in pair.items():
            scenarios[f"{endpoint} [{name}]"] = result
    fastest_post = max(pair["session_post"]["rps"] for pair in models.values())
    for size in sizes:
        job("generate", size)
        scenarios[f"adherence_{size}"] = job("adherence", size)
        scenarios[f"adherence_sql_{size}"] = job("sql-baseline", size)
    big = sizes[-1]
    scenarios[f"reminders_{big}"] = job("reminders", big)
    scenarios[f"scale_out_{big}"] = job("scale-out", big, "bench.scale")
    scenarios[f"emergency_{big}"] = job("emergency", big, "bench.scale")
    due = 100_000 if args.quick else 1_000_000
    scenarios[f"reminders_fanout_{due}"] = job("reminders", due, "bench.scale")

    s = scenarios
    small = sizes[0]
    targets = [
        (
            "production worker model >= 90% of the fastest (POST)",
            ratio(models["production"]["session_post"]["rps"], fastest_post),
            ">=",
            0.90,
        ),
        (
            "session POST >= 20% of baseline throughput",
            ratio(s["session_post"]["rps"], s["baseline_insert"]["rps"]),
            ">=",
            0.20,
        ),
        ("session POST p99 < 150 ms at 8 clients", s["session_post"]["p99_ms"], "<", 150),
        (
            "replay >= 150% of session POST throughput",
            ratio(s["session_replay"]["rps"], s["session_post"]["rps"]),
            ">=",
            1.50,
        ),
        (
            "programme GET >= 50% of baseline",
            ratio(s["programme_get"]["rps"], s["baseline_document"]["rps"]),
            ">=",
            0.50,
        ),
        (
            "programme 304 >= 70% of baseline",
            ratio(s["programme_304"]["rps"], s["baseline_document"]["rps"]),
            ">=",
            0.70,
        ),
        ("clinician list median < 50 ms", s["patients_list"]["p50_ms"], "<", 50),
        (
            f"adherence {big} within 3x SQL baseline",
            ratio(s[f"adherence_{big}"]["seconds"], s[f"adherence_sql_{big}"]["seconds"]),
            "<=",
            3,
        ),
        (f"adherence {big} peak RSS < 512 MB", s[f"adherence_{big}"]["peak_rss_mb"], "<", 512),
        (
            f"adherence grows linearly ({big} < 12x {small})",
            ratio(s[f"adherence_{big}"]["seconds"], s[f"adherence_{small}"]["seconds"]),
            "<",
            12,
        ),
        (f"reminder sweep {big} < 60 s", s[f"reminders_{big}"]["seconds"], "<", 60),
        (
            f"weekly job {big}: 2 workers / 1 worker wall time",
            s[f"scale_out_{big}"]["ratio_2_to_1"],
            "<=",
            0.65,
        ),
        (
            f"weekly job {big}: peak RSS per worker < 256 MB",
            max(
                rss
                for run in s[f"scale_out_{big}"]["runs"].values()
                for rss in run["peak_rss_mb_per_worker"]
            ),
            "<",
            256,
        ),
        (
            f"reminders, {due} due at once, 2 workers < 300 s",
            s[f"reminders_fanout_{due}"]["seconds"],
            "<",
            300,
        ),
        (
            f"reminders, {due} due: peak RSS per worker < 256 MB",
            max(s[f"reminders_fanout_{due}"]["peak_rss_mb_per_worker"]),
            "<",
            256,
        ),
        (
            f"reminders, {due} due: slowest chunk < its 180 s soft limit",
            s[f"reminders_fanout_{due}"]["chunk_seconds_max"],
            "<",
            180,
        ),
        (
            "red-flag push p99 < 5 s during the weekly job",
            s[f"emergency_{big}"]["latency_p99_s"],
            "<",
            5,
        ),
        (f"reminder sweep {big} < 512 MB", s[f"reminders_{big}"]["peak_rss_mb"], "<", 512),
    ]
    checks = []
    for name, value, op, limit in targets:
        ok = {"<": value < limit, "<=": value <= limit, ">=": value >= limit}[op]
        checks.append(
            {
                "target": name,
                "value": value,
                "limit": f"{op} {limit}",
                "result": "PASS" if ok else "FAIL",
            }
        )
    report = {
        "mode": "quick" if args.quick else "full",
        "machine": machine(),
        "scenarios": scenarios,
        "targets": checks,
    }
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2))
    print_table(report)


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "gunicorn": "3 workers x 4 threads (gthread)",
    }


def print_worker_models(models: dict[str, dict[str, Any]]) -> None:
    header = f"{'POST req/s':>12}{'POST p99':>10}{'GET req/s':>11}{'GET p99':>9}"
    print(f"\n{'worker model':<14}{header}")
    for name, pair in models.items():
        post, get = pair["session_post"], pair["programme_get"]
        print(f"{name:<14}{post['rps']:>12}{post['p99_ms']:>10}{get['rps']:>11}{get['p99_ms']:>9}")


def print_table(report: dict[str, Any]) -> None:
    print(f"\nPhysioTrack bench ({report['mode']}) on {report['machine']['cpus']} CPUs")
    print(f"{'scenario':<30}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name, result in report["scenarios"].items():
        if "rps" in result:
            print(
                f"{name:<30}{result['rps']:>10}{result['p50_ms']:>10}{result['p99_ms']:>10}"
                f"{result['errors']:>8}"
            )
        else:
            print(f"{name:<30} {json.dumps(result)}")
    print()
    for check in report["targets"]:
        print(
            f"{check['result']:<5} {check['target']:<58} {check['value']:>10} "
            f"(limit {check['limit']})"
        )


if __name__ == "__main__":
    main()
