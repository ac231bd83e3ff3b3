"""Real processes the fault tests start, stop and kill: a private Redis, the API under
gunicorn and Celery workers. Each writes its output to a log file (never a pipe that could
fill up and block it) whose tail a failing test shows."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
PRIVATE_REDIS_PORTS = range(6390, 6400)  # never the shared server on 6379
PUSHES, EMAILS = "pushes.jsonl", "emails.jsonl"  # what workers' recording fakes sent


def free_port(candidates: range | None = None) -> int:
    """A port nothing listens on (from `candidates` if given, else one the system picks)."""
    for port in candidates or [0]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise RuntimeError(f"no free port in {candidates}")


def wait_until(predicate: Any, timeout: float, interval: float = 0.1, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(interval)


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


@dataclass
class Managed:
    """A child process in its own process group, so a kill takes its children too."""

    name: str
    command: list[str]
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, f"{self.name} running"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603  # fixed arguments, our own programs
                self.command,
                cwd=ROOT,
                env={**os.environ, **self.env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL, like the OOM killer or a container being killed: no clean-up runs."""
        self._signal(signal.SIGKILL)

    def stop(self, timeout: float = 20) -> None:
        """A polite stop (SIGTERM), then SIGKILL if it does not end in time."""
        if not self.running:
            return
        self._signal(signal.SIGTERM)
        try:
            assert self.process is not None
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def _signal(self, signum: int) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)
        if signum == signal.SIGKILL:
            self.process.wait(timeout=10)

    def tail(self) -> str:
        return f"--- {self.name} ({self.log}) ---\n{log_tail(self.log)}"


class RedisServer(Managed):
    """A private redis-server without persistence: a restart loses every queued task, the
    harshest case for the outbox and the sweepers."""

    def __init__(self, log_dir: Path, port: int | None = None) -> None:
        self.port = port or free_port(PRIVATE_REDIS_PORTS)
        super().__init__(
            f"redis:{self.port}",
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            log_dir / f"redis-{self.port}.log",
        )

    def freeze(self) -> None:
        """SIGSTOP: connections are still accepted (by the kernel) but never answered, like a
        Redis stalled on swap or behind a network partition that sends no reset."""
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal(signal.SIGCONT)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        super().start()
        wait_until(self.ping, 10, 0.05, f"redis on {self.port}")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def client(self, db: int = 0) -> Any:
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, db=db)


def celery_worker(
    log_dir: Path,
    *,
    broker_url: str,
    database_url: str,
    name: str = "worker",
    app: str = "config",
    pool: str = "solo",
    concurrency: int = 1,
    **extra_env: str,
) -> Managed:
    """A real worker (not started yet) whose pushes and e-mails are recorded as JSON lines in
    log_dir/pushes.jsonl and log_dir/emails.jsonl (tests/fakes.py), shared by every worker of
    the test. `app="tests.faults.hooks"` adds a fault point."""
    return Managed(
        name,
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            app,
            "worker",
            f"--pool={pool}",
            f"--concurrency={concurrency}",
            "--loglevel=WARNING",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            f"--hostname={name}@%h",
        ],
        log_dir / f"{name}.log",
        {
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "PUSH_SENDER": "tests.fakes.RecordingPushSender",
            "PUSH_RECORD_FILE": str(log_dir / PUSHES),
            "EMAIL_BACKEND": "tests.fakes.RecordingEmailBackend",
            "EMAIL_RECORD_FILE": str(log_dir / EMAILS),
            **extra_env,
        },
    )


class LiveApp(Managed):
    """The API under gunicorn (gthread, as in production), on its own port."""

    def __init__(
        self,
        log_dir: Path,
        *,
        database_url: str,
        broker_url: str,
        workers: int = 2,
        threads: int = 4,
        settings: str = "config.settings_test",
        **extra_env: str,
    ) -> None:
        self.port = free_port()
        super().__init__(
            f"gunicorn:{self.port}",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--worker-class",
                "gthread",
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
                "--log-level",
                "warning",
            ],
            log_dir / f"gunicorn-{self.port}.log",
            {
                "DJANGO_SETTINGS_MODULE": settings,
                "DATABASE_URL": database_url,
                "CELERY_BROKER_URL": broker_url,
                **extra_env,
            },
        )
        self.base = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        super().start()

        def answers() -> bool:
            assert self.running, self.tail()
            try:
                requests.get(f"{self.base}/health/", timeout=5)
            except (requests.ConnectionError, requests.Timeout):
                # The master listens before its workers have booted: on a busy machine the
                # first request can wait longer than its timeout. Ask again, up to the limit.
                return False
            return True

        wait_until(answers, 30, 0.1, "gunicorn to answer")

    def request(self, method: str, path: str, token: str = "", **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        timeout = kwargs.pop("timeout", 30)
        return requests.request(
            method, f"{self.base}{path}", headers=headers, timeout=timeout, **kwargs
        )
