from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from backend.alerts.services.reminders import reminders_run


class Command(BaseCommand):
    help = "Sends the reminders due at the given time (default: now), as the beat task does."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--at", help="ISO time with offset, e.g. 2026-12-03T18:00Z")

    def handle(self, *args: Any, at: str | None = None, **options: Any) -> None:
        moment = timezone.now()
        if at:
            moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                raise CommandError("--at needs a time zone offset, e.g. 2026-12-03T18:00Z")
        run = reminders_run(at=moment)
        self.stdout.write(f"{run.sent} reminder(s) sent for {moment.isoformat()}")
        if run.failed_patients:
            self.stderr.write(f"{run.failed_patients} patient(s) skipped: see the log")
