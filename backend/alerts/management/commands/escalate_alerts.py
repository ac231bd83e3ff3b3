from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from backend.alerts.services.alerting import alerts_escalate


class Command(BaseCommand):
    help = "Re-sends unacknowledged emergency and urgent alerts to the whole care team, once."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{alerts_escalate(now=timezone.now())} alert(s) escalated")
