"""`make chaos-flood` (also run by `make chaos`): one patient's token floods sessions/sync/
with batches of red-flag logs while the other patients log as usual, against the live app.

Finding 4 of the second trust review: a token looping /sessions/sync/ with 100 emergency logs
a request used to raise 100 emergency alerts, each pushed to every care-team member. Now the
writes are throttled per user (THROTTLE_SYNC, THROTTLE_WRITES) and repeats of a tier coalesce
into one alert (ALERT_COALESCE_MINUTES), while the symptoms of a throttled request are still
stored and alerted (DOMAIN.md 7).

Production settings (config.settings: throttles on), gunicorn as in production
(tools/live_server.py), a private Redis for the shared cache and the broker, and a PostgreSQL
database of its own (physiotrack_flood, recreated and seeded each run, on CHAOS_POSTGRES).
First a calm phase (the others only), then the flood phase (the others and the flooder).
Loopback only; bounded in time and in the flooder's requests. Prints the others' answers and
latency in both phases, the flooder's answers, and the alerts, occurrences and pushes the
care team got per tier; exits 1 if another patient got a 5xx or a 429, the flooder was never
throttled or got a 5xx, or the team got more than one alert per tier.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import secrets
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.faults.processes import PRIVATE_REDIS_PORTS, RedisServer, free_port  # noqa: E402
from tools.databases import recreate_database  # noqa: E402
from tools.live_server import start_gunicorn, stop_gunicorn  # noqa: E402

SERVER = os.environ.get("CHAOS_POSTGRES", "postgres://postgres@127.0.0.1:5432")
DATABASE = "physiotrack_flood"
RED_FLAGS = {"SYM-1": "fainting", "SYM-2": "dark_urine", "SYM-3": "rash_flare"}


@dataclass
class Seen:
    """Answers and latencies of one kind of client in one phase (under `lock`)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    answers: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)

    def add(self, status: int | str, seconds: float) -> None:
        with self.lock:
            self.answers[str(status)] += 1
            self.latencies.append(seconds)

    def figures(self) -> str:
        if not self.latencies:
            return "no requests"
        ordered = sorted(self.latencies)
        p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
        answers = ", ".join(f"{status}: {n}" for status, n in sorted(self.answers.items()))
        return (
            f"{len(ordered)} requests ({answers}); latency p50 "
            f"{statistics.median(ordered) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
            f"max {ordered[-1] * 1000:.0f} ms"
        )

    @property
    def five_hundreds(self) -> int:
        return sum(n for status, n in self.answers.items() if not status.startswith(("2", "4")))


