from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from backend.accounts.models import User
from backend.audit.partitions import PartitionError, is_partitioned, partitions_expire


class Command(BaseCommand):
    help = (
        "Drops the audit trail's monthly partitions older than --before YYYY-MM (or, without "
        "it, older than AUDIT_RETENTION_MONTHS; unset keeps everything), each recorded as an "
        "audit event of --by (an active platform superuser) with the month and its row count. "
        "Never the current or a future month; PostgreSQL only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--before", help="first month to keep, e.g. 2019-01")
        parser.add_argument("--by", required=True, help="username of the superuser dropping")
        parser.add_argument("--dry-run", action="store_true", help="count, drop nothing")

    def handle(
        self,
        *args: Any,
        before: str | None = None,
        by: str,
        dry_run: bool = False,
        **options: Any,
    ) -> None:
        if not is_partitioned():
            self.stdout.write("The audit trail is not partitioned (SQLite): nothing to expire.")
            return
        first_kept = None
        if before:
            try:
                year, month = before.split("-")
                first_kept = date(int(year), int(month), 1)
            except ValueError as error:
                raise CommandError(f"--before must look like 2019-01, not {before!r}") from error
        user = User.objects.filter(username=by).first()
        if user is None:
            raise CommandError(f"No user {by!r}.")
        try:
            expired = partitions_expire(
                now=timezone.now(), before=first_kept, by=user, dry_run=dry_run
            )
        except PartitionError as error:
            raise CommandError(str(error)) from error
        if not expired:
            self.stdout.write("No month past retention: nothing dropped.")
        verb = "would drop" if dry_run else "dropped"
        for each in expired:
            self.stdout.write(f"{verb} {each.month:%Y-%m} ({each.name}): {each.rows} event(s)")
