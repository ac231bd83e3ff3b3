from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from backend.alerts.rules.docs import rules_markdown


class Command(BaseCommand):
    help = "Writes the rule catalogue as Markdown (docs/rules.md) to --file, or to stdout."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", help="where to write it, e.g. docs/rules.md")

    def handle(self, *args: Any, file: str | None = None, **options: Any) -> None:
        text = rules_markdown()
        if file is None:
            self.stdout.write(text, ending="")
            return
        Path(file).write_text(text, encoding="utf-8")
        self.stdout.write(f"wrote {file}")
