"""The API under gunicorn for the scripts that drive it from outside (`make fuzz`,
`make bench`): production's config/gunicorn.py on a loopback port, ready once /health/
answers 200, stopped with its whole process group.

Its output goes to a log file, never a pipe nobody reads (a full pipe would block the server
mid-run). The fault tests and `make chaos` use tests/faults/processes.LiveApp instead: the
test settings, a free port, and kills in the middle of a run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def start_gunicorn(
    *,
    port: int,
    env: dict[str, str],
    log: Path,
    options: Sequence[str] = (),
    app: str = "config.wsgi:application",
) -> subprocess.Popen[bytes]:
    """Starts it (with extra gunicorn `options`, e.g. workers and threads; `app` the ASGI one
    for an ASGI worker class) and waits up to about 30 s for /health/; exits the script with
    the log shown if it never answers."""
    with log.open("wb") as out:
        server = subprocess.Popen(  # noqa: S603  # fixed arguments, our own program
            [
                sys.executable,
                "-m",
                "gunicorn",
                app,
                "--config",
                "config/gunicorn.py",
                "--bind",
                f"127.0.0.1:{port}",
                *options,
                "--access-logfile",
                "/dev/null",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    for _ in range(150):
        if server.poll() is not None:
            break  # it died: no point waiting
        try:
            health = f"http://127.0.0.1:{port}/health/"
            with urllib.request.urlopen(health, timeout=2) as response:  # loopback
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    stop_gunicorn(server)
    sys.stdout.write(log.read_text())
    raise SystemExit(f"gunicorn did not become healthy on port {port} (its log is above)")


def stop_gunicorn(server: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGTERM to the master and its workers, SIGKILL if they have not ended in time."""
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
