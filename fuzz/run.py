"""`make fuzz`: schemathesis against the live app and the COMMITTED openapi.yaml.

Starts gunicorn with DEBUG off on a database of its own (PostgreSQL `physiotrack_fuzz` on the
server of DATABASE_URL, else a throw-away SQLite file) and on Redis, as production runs (without
DEBUG start-up refuses an in-process cache or a file broker: core.E001-E003), migrated and
seeded with `seed_demo`;
signs in a patient and a clinician of the demo clinic through the real token endpoint; then
runs schemathesis once per token. It fails on any 5xx and on any response the committed
schema does not describe (status, body, content type, headers).

Not part of `make test`: .ci/run calls it after the suite.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tools.databases import recreate_database
from tools.live_server import start_gunicorn, stop_gunicorn

ROOT = Path(__file__).resolve().parents[1]
PORT = int(os.environ.get("FUZZ_PORT", "8770"))
BASE = f"http://127.0.0.1:{PORT}"
DATABASE = os.environ.get("FUZZ_DATABASE", "physiotrack_fuzz")
DEMO_PASSWORD = "physiotrack-demo"  # noqa: S105  # the published demo logins (seed_demo)
SIGN_INS = {"patient": "demo.amelia", "clinician": "demo.physio"}
# The demo clinic's laboratory (seed_demo): FHIR import is the only thing its key opens, so
# its run covers the operations tagged "fhir" only, with the clinician's ids bound.
LAB = "lab"
DEMO_LAB_KEY = "ptsa_demo-lab-key-for-make-run-only"  # the published demo key (seed_demo)

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)
# Per operation and per token; 2 tokens × ~45 operations stay within ~3-4 minutes on 2 cores.
MAX_EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES", "30")
# Operations that would end our own tokens or account for the rest of the run (everything then
# answers a documented 401, and the run tests nothing more). Logout is not one: it revokes the
# refresh token in its body, and we hold none. Account deactivation would be: list its path
# here (or fuzz it with a token of its own). Hypothesis's deadline is off in schemathesis 4.
EXCLUDED_PATHS: list[str] = []
# Redis databases of its own (emptied at the start): the suite's and the bench's stay theirs.
CACHE_URL = os.environ.get("FUZZ_CACHE_URL", "redis://127.0.0.1:6379/2")
BROKER_URL = os.environ.get("FUZZ_BROKER_URL", "redis://127.0.0.1:6379/3")


def database_url(run_dir: Path) -> str:
    """Our own database on the server of DATABASE_URL (recreated each run), else SQLite."""
    configured = os.environ.get("DATABASE_URL", "")
    if not configured.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{run_dir / 'fuzz.sqlite3'}"
    parts = urlsplit(configured)
    return recreate_database(urlunsplit((parts.scheme, parts.netloc, "", "", "")), DATABASE)


def server_env(run_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        # The suite's broker and cache stay the suite's: this run has its own.
        if key not in {"CELERY_BROKER_URL", "CACHE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "0",  # plain HTTP on the loopback
            "DATABASE_URL": database_url(run_dir),
            "PHYSIOTRACK_RUN_DIR": str(run_dir),
            "CACHE_URL": CACHE_URL,
            "CELERY_BROKER_URL": BROKER_URL,  # no worker: published tasks wait, then are emptied
            # No push service on purpose (alerts.E001); with no worker nothing is sent anyway.
            "PUSH_SENDER": "backend.alerts.push.ConsoleSender",
            "JWT_ACCESS_MINUTES": "60",  # outlives the run
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def empty_redis() -> None:
    """Throttle counters and lockouts of a previous run would answer 429 to this one; tasks it
    published (no worker consumes them) would pile up. Exits with what to do without Redis."""
    import redis

    for url in (CACHE_URL, BROKER_URL):
        try:
            redis.Redis.from_url(url, socket_connect_timeout=2).flushdb()
        except redis.RedisError as error:
            raise SystemExit(
                f"make fuzz needs Redis at {url} ({error}): start redis-server, or point "
                "FUZZ_CACHE_URL and FUZZ_BROKER_URL at databases it may empty"
            ) from error


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)  # noqa: S603


def access_token(username: str) -> str:
    request = urllib.request.Request(  # noqa: S310  # our own loopback server
        f"{BASE}/api/v1/auth/token/",
        data=json.dumps({"username": username, "password": DEMO_PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return str(json.load(response)["access"])


def get(path: str, token: str) -> object:
    request = urllib.request.Request(  # noqa: S310  # our own loopback server
        f"{BASE}{path}", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.load(response)


def rows(path: str, token: str) -> list[dict[str, object]]:
    body = get(f"{path}?page_size=200", token)
    found = body["results"] if isinstance(body, dict) else body
    assert isinstance(found, list)  # noqa: S101  # a list endpoint answers a list
    return found


# Path and body ids the fuzzer draws from the caller's own records (most of the time), so it
# reaches the logic behind the 404 of an unknown id: parameter → (list endpoint, field).
KNOWN_IDS = {
    "patient_id": ("/api/v1/patients/", "id"),
    "programme_id": ("/api/v1/programmes/", "id"),
    "session_id": ("/api/v1/sessions/", "id"),
    "exercise_id": ("/api/v1/exercises/", "id"),
    "proposal_id": ("/api/v1/progression-proposals/", "id"),
    "alert_id": ("/api/v1/alerts/", "id"),
    "notification_id": ("/api/v1/notifications/", "id"),
    "device_id": ("/api/v1/devices/", "id"),
}
# Where else the same ids appear: (location.name) → the KNOWN_IDS entry.
ALSO = {
    "query.patient": "patient_id",
    "body.patient": "patient_id",
    "query.programme": "programme_id",
}
KNOWN_SHARE = 0.8  # the rest stay generated: unknown ids must keep answering 404


def config_file(token: str, path: Path) -> Path:
    """A schemathesis.toml binding ids to the caller's records, read through the API."""
    values: dict[str, list[int]] = {}
    for name, (endpoint, field) in KNOWN_IDS.items():
        values[name] = sorted({int(str(row[field])) for row in rows(endpoint, token)})
    patients = rows("/api/v1/patients/", token)
    values["membership_id"] = sorted(
        {int(str(seat["id"])) for p in patients for seat in p["care_team"]}  # type: ignore[attr-defined]
    )
    lines = []
    for name, ids in values.items():
        if ids:
            # Path parameters are strings in the schema (the URL converter's pattern); the
            # same ids in a query or a body are numbers.
            lines += [f"[dictionaries.{name}]", f"values = {json.dumps([str(i) for i in ids])}"]
            lines += [f"[dictionaries.{name}_number]", f"values = {json.dumps(ids)}", ""]
    bindings = {f"path.{name}": name for name in values} | {
        key: f"{name}_number" for key, name in ALSO.items()
    }
    lines.append("[parameters]")
    for key, dictionary in bindings.items():
        if values[dictionary.removesuffix("_number")]:
            share = KNOWN_SHARE
            lines.append(f'"{key}" = {{ dictionary = "{dictionary}", probability = {share} }}')
    path.write_text("\n".join(lines) + "\n")
    return path


