"""`make chaos`: the mobile scenario under faults, then proof that nothing was lost.

Starts a private Redis (broker and cache), the API under gunicorn (3 workers x 4 threads, as
in production), two Celery workers and beat, on a PostgreSQL database of its own
(physiotrack_chaos, recreated and seeded each run). Client threads play phones for a few
minutes: they log sessions (some offline batches through sessions/sync/, some with a
red-flag symptom, some high pain), replay uploads, record home assessments, and retry
whatever failed with the same client_id, as the app does. Meanwhile a worker is SIGKILLed
about every 20 s (and restarted) and Redis, which keeps nothing on disk, is killed and
restarted about every 45 s.

At the end the queues are drained: the sweepers run as beat would run them a few minutes
later. Then the figures: requests, logs accepted, stored, duplicated, lost; red-flag alerts
expected and found; notifications and pushes, duplicated or missing. Exits 1 on any loss or
duplicate. Not part of CI (it takes minutes); see README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.faults.processes import (  # noqa: E402  # after the path is set
    EMAILS,
    PRIVATE_REDIS_PORTS,
    PUSHES,
    LiveApp,
    Managed,
    RedisServer,
    celery_worker,
    free_port,
    wait_until,
)
from tools.databases import recreate_database  # noqa: E402

SERVER = os.environ.get("CHAOS_POSTGRES", "postgres://postgres@127.0.0.1:5432")
DATABASE = "physiotrack_chaos"
RED_FLAGS = {"SYM-1": "fainting", "SYM-2": "dark_urine", "SYM-3": "rash_flare"}
SETTINGS = "bench.settings"  # production settings, throttles off, long-lived tokens
QUEUES = ("urgent", "default", "bulk", "jobs")  # CELERY_TASK_QUEUES in config/settings.py
GIVE_UP_AFTER = 120.0  # seconds a phone keeps retrying one upload after the run ended


# --- Set-up ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phone:
    patient_id: int
    token: str
    version_id: int
    item_ids: list[int]


def seed(patients: int) -> list[Phone]:
    """A clinic, its physiotherapist and nurse, and patients on active programmes; everyone
    has a phone (a push token)."""
    from django.core.management import call_command
    from rest_framework_simplejwt.tokens import RefreshToken

    from backend.accounts.models import (
        CareTeamMembership,
        Organisation,
        PatientProfile,
        PushDevice,
        User,
    )
    from backend.exercise.models import Exercise
    from backend.exercise.services.programmes import programme_create

    call_command("migrate", verbosity=0)
    org = Organisation.objects.create(name="Chaos clinic", slug="chaos")
    physio = User.objects.create(
        username="chaos.physio", role="physiotherapist", organisation=org, email="p@example.org"
    )
    nurse = User.objects.create(
        username="chaos.nurse", role="nurse", organisation=org, email="n@example.org"
    )
    exercises = list(Exercise.objects.filter(organisation__isnull=True).order_by("id")[:3])
    start = datetime.now(UTC).date() - timedelta(weeks=8)
    phones = []
    zones = ["Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]
    for n in range(patients):
        user = User.objects.create(username=f"chaos.p{n}", role="patient", organisation=org)
        profile = PatientProfile.objects.create(
            user=user,
            date_of_birth=date(2013, 1, 1),
            timezone=zones[n % len(zones)],
            notifications_consent=True,
        )
        CareTeamMembership.objects.create(patient=profile, member=physio, role="physiotherapist")
        CareTeamMembership.objects.create(patient=profile, member=nurse, role="nurse")
        programme = programme_create(
            by=physio,
            patient=profile,
            content={
                "title": "Strength block",
                "goals": "Climb stairs",
                "start_date": start,
                "review_date": start + timedelta(weeks=12),
                "sessions_per_week_min": 2,
                "sessions_per_week_max": 3,
                "training_weekdays": [1, 3, 5],
                "items": [{"exercise": e.pk, "sets": 2, "reps": 10} for e in exercises],
            },
            activate=True,
        ).programme
        version = programme.current_version
        if version is None:
            raise RuntimeError("programme_create made no version")
        phones.append(
            Phone(
                profile.pk,
                str(RefreshToken.for_user(user).access_token),
                version.pk,
                list(version.items.order_by("position").values_list("pk", flat=True)),
            )
        )
    for user in User.objects.filter(organisation=org):
        PushDevice.objects.create(user=user, platform="android", token=f"chaos-{user.pk}")
    return phones


# --- The phones -----------------------------------------------------------------------------


@dataclass
class Tally:
    """What the phones saw; shared by the client threads (under `lock`)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: Counter[str] = field(default_factory=Counter)  # by answer: 201, 503, "error"…
    latencies: list[float] = field(default_factory=list)
    slowest: list[tuple[float, str, str]] = field(default_factory=list)  # the 3 slowest
    # client_id -> the symptom rules the log fires: its red flag, SYM-2 for pain after >= 7
    logs_sent: dict[str, tuple[str, ...]] = field(default_factory=dict)
    logs_accepted: dict[str, set[int]] = field(default_factory=dict)  # client_id -> ids seen
    logs_abandoned: set[str] = field(default_factory=set)
    replays: int = 0
    replays_other_id: int = 0
    assessments_sent: set[str] = field(default_factory=set)  # measured_at, unique per send
    assessments_accepted: set[str] = field(default_factory=set)

    def answered(self, path: str, status: int | str, seconds: float) -> None:
        with self.lock:
            self.requests[str(status)] += 1
            self.latencies.append(seconds)
            self.slowest = sorted([*self.slowest, (seconds, path, str(status))])[-3:]


