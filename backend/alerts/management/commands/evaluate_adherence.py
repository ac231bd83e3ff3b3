from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from backend.alerts.services.adherence import adherence_evaluate


class Command(BaseCommand):
    help = (
        "Evaluates an ISO week (e.g. 2026-W49) for all patients or --patient ids; without "
        "--week, each patient's last completed local week, as the beat task does."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--week", help="ISO week, e.g. 2026-W49")
        parser.add_argument("--patient", type=int, action="append", help="patient id (repeat)")

    def handle(
        self, *args: Any, week: str | None = None, patient: list[int] | None = None, **options: Any
    ) -> None:
        monday = None
        if week:
            try:
                year, number = week.upper().split("-W")
                monday = date.fromisocalendar(int(year), int(number), 1)
            except ValueError as error:
                raise CommandError(f"--week must look like 2026-W49, not {week!r}") from error
        result = adherence_evaluate(now=timezone.now(), week_start=monday, patient_ids=patient)
        self.stdout.write(f"{result.evaluated} patient-week(s) evaluated, {result.alerts} alert(s)")
