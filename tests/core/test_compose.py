"""Docker does not run on our CI machines, so the compose file is checked by reading it:
every service of our image starts a command that really exists in this code base."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml
from celery import Celery
from django.conf import settings
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
APP_SERVICES = {
    name: spec for name, spec in COMPOSE["services"].items() if spec.get("build") == "."
}


def test_the_stack_has_every_part():
    assert set(COMPOSE["services"]) >= {"postgres", "redis", "web", "beat"}
    assert set(APP_SERVICES) >= {"web", "beat"}
    assert any(_is_worker(spec["command"]) for spec in APP_SERVICES.values())


QUEUES = {queue.name for queue in settings.CELERY_TASK_QUEUES}
PROCFILE = dict(
    line.split(":", 1) for line in (ROOT / "Procfile.dev").read_text().splitlines() if line.strip()
)


def _is_worker(command: list[str]) -> bool:
    return command[0] == "celery" and "worker" in command


def _consumed(command: list[str]) -> set[str]:
    """The queues a `celery worker` command line consumes: those after -Q, else all of
    CELERY_TASK_QUEUES (a worker without -Q consumes every declared queue)."""
    if "-Q" not in command:
        return set(QUEUES)
    return set(command[command.index("-Q") + 1].split(","))


def test_the_four_queues_are_declared():
    assert {"urgent", "default", "bulk", "jobs"} == QUEUES


def test_every_queue_has_a_consumer_in_compose():
    workers = [spec["command"] for spec in APP_SERVICES.values() if _is_worker(spec["command"])]
    consumed = set().union(*(_consumed(command) for command in workers))

    assert consumed >= QUEUES, f"no worker in docker-compose.yml consumes {QUEUES - consumed}"
    assert consumed <= QUEUES, f"workers consume undeclared queues {consumed - QUEUES}"


def test_the_urgent_queue_has_a_worker_of_its_own():
    """Its slots are never taken by a chunk of the weekly job or a bulk send."""
    workers = [spec["command"] for spec in APP_SERVICES.values() if _is_worker(spec["command"])]
    urgent = [command for command in workers if "urgent" in _consumed(command)]

    assert urgent
    assert all(_consumed(command) == {"urgent"} for command in urgent)
    assert all(any(arg.startswith("--concurrency=") for arg in command) for command in urgent)


def test_make_run_has_one_worker_consuming_every_queue():
    workers = [command.split() for command in PROCFILE.values() if "worker" in command.split()]

    assert len(workers) == 1
    assert "-Q" in workers[0], "without -Q it would also consume Celery's own 'celery' queue"
    assert _consumed(workers[0]) == QUEUES


LONG_RUNNING = sorted(
    name for name, spec in COMPOSE["services"].items() if spec.get("restart") != "no"
)


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_every_long_running_service_has_a_healthcheck(name):
    assert "healthcheck" in COMPOSE["services"][name]


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_every_app_command_refers_to_real_code(name):
    command = APP_SERVICES[name]["command"]
    program, args = command[0], command[1:]

    if program == "gunicorn":
        module_name, attribute = args[0].split(":")
        assert callable(getattr(importlib.import_module(module_name), attribute))
        config = args[args.index("--config") + 1]
        assert (ROOT / config).is_file()
    elif program == "celery":
        app_module = args[args.index("-A") + 1]
        assert isinstance(importlib.import_module(f"{app_module}.celery").app, Celery)
        assert args[args.index("-A") + 2] in {"worker", "beat"}
    elif program == "python":
        assert args[0] == "manage.py"
        assert args[1] in get_commands()
    else:
        pytest.fail(f"unexpected program {program!r} in service {name}")


def test_exactly_one_beat_runs():
    beats = [spec for spec in APP_SERVICES.values() if "beat" in spec["command"]]
    assert len(beats) == 1
    assert "replicas" not in str(beats[0].get("deploy", {}))


def test_the_env_example_names_the_required_secrets():
    example = (ROOT / ".env.example").read_text()
    for variable in ("DJANGO_SECRET_KEY", "POSTGRES_PASSWORD", "DJANGO_ALLOWED_HOSTS"):
        assert f"{variable}=" in example