def schemathesis(
    who: str, token: str, report_dir: Path, run_dir: Path, *, ids_token: str = "", tag: str = ""
) -> subprocess.Popen[bytes]:
    """Start schemathesis as `who` (on the operations of `tag` if given, with the ids that
    `ids_token` sees if given); its output goes to report_dir/<who>.log."""
    config = config_file(ids_token or token, report_dir / f"{who}.toml")
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(config),
        "run",
        str(ROOT / "openapi.yaml"),
        "--url",
        BASE,
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--max-examples",
        MAX_EXAMPLES,
        # One thread per process: CPython 3.11's AST constructor keeps its recursion depth in
        # per-interpreter state, and Hypothesis parses lambdas' source from concurrent workers
        # ("AST constructor recursion depth mismatch", an error of the fuzzer, not of the API).
        "--workers",
        "1",
        "--seed",
        os.environ.get("FUZZ_SEED", "20261201"),
        "--continue-on-failure",
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(report_dir / who),
        *[arg for path in EXCLUDED_PATHS for arg in ("--exclude-path", path)],
        # FHIR resources nest many required fields: generating them trips the speed check.
        *(["--include-tag", tag, "--suppress-health-check=too_slow"] if tag else []),
    ]
    # In a throw-away folder each: schemathesis keeps a cache (.schemathesis/) where it runs.
    cwd = run_dir / who
    cwd.mkdir()
    with (report_dir / f"{who}.log").open("wb") as output:  # the child keeps its own copy
        return subprocess.Popen(command, cwd=cwd, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603


def main() -> int:
    run_dir = Path(tempfile.mkdtemp(prefix="physiotrack-fuzz-"))
    report_dir = ROOT / ".run" / "fuzz"
    shutil.rmtree(report_dir, ignore_errors=True)
    report_dir.mkdir(parents=True)
    env = server_env(run_dir)
    empty_redis()
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "seed_demo", "--force")
    log = report_dir / "gunicorn.log"
    # One process; threads serve schemathesis's concurrent workers.
    server = start_gunicorn(port=PORT, env=env, log=log, options=["--workers=1", "--threads=4"])
    try:
        tokens = {who: access_token(username) for who, username in SIGN_INS.items()}
        # Both roles at once, a process each (the two cores), instead of threads in one.
        runs = {who: schemathesis(who, token, report_dir, run_dir) for who, token in tokens.items()}
        runs[LAB] = schemathesis(
            LAB, DEMO_LAB_KEY, report_dir, run_dir, ids_token=tokens["clinician"], tag="fhir"
        )
        failed = [who for who, run in runs.items() if run.wait()]
        for who in runs:
            print(
                f"\n== schemathesis as the {who} ({SIGN_INS.get(who, 'Demo lab')}) ==", flush=True
            )
            print((report_dir / f"{who}.log").read_text(errors="replace"), flush=True)
    finally:
        stop_gunicorn(server)
        shutil.rmtree(run_dir, ignore_errors=True)
    errors = [line for line in log.read_text().splitlines() if '"level": "ERROR"' in line]
    if errors:
        print(f"\nfuzz: the server logged {len(errors)} errors; see {log}")
    if failed:
        print(f"\nfuzz: FAILED for {', '.join(failed)}; reports in {report_dir}")
        return 1
    print("\nfuzz: no server error, every response as the committed schema says")
    return 0


if __name__ == "__main__":
    sys.exit(main())