class PhoneThread(threading.Thread):
    def __init__(self, base: str, phones: list[Phone], tally: Tally, stop_at: float, seed: int):
        super().__init__(daemon=True)
        self.base, self.phones, self.tally, self.stop_at = base, phones, tally, stop_at
        self.random = random.Random(seed)
        self.session = requests.Session()
        self.uploaded: list[tuple[Phone, dict[str, Any]]] = []

    def run(self) -> None:
        while time.monotonic() < self.stop_at:
            phone = self.random.choice(self.phones)
            roll = self.random.random()
            if roll < 0.1 and self.uploaded:
                self.replay()
            elif roll < 0.2:
                self.assessment(phone)
            elif roll < 0.35:
                self.sync(phone, [self.log_body(phone) for _ in range(self.random.randint(2, 5))])
            else:
                self.upload(phone, self.log_body(phone))
            time.sleep(self.random.uniform(0.02, 0.1))

    def log_body(self, phone: Phone) -> dict[str, Any]:
        started = datetime.now(UTC) - timedelta(minutes=self.random.randint(40, 60 * 24 * 3))
        rule = self.random.choice(list(RED_FLAGS)) if self.random.random() < 0.1 else ""
        pain_after = self.random.choice([1, 2, 2, 3, 3, 7])
        client_id = str(uuid.uuid4())
        body = {
            "client_id": client_id,
            "version": phone.version_id,
            "started_at": started.isoformat(),
            "ended_at": (started + timedelta(minutes=35)).isoformat(),
            "completion": self.random.choice(["full", "full", "partial"]),
            "pain_before": 2,
            "pain_after": pain_after,
            "fatigue": self.random.randint(2, 6),
            "symptoms": [RED_FLAGS[rule]] if rule else [],
            "results": [{"item": item, "sets_done": 2, "reps_done": 10} for item in phone.item_ids],
        }
        rules = {rule} - {""} | ({"SYM-2"} if pain_after >= 7 else set())  # DOMAIN.md 7
        with self.tally.lock:
            self.tally.logs_sent[client_id] = tuple(sorted(rules))
        return body

    def send(self, phone: Phone, path: str, body: Any) -> requests.Response | None:
        """Until answered below 500, retrying with the same body like the app (backoff up to
        5 s); None if the run ended long ago and the phone gave up."""
        delay = 0.25
        while True:
            started = time.monotonic()
            try:
                response = self.session.post(
                    f"{self.base}{path}",
                    json=body,
                    headers={"Authorization": f"Bearer {phone.token}"},
                    timeout=30,
                )
                status: int | str = response.status_code
            except requests.RequestException as error:
                response, status = None, type(error).__name__
            self.tally.answered(path, status, time.monotonic() - started)
            if response is not None and response.status_code < 500:
                return response
            if time.monotonic() > self.stop_at + GIVE_UP_AFTER:
                return None
            time.sleep(delay)
            delay = min(delay * 2, 5.0)

    def accepted(self, client_id: str, session_id: int) -> None:
        with self.tally.lock:
            self.tally.logs_accepted.setdefault(client_id, set()).add(session_id)

    def upload(self, phone: Phone, body: dict[str, Any]) -> None:
        response = self.send(phone, "/api/v1/sessions/", body)
        if response is None:
            with self.tally.lock:
                self.tally.logs_abandoned.add(body["client_id"])
            return
        if response.status_code in (200, 201):
            self.accepted(body["client_id"], response.json()["id"])
            self.uploaded.append((phone, body))

    def sync(self, phone: Phone, bodies: list[dict[str, Any]]) -> None:
        response = self.send(phone, "/api/v1/sessions/sync/", {"logs": bodies})
        if response is None:
            with self.tally.lock:
                self.tally.logs_abandoned.update(b["client_id"] for b in bodies)
            return
        for result, body in zip(response.json()["results"], bodies, strict=True):
            if result["status"] in ("created", "duplicate"):
                self.accepted(body["client_id"], result["session"]["id"])
                self.uploaded.append((phone, body))

    def replay(self) -> None:
        """The app did not see the answer to an upload that went through, and sends it again."""
        phone, body = self.random.choice(self.uploaded)
        response = self.send(phone, "/api/v1/sessions/", body)
        if response is None:
            return
        with self.tally.lock:
            self.tally.replays += 1
            if (
                response.status_code != 200
                or {response.json()["id"]} != self.tally.logs_accepted[body["client_id"]]
            ):
                self.tally.replays_other_id += 1

    def assessment(self, phone: Phone) -> None:
        measured_at = (
            datetime.now(UTC) - timedelta(seconds=self.random.randint(1, 10**6))
        ).isoformat()
        with self.tally.lock:
            self.tally.assessments_sent.add(f"{phone.patient_id}:{measured_at}")
        body = {
            "measure": "STS30",
            "value": self.random.randint(8, 20),
            "setting": "home",
            "measured_at": measured_at,
        }
        response = self.send(phone, "/api/v1/assessments/", body)
        if response is not None and response.status_code == 201:
            with self.tally.lock:
                self.tally.assessments_accepted.add(f"{phone.patient_id}:{measured_at}")


