from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backend.accounts.models import Organisation
from backend.accounts.service_accounts import service_account_create
from backend.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Creates a service account (a sending system that may only import results through "
        "/fhir/) for an organisation and prints its key, once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organisation", required=True, help="The organisation's slug.")
        parser.add_argument("--name", required=True, help="The sending system, e.g. 'City lab'.")

    def handle(self, *args: Any, organisation: str, name: str, **options: Any) -> None:
        org = Organisation.objects.filter(slug=organisation).first()
        if org is None:
            raise CommandError(f"No organisation with slug '{organisation}'.")
        try:
            issued = service_account_create(organisation=org, name=name, by=None)
        except DomainError as error:
            raise CommandError(error.detail) from error
        self.stdout.write(f"Service account '{issued.account.name}' of {org.name} created.")
        self.stdout.write("Its key (shown once, store it in the sending system now):")
        self.stdout.write(issued.key)
