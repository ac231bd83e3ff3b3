"""Service accounts: an organisation's sending systems, which may only import results.

A key is `ptsa_` and 43 random URL-safe characters (256 bits). Only its SHA-256 is stored:
with that much entropy a plain hash cannot be reversed by guessing, and it does not depend on
SECRET_KEY (rotating the secret must not lock every laboratory out)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from backend.accounts.models import Organisation, Role, ServiceAccount, User
from backend.core.errors import DomainError

KEY_PREFIX = "ptsa_"
_PREFIX_SHOWN = 12  # "ptsa_" and 7 characters: enough to tell keys apart in the admin


@dataclass(frozen=True)
class IssuedKey:
    account: ServiceAccount
    key: str  # shown once: only its hash is stored


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_service_key(credential: str) -> bool:
    return credential.startswith(KEY_PREFIX)


@transaction.atomic
def service_account_create(
    *, organisation: Organisation, name: str, by: User | None, key: str | None = None
) -> IssuedKey:
    """A new sending system with its key. `key` is for the published demo account only;
    otherwise a random key is drawn."""
    name = name.strip()
    if not name:
        raise DomainError("A service account needs a name.", errors={"name": ["Required."]})
    org_admin = (
        by is not None and by.role == Role.ORG_ADMIN and by.organisation_id == organisation.pk
    )
    if by is not None and not by.is_superuser and not org_admin:
        raise DomainError(
            "Only the organisation's admin creates its service accounts.",
            code="permission_denied",
            status=403,
        )
    if ServiceAccount.objects.filter(organisation=organisation, name=name).exists():
        raise DomainError(
            "The organisation already has a service account of that name.",
            errors={"name": ["Already used in this organisation."]},
        )
    key = key or KEY_PREFIX + secrets.token_urlsafe(32)
    user = User(
        username=f"service.{organisation.slug}.{slugify(name)[:40]}-{secrets.token_hex(3)}",
        first_name=name[:150],
        role=Role.SERVICE,
        organisation=organisation,
        is_active=False,  # never signs in anywhere: JWT, console and admin refuse it
        created_by=by,
    )
    user.set_unusable_password()
    user.full_clean()
    user.save()
    account = ServiceAccount(
        organisation=organisation,
        name=name,
        user=user,
        key_prefix=key[:_PREFIX_SHOWN],
        key_hash=key_hash(key),
        created_by=by,
    )
    account.full_clean()
    account.save()
    return IssuedKey(account=account, key=key)


@transaction.atomic
def service_account_revoke(*, account: ServiceAccount, at: datetime | None = None) -> None:
    """The key stops working at once; the account and what it imported stay."""
    if account.revoked_at is not None:
        return
    account.revoked_at = at or timezone.now()
    account.save(update_fields=["revoked_at"])


def service_account_for_key(key: str) -> ServiceAccount | None:
    """The live account the key belongs to, with its user and organisation (one query)."""
    if not looks_like_service_key(key):
        return None
    return (
        ServiceAccount.objects.select_related("user", "organisation")
        .filter(key_hash=key_hash(key), revoked_at__isnull=True)
        .first()
    )