# --- Faults ---------------------------------------------------------------------------------


class Chaos(threading.Thread):
    """Kills a random worker every `kill_every` seconds (restarted a second later) and
    restarts Redis every `redis_every` seconds, until `stop_at`. Like a process supervisor
    (compose's restart policy) it also restarts a worker or beat that exited by itself."""

    def __init__(
        self,
        workers: list[Managed],
        supervised: list[Managed],
        redis: RedisServer,
        stop_at: float,
        kill_every: float,
        redis_every: float,
        seed: int,
    ) -> None:
        super().__init__(daemon=True)
        self.workers, self.supervised, self.redis = workers, supervised, redis
        self.stop_at, self.kill_every, self.redis_every = stop_at, kill_every, redis_every
        self.random = random.Random(seed)
        self.events: Counter[str] = Counter()

    def run(self) -> None:
        now = time.monotonic()
        next_kill, next_redis = now + self.kill_every, now + self.redis_every
        while time.monotonic() < self.stop_at:
            now = time.monotonic()
            if now >= next_kill:
                worker = self.random.choice(self.workers)
                worker.kill()
                self.events["workers SIGKILLed (restarted 1 s later)"] += 1
                time.sleep(1)
                worker.start()
                next_kill = now + self.random.uniform(0.75, 1.25) * self.kill_every
            if now >= next_redis:
                self.redis.kill()
                self.events["Redis killed (restarted 1-3 s later, empty)"] += 1
                time.sleep(self.random.uniform(1, 3))
                self.redis.start()
                next_redis = now + self.random.uniform(0.75, 1.25) * self.redis_every
            self.supervise()
            time.sleep(0.2)

    def supervise(self) -> None:
        for process in self.supervised:
            if not process.running:
                self.events[f"{process.name} exited by itself (restarted)"] += 1
                process.start()


