"""Docker does not run on our CI machines, so the compose file is checked by reading it:
every service of our image starts a command that really exists in this code base."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml
from celery import Celery
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
APP_SERVICES = {
    name: spec for name, spec in COMPOSE["services"].items() if spec.get("build") == "."
}


def test_the_stack_has_every_part():
    assert set(COMPOSE["services"]) >= {"postgres", "redis", "web", "worker", "beat"}
    assert set(APP_SERVICES) >= {"web", "worker", "beat"}


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
