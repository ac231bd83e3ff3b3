from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from backend.accounts.demo import DEMO_LAB_KEY, DEMO_LAB_NAME, DEMO_PASSWORD, demo_seed
from backend.alerts.services.adherence import adherence_evaluate
from backend.exercise.demo import WEEKS, demo_programmes_seed


class Command(BaseCommand):
    help = "Creates the demo clinic, care team, patients, programmes and logs (safe to rerun)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="Seed even with DEBUG off (never in production)."
        )

    def handle(self, *args: Any, force: bool = False, **options: Any) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusing to create demo accounts with a published password while DEBUG is off. "
                "Pass --force if this really is a demo installation."
            )
        logins = demo_seed()
        with_programmes = demo_programmes_seed()
        # Evaluate the demo weeks oldest first, as the hourly job would have, so the summary
        # shows weekly adherence and the alert list has something to triage.
        now = timezone.now()
        for weeks_ago in range(WEEKS - 1, -1, -1):
            adherence_evaluate(now=now - timedelta(weeks=weeks_ago))
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready. Logins (password for all: {DEMO_PASSWORD}):")
        )
        for login in logins:
            self.stdout.write(f"  {login.username:<16} {login.role:<16} {login.description}")
        self.stdout.write(
            f"{with_programmes} demo patients have an active programme, {WEEKS} weeks of session "
            "logs and assessments."
        )
        self.stdout.write(
            f"FHIR import (docs/fhir-import.md): service account '{DEMO_LAB_NAME}', "
            f"key {DEMO_LAB_KEY}"
        )