# --- Drain and verify -----------------------------------------------------------------------


def drain(redis: RedisServer, timeout: float) -> dict[str, int]:
    """Runs the sweepers as beat would a few minutes later, until nothing is waiting: no
    decline check, no pending delivery, an empty queue. Then classifies sends interrupted by
    a kill (they are given up: at most once per channel)."""
    from django.utils import timezone

    from backend.alerts.models import DeclineCheck, DeliveryStatus, NotificationDelivery
    from backend.alerts.services.decline import decline_checks_sweep
    from backend.alerts.services.delivery import STALE_SENDING, deliveries_sweep
    from backend.alerts.services.notifications import deliveries_enqueue
    from backend.core.enqueue import broker_pause_reset

    client = redis.client()
    rounds, deadline = 0, time.monotonic() + timeout
    while time.monotonic() < deadline:
        rounds += 1
        broker_pause_reset()  # Redis is up now
        later = timezone.now() + timedelta(minutes=3)
        decline_checks_sweep(now=later)
        deliveries_enqueue(deliveries_sweep(now=later))
        time.sleep(2)
        waiting = (
            DeclineCheck.objects.count()
            + NotificationDelivery.objects.filter(status=DeliveryStatus.PENDING).count()
            + sum(client.llen(queue) for queue in QUEUES)
        )
        if waiting == 0:
            break
    # Sends a kill interrupted stay "sending"; the sweeper gives them up after STALE_SENDING.
    deliveries_sweep(now=timezone.now() + STALE_SENDING + timedelta(minutes=1))
    return {"drain rounds": rounds}