def post(
    session: requests.Session, seen: Seen, url: str, token: str, body: Any
) -> requests.Response | None:
    started = time.monotonic()
    try:
        response = session.post(
            url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
    except requests.RequestException as error:
        seen.add(type(error).__name__, time.monotonic() - started)
        return None
    seen.add(response.status_code, time.monotonic() - started)
    return response


def log_body(phone: Any, rng: random.Random, symptoms: list[str] | None = None) -> dict[str, Any]:
    started = datetime.now(UTC) - timedelta(minutes=rng.randint(40, 60 * 24 * 3))
    return {
        "client_id": str(uuid.uuid4()),
        "version": phone.version_id,
        "started_at": started.isoformat(),
        "ended_at": (started + timedelta(minutes=35)).isoformat(),
        "completion": "full",
        "pain_before": 2,
        "pain_after": rng.choice([1, 2, 3]),
        "fatigue": rng.randint(2, 6),
        "symptoms": symptoms or [],
        "results": [{"item": item, "sets_done": 2, "reps_done": 10} for item in phone.item_ids],
    }


class Normal(threading.Thread):
    """An ordinary phone for some patients: a log every `pause` seconds, now and then an
    offline batch of 2-5, all without red flags."""

    def __init__(self, base: str, phones: list[Any], seen: Seen, stop: float, seed: int) -> None:
        super().__init__(daemon=True)
        self.base, self.phones, self.seen, self.stop = base, phones, seen, stop
        self.rng = random.Random(seed)
        self.session = requests.Session()

    def run(self) -> None:
        while time.monotonic() < self.stop:
            phone = self.rng.choice(self.phones)
            if self.rng.random() < 0.2:
                logs = [log_body(phone, self.rng) for _ in range(self.rng.randint(2, 5))]
                post(
                    self.session,
                    self.seen,
                    f"{self.base}/api/v1/sessions/sync/",
                    phone.token,
                    {"logs": logs},
                )
            else:
                body = log_body(phone, self.rng)
                post(self.session, self.seen, f"{self.base}/api/v1/sessions/", phone.token, body)
            time.sleep(self.rng.uniform(0.3, 0.7))


class Flooder(threading.Thread):
    """One patient's token looping sessions/sync/ with `batch` red-flag logs a request (the
    three tiers in turn), as fast as answers come, until `stop` or `budget` requests in all."""

    def __init__(
        self,
        base: str,
        phone: Any,
        seen: Seen,
        stop: float,
        budget: list[int],
        batch: int,
        seed: int,
    ) -> None:
        super().__init__(daemon=True)
        self.base, self.phone, self.seen, self.stop, self.budget = base, phone, seen, stop, budget
        self.batch = batch
        self.rng = random.Random(seed)
        self.session = requests.Session()

    def run(self) -> None:
        flags = list(RED_FLAGS.values())
        url = f"{self.base}/api/v1/sessions/sync/"
        while time.monotonic() < self.stop:
            with self.seen.lock:
                if self.budget[0] <= 0:
                    return
                self.budget[0] -= 1
            logs = [log_body(self.phone, self.rng, [flags[n % 3]]) for n in range(self.batch)]
            post(self.session, self.seen, url, self.phone.token, {"logs": logs})


def phase(
    base: str, phones: list[Any], flooder: Any | None, args: argparse.Namespace, seconds: float
) -> tuple[Seen, Seen]:
    others, flood = Seen(), Seen()
    stop = time.monotonic() + seconds
    share = [phones[n :: args.clients] or phones for n in range(args.clients)]
    threads: list[threading.Thread] = [
        Normal(base, share[n], others, stop, args.seed * 100 + n) for n in range(args.clients)
    ]
    if flooder is not None:
        budget = [args.flood_requests]
        threads += [
            Flooder(base, flooder, flood, stop, budget, args.batch, args.seed * 1000 + n)
            for n in range(args.flooders)
        ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    return others, flood


def care_team_got(patient_id: int) -> list[tuple[str, int, int, int]]:
    """Per red-flag rule: alerts, occurrences counted on them, push deliveries queued."""
    from django.db.models import Sum

    from backend.alerts.models import Alert, NotificationDelivery

    rows = []
    for rule in RED_FLAGS:
        alerts = Alert.objects.filter(patient_id=patient_id, rule_id=rule)
        pushes = NotificationDelivery.objects.filter(
            channel="push",
            notification__subject_type="alert",
            notification__subject_id__in=list(alerts.values_list("pk", flat=True)),
        ).count()
        occurrences = alerts.aggregate(n=Sum("occurrences"))["n"] or 0
        rows.append((rule, alerts.count(), occurrences, pushes))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calm", type=float, default=20.0, help="seconds without the flood")
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds of the flood")
    parser.add_argument("--patients", type=int, default=30, help="including the flooder")
    parser.add_argument("--clients", type=int, default=4, help="ordinary phone threads")
    parser.add_argument("--flooders", type=int, default=6, help="threads on the flooder's token")
    parser.add_argument("--batch", type=int, default=100, help="red-flag logs per request")
    parser.add_argument("--flood-requests", type=int, default=600, help="the flood's maximum")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    run_dir = ROOT / ".run" / "flood" / datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    run_dir.mkdir(parents=True)
    redis = RedisServer(run_dir, free_port(PRIVATE_REDIS_PORTS))
    redis.start()
    database_url = recreate_database(SERVER, DATABASE)
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",  # production: throttles on
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",  # plain HTTP on the loopback
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": redis.url(0),  # no worker: deliveries wait as rows and messages
        "CACHE_URL": redis.url(1),  # the throttles' counters, shared by the workers
        "JWT_ACCESS_MINUTES": "240",
        "LOG_LEVEL": "WARNING",
        "PHYSIOTRACK_RUN_DIR": str(run_dir),
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from rest_framework.settings import api_settings

    from bench.chaos import seed

    print(f"flood: seeding {args.patients} patients in {DATABASE}; logs in {run_dir}")
    flooder, *phones = seed(args.patients)
    port = free_port()
    server = start_gunicorn(port=port, env={**os.environ, **env}, log=run_dir / "gunicorn.log")
    base = f"http://127.0.0.1:{port}"
    try:
        rates = {key: str(rate) for key, rate in api_settings.DEFAULT_THROTTLE_RATES.items()}
        print(
            f"flood: calm {args.calm:.0f} s, then flood {args.seconds:.0f} s "
            f"(sync {rates['sync']}, writes {rates['writes']}, coalesce "
            f"{settings.ALERT_COALESCE_MINUTES} min)"
        )
        calm, _ = phase(base, phones, None, args, args.calm)
        others, flood = phase(base, phones, flooder, args, args.seconds)
    finally:
        stop_gunicorn(server)
        redis.kill()

    from backend.exercise.models import SessionLog
    from backend.symptoms.models import SymptomReport

    team = care_team_got(flooder.patient_id)
    accepted = flood.answers.get("200", 0)
    # DRF's throttle reads, then writes its counter in the cache: concurrent requests of one
    # user may slip one each past the limit.
    allowed = int(rates["sync"].split("/")[0]) * math.ceil(args.seconds / 60) + args.flooders
    print("\nOther patients")
    print(f"  calm:  {calm.figures()}")
    print(f"  flood: {others.figures()}")
    print(f"Flooder (sessions/sync/, {args.batch} red-flag logs a batch, {args.flooders} threads)")
    print(f"  {flood.figures()}")
    print(
        f"  logs stored {SessionLog.objects.filter(patient_id=flooder.patient_id).count()}, "
        f"symptom reports stored {SymptomReport.objects.filter(patient=flooder.patient_id).count()}"
    )
    print("Care team, per red-flag rule: alerts / occurrences counted / pushes queued")
    for rule, alerts, occurrences, pushes in team:
        print(f"  {rule}: {alerts} / {occurrences} / {pushes}")
    problems = [
        *(["another patient got a 5xx"] if calm.five_hundreds + others.five_hundreds else []),
        *(["another patient was throttled"] if others.answers.get("429") else []),
        *(["the flooder got a 5xx"] if flood.five_hundreds else []),
        # More batches than the sync rate allows must have been refused (a flood slower than
        # the rate, e.g. 100 red-flag logs a batch on a slow machine, is not throttled).
        *(
            [f"the flooder had {accepted} batches accepted, more than {allowed}"]
            if accepted > allowed
            else []
        ),
        *[f"{rule}: {alerts} alerts" for rule, alerts, _, _ in team if alerts != 1],
    ]
    print(f"\nflood: {'PASS' if not problems else 'FAIL: ' + '; '.join(problems)}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