def verify(tally: Tally, run_dir: Path) -> tuple[list[tuple[str, Any, str]], bool]:
    from django.db.models import Count

    from backend.alerts.models import (
        Alert,
        Channel,
        DeclineCheck,
        DeliveryStatus,
        Notification,
        NotificationDelivery,
    )
    from backend.exercise.models import Assessment, SessionLog

    stored: dict[str, int] = {}
    patient_of: dict[str, int] = {}
    for client_id, pk, patient_id in SessionLog.objects.filter(
        client_id__in=list(tally.logs_sent)
    ).values_list("client_id", "pk", "patient_id"):
        stored[str(client_id)], patient_of[str(client_id)] = pk, patient_id
    accepted = tally.logs_accepted
    lost = [c for c in accepted if c not in stored]
    two_ids = [c for c, ids in accepted.items() if len(ids) > 1 or stored.get(c) not in ids]
    duplicate_rows = (
        SessionLog.objects.values("patient_id", "client_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    # Repeats of a tier within ALERT_COALESCE_MINUTES gather into one alert: every stored
    # red-flag log is one occurrence of its patient's alerts of that rule.
    expected = Counter(
        (patient_of[c], rule)
        for c, rules in tally.logs_sent.items()
        if c in stored
        for rule in rules
    )
    found: Counter[tuple[int, str]] = Counter()
    for patient_id, rule_id, occurrences in Alert.objects.filter(
        rule_id__in=list(RED_FLAGS)
    ).values_list("patient_id", "rule_id", "occurrences"):
        found[(patient_id, rule_id)] += occurrences
    red_flag_alerts = Alert.objects.filter(rule_id__in=list(RED_FLAGS)).count()
    pushes = [json.loads(line) for line in (run_dir / PUSHES).read_text().splitlines()]
    emails = [json.loads(line) for line in (run_dir / EMAILS).read_text().splitlines()]
    per_push = Counter((p["data"]["notification_id"], p["token"]) for p in pushes)
    deliveries = Counter(NotificationDelivery.objects.values_list("status", flat=True))
    sent_push = NotificationDelivery.objects.filter(
        channel=Channel.PUSH, status=DeliveryStatus.SENT
    ).count()
    sent_email = NotificationDelivery.objects.filter(
        channel=Channel.EMAIL, status=DeliveryStatus.SENT
    ).count()
    assessments = Assessment.objects.values("patient_id", "measured_at", "measure").annotate(
        n=Count("id")
    )
    assessment_duplicates = sum(row["n"] - 1 for row in assessments if row["n"] > 1)
    latencies = sorted(tally.latencies)
    p50, p99 = statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1]
    five_hundreds = sum(n for status, n in tally.requests.items() if status.startswith("5"))
    no_answer = sum(n for status, n in tally.requests.items() if not status.isdigit())

    rows: list[tuple[str, Any, str]] = [
        ("HTTP requests sent (with retries and replays)", sum(tally.requests.values()), ""),
        ("  answered 5xx / not at all (then retried)", slash(five_hundreds, no_answer), ""),
        (
            "  latency p50 / p99 / max (s)",
            slash(*(f"{x:.2f}" for x in (p50, p99, latencies[-1]))),
            "",
        ),
        *(
            (f"  slow request: {path} answered {status}", f"{seconds:.2f} s", "")
            for seconds, path, status in reversed(tally.slowest)
        ),
        ("session logs sent (distinct client_ids)", len(tally.logs_sent), ""),
        ("  accepted (201/200 or created/duplicate)", len(accepted), ""),
        ("  stored", len(stored), ""),
        ("  duplicates (rows per client_id > 1)", duplicate_rows, "must be 0"),
        ("  answered with another log's id", len(two_ids), "must be 0"),
        ("  lost (accepted, not stored)", len(lost), "must be 0"),
        ("  abandoned by the phone (never answered)", len(tally.logs_abandoned), "must be 0"),
        (
            "  replays / answered otherwise than 200 + same id",
            slash(tally.replays, tally.replays_other_id),
            "must be 0",
        ),
        ("red-flag occurrences expected (stored logs x rules)", sum(expected.values()), ""),
        ("  found (occurrences counted on alerts)", sum(found[k] for k in expected), ""),
        ("  alerts they make (repeats coalesced)", red_flag_alerts, ""),
        (
            "  (patient, rule) missing / over-counted / unexpected",
            slash(
                sum(1 for k in expected if found[k] < expected[k]),
                sum(1 for k in expected if found[k] > expected[k]),
                sum(1 for k in found if k not in expected),
            ),
            "must be 0",
        ),
        (
            "other alerts (decline, adherence)",
            Alert.objects.exclude(rule_id__in=list(RED_FLAGS)).count(),
            "",
        ),
        ("notifications", Notification.objects.count(), ""),
        (
            "  deliveries sent / skipped / failed",
            slash(*(deliveries[s] for s in ("sent", "skipped", "failed"))),
            "failed: sends a kill interrupted (given up, never resent)",
        ),
        (
            "  deliveries still pending or sending",
            deliveries[DeliveryStatus.PENDING] + deliveries[DeliveryStatus.SENDING],
            "must be 0",
        ),
        ("  pushes recorded / push deliveries sent", slash(len(pushes), sent_push), ""),
        ("  e-mails recorded / e-mail deliveries sent", slash(len(emails), sent_email), ""),
        (
            "  notifications pushed twice to one phone",
            sum(1 for n in per_push.values() if n > 1),
            "must be 0",
        ),
        ("decline checks still waiting", DeclineCheck.objects.count(), "must be 0"),
        (
            "assessments sent / accepted / stored",
            slash(
                len(tally.assessments_sent),
                len(tally.assessments_accepted),
                Assessment.objects.count(),
            ),
            "",
        ),
        ("  assessments stored twice", assessment_duplicates, "must be 0"),
    ]
    ok = not (
        lost
        or two_ids
        or duplicate_rows
        or tally.logs_abandoned
        or tally.replays_other_id
        or any(found[k] != expected[k] for k in expected)
        or any(k not in expected for k in found)
        or deliveries[DeliveryStatus.PENDING]
        or deliveries[DeliveryStatus.SENDING]
        or any(n > 1 for n in per_push.values())
        or DeclineCheck.objects.exists()
        or assessment_duplicates
    )
    return rows, ok


def slash(*values: Any) -> str:
    return " / ".join(str(value) for value in values)


def print_table(title: str, rows: list[tuple[str, Any, str]]) -> None:
    width = max(len(label) for label, _, _ in rows)
    print(f"\n{title}")
    for label, value, note in rows:
        print(f"  {label:<{width}}  {value!s:>17}  {note}")


# --- Main -----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="length of the run")
    parser.add_argument("--patients", type=int, default=30)
    parser.add_argument("--clients", type=int, default=6, help="phone threads")
    parser.add_argument("--kill-every", type=float, default=20.0, help="seconds between kills")
    parser.add_argument("--redis-every", type=float, default=45.0, help="seconds between restarts")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    run_dir = ROOT / ".run" / "chaos" / datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    run_dir.mkdir(parents=True)
    for name in (PUSHES, EMAILS):
        (run_dir / name).touch()
    redis = RedisServer(run_dir, free_port(PRIVATE_REDIS_PORTS))
    redis.start()
    database_url = recreate_database(SERVER, DATABASE)
    env = {
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": redis.url(0),
        "CACHE_URL": redis.url(1),
    }
    os.environ.update(env)
    import django

    django.setup()
    print(f"chaos: seeding {args.patients} patients in {DATABASE}; logs in {run_dir}")
    phones = seed(args.patients)

    recording = {
        "PUSH_SENDER": "tests.fakes.RecordingPushSender",
        "PUSH_RECORD_FILE": str(run_dir / PUSHES),
        "EMAIL_BACKEND": "tests.fakes.RecordingEmailBackend",
        "EMAIL_RECORD_FILE": str(run_dir / EMAILS),
    }
    app = LiveApp(
        run_dir,
        database_url=database_url,
        broker_url=redis.url(0),
        workers=3,
        threads=4,
        settings=SETTINGS,
        CACHE_URL=redis.url(1),
    )
    workers = [
        celery_worker(
            run_dir,
            name=f"worker{n}",
            broker_url=redis.url(0),
            database_url=database_url,
            pool="prefork",
            concurrency=2,
            DJANGO_SETTINGS_MODULE=SETTINGS,
            CACHE_URL=redis.url(1),
            **recording,
        )
        for n in (1, 2)
    ]
    beat = Managed(
        "beat",
        [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=WARNING"],
        run_dir / "beat.log",
        {**env, **recording},
    )
    everything: list[Managed] = [app, *workers, beat, redis]
    try:
        app.start()
        for process in (*workers, beat):
            process.start()
        stop_at = time.monotonic() + args.minutes * 60
        tally = Tally()
        share = [phones[n :: args.clients] or phones for n in range(args.clients)]
        clients = [
            PhoneThread(app.base, share[n], tally, stop_at, args.seed * 100 + n)
            for n in range(args.clients)
        ]
        chaos = Chaos(
            workers,
            [*workers, beat],
            redis,
            stop_at,
            args.kill_every,
            args.redis_every,
            args.seed,
        )
        print(f"chaos: running {args.minutes} min with {args.clients} phones")
        for thread in (*clients, chaos):
            thread.start()
        chaos.join()
        for client in clients:
            client.join(timeout=GIVE_UP_AFTER + 60)
        for process in (redis, *workers, beat):
            if not process.running:
                chaos.events[f"{process.name} down at the end (restarted)"] += 1
                process.start()
        print("chaos: draining the queues")
        drained = drain(redis, timeout=180)
        wait_until(
            lambda: sum(redis.client().llen(queue) for queue in QUEUES) == 0,
            60,
            0.5,
            "empty queues",
        )
        rows, ok = verify(tally, run_dir)
    finally:
        for process in everything:
            process.kill()
    faults = [(name, n, "") for name, n in chaos.events.items()] + [
        (name, n, "") for name, n in drained.items()
    ]
    print_table(
        f"Faults ({args.minutes} min, {args.patients} patients, {args.clients} phones)", faults
    )
    print_table("Figures", rows)
    print(f"\nchaos: {'PASS' if ok else 'FAIL'} (logs in {run_dir})")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
