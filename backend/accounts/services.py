"""Writes about people: onboarding, activation, care teams, caregivers and devices."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from backend.accounts.models import (
    CLINICIAN_ROLES,
    ActivationCode,
    CaregiverLink,
    CaregiverRelationship,
    CareTeamMembership,
    CareTeamRole,
    PatientProfile,
    PushDevice,
    Role,
    User,
)
from backend.core.errors import DomainError, require_role
from backend.core.idempotency import idempotency_keys_purge

# Crockford base32 without look-alikes (no I, L, O, U): easy to read out over the phone.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CODE_LENGTH = 10  # 50 bits; brute force is stopped by expiry and the activation throttle


@dataclass(frozen=True)
class IssuedCode:
    code: str
    expires_at: datetime


def _normalise_code(code: str) -> str:
    return code.replace("-", "").replace(" ", "").upper()


def _hash_code(code: str) -> str:
    # Keyed with SECRET_KEY so a leaked table cannot be matched against guessed codes offline.
    return hmac.new(
        settings.SECRET_KEY.encode(), _normalise_code(code).encode(), hashlib.sha256
    ).hexdigest()


def _require_clinician(user: User, *, roles: frozenset[str] = CLINICIAN_ROLES) -> None:
    require_role(user, roles, "Only a clinician of the care team may do this.")


# Who enrols patients (`patient_create`); the console asks before showing its form.
ENROLLING_ROLES = frozenset({Role.PHYSIOTHERAPIST})


def _require_team_manager(user: User, patient: PatientProfile) -> None:
    """Care-team seats are changed by a clinician (the API's callers have checked that the
    patient is on their teams) or by the organisation admin of the patient's organisation,
    who manages teams (README: in the admin and the console) without seeing the record."""
    if user.role == Role.ORG_ADMIN:
        if user.organisation_id is None or user.organisation_id != patient.user.organisation_id:
            raise DomainError(
                "Only the patient's organisation manages this care team.",
                code="permission_denied",
                status=403,
            )
        return
    _require_clinician(user)


def _unique_username(first_name: str, last_name: str) -> str:
    stem = slugify(f"{first_name}.{last_name}")[:20].strip("-") or "user"
    return f"{stem}-{secrets.token_hex(3)}"


@transaction.atomic
def activation_code_issue(*, user: User, by: User | None) -> IssuedCode:
    """A fresh code for `user`; any earlier unused code stops working. Only for accounts that
    were never activated: a code sets a password, so for an existing account it would be a
    way to take it over (and would undo a deactivation)."""
    if user.deactivated_at is not None:
        raise DomainError(
            "This account was deactivated; an activation code cannot bring it back.",
            code="account_deactivated",
            status=409,
        )
    if user.has_usable_password():
        raise DomainError(
            "This account is already activated; the person signs in with their password.",
            code="already_activated",
            status=409,
        )
    now = timezone.now()
    ActivationCode.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))
    expires_at = now + settings.ACTIVATION_CODE_TTL
    ActivationCode.objects.create(
        user=user, code_hash=_hash_code(code), expires_at=expires_at, created_by=by
    )
    return IssuedCode(code=f"{code[:5]}-{code[5:]}", expires_at=expires_at)


@transaction.atomic
def account_activate(*, code: str, password: str) -> User:
    """Sets the password of the account the code was issued for, once."""
    activation = (
        ActivationCode.objects.select_for_update()
        .select_related("user")
        .filter(code_hash=_hash_code(code))
        .first()
    )
    invalid = DomainError(
        "This activation code is not valid. Ask your care team for a new one.",
        code="invalid_activation_code",
        errors={"code": ["Not a valid activation code."]},
    )
    if activation is None:
        raise invalid
    if activation.used_at is not None:
        raise DomainError(
            "This activation code has already been used or replaced.",
            code="activation_code_used",
            errors={"code": ["Already used or replaced by a newer code."]},
        )
    if activation.expires_at <= timezone.now():
        raise DomainError(
            "This activation code has expired. Ask your care team for a new one.",
            code="activation_code_expired",
            errors={"code": ["Expired."]},
        )
    user = activation.user
    if user.deactivated_at is not None:  # deactivation voids codes; this is the second lock
        raise invalid
    if user.has_usable_password():  # activated meanwhile by another code, or deactivated
        raise DomainError(
            "This account is already activated.", code="already_activated", status=409
        )
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as error:
        raise DomainError(
            "Choose a stronger password.", errors={"password": list(error.messages)}
        ) from error
    user.set_password(password)
    user.is_active = True
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "is_active", "password_changed_at"])
    activation.used_at = timezone.now()
    activation.save(update_fields=["used_at"])
    return user


@dataclass(frozen=True)
class PatientCreated:
    patient: PatientProfile
    activation: IssuedCode


@transaction.atomic
def patient_create(
    *,
    by: User,
    first_name: str,
    last_name: str,
    date_of_birth: date,
    timezone_name: str,
    email: str = "",
    diagnosis: str = "",
    training_weekdays: list[int] | None = None,
    reminder_time: time | None = None,
) -> PatientCreated:
    """A physiotherapist enrols a patient: the account, its profile, a care-team seat for the
    physiotherapist, and the one-time code the patient activates the app with."""
    _require_clinician(by, roles=ENROLLING_ROLES)
    _check_date_of_birth(date_of_birth)
    user = User(
        username=_unique_username(first_name, last_name),
        first_name=first_name,
        last_name=last_name,
        email=email,
        role=Role.PATIENT,
        organisation_id=by.organisation_id,
        is_active=False,
        created_by=by,
    )
    user.set_unusable_password()
    user.full_clean()
    user.save()
    profile = PatientProfile(
        user=user,
        date_of_birth=date_of_birth,
        timezone=timezone_name,
        diagnosis=diagnosis,
        created_by=by,
    )
    if training_weekdays is not None:
        profile.training_weekdays = sorted(training_weekdays)
    if reminder_time is not None:
        profile.reminder_time = reminder_time
    profile.full_clean()
    profile.save()
    CareTeamMembership.objects.create(
        patient=profile, member=by, role=CareTeamRole.PHYSIOTHERAPIST, added_by=by
    )
    return PatientCreated(patient=profile, activation=activation_code_issue(user=user, by=by))


def _check_date_of_birth(value: date) -> None:
    if value > timezone.localdate():
        raise DomainError(
            "Date of birth is in the future.", errors={"date_of_birth": ["In the future."]}
        )


# Fields a patient or caregiver may change themselves; the rest is the care team's.
SELF_SERVICE_FIELDS = frozenset(
    {
        "timezone",
        "training_weekdays",
        "reminder_time",
        "quiet_hours_start",
        "quiet_hours_end",
        "notifications_consent",
    }
)
CLINICAL_FIELDS = frozenset({"date_of_birth", "diagnosis"})


@transaction.atomic
def patient_profile_update(
    *, patient: PatientProfile, by: User, changes: dict[str, Any]
) -> PatientProfile:
    allowed = SELF_SERVICE_FIELDS | (CLINICAL_FIELDS if by.is_clinician else frozenset())
    refused = sorted(set(changes) - allowed)
    if refused:
        raise DomainError(
            "Only the care team may change these fields.",
            code="permission_denied",
            status=403,
            errors={field: ["Only the care team may change this."] for field in refused},
        )
    if "date_of_birth" in changes:
        _check_date_of_birth(changes["date_of_birth"])
    for field, value in changes.items():
        setattr(patient, field, sorted(value) if field == "training_weekdays" else value)
    patient.full_clean()
    patient.save(update_fields=[*changes, "updated_at"])
    return patient


@transaction.atomic
def care_team_member_add(
    *, patient: PatientProfile, member_id: int, by: User, role: str | None = None
) -> CareTeamMembership:
    _require_team_manager(by, patient)
    member = User.objects.filter(
        pk=member_id,
        organisation=patient.user.organisation,
        role__in=CLINICIAN_ROLES,
        is_active=True,
    ).first()
    if member is None:  # one message whatever the reason: ids of other clinics stay hidden
        raise DomainError(
            "No such clinician in the patient's organisation.",
            errors={"member_id": ["No such clinician in the patient's organisation."]},
        )
    team_role = role or member.role
    if team_role != member.role:
        # The team role is the clinician's profession: a nurse cannot hold the physio seat.
        raise DomainError(
            "The care-team role must be the clinician's own role.",
            errors={"role": [f"This clinician is a {member.role}."]},
        )
    membership, _ = CareTeamMembership.objects.get_or_create(
        patient=patient, member=member, defaults={"role": team_role, "added_by": by}
    )
    return membership


@transaction.atomic
def care_team_member_remove(*, membership: CareTeamMembership, by: User) -> None:
    _require_team_manager(by, membership.patient)
    # Lock the patient first: two concurrent removals then queue instead of deadlocking.
    PatientProfile.objects.select_for_update().filter(pk=membership.patient_id).first()
    remaining_physios = (
        CareTeamMembership.objects.select_for_update()
        .filter(patient=membership.patient, role=CareTeamRole.PHYSIOTHERAPIST)
        .exclude(pk=membership.pk)
    )
    if membership.role == CareTeamRole.PHYSIOTHERAPIST and not remaining_physios.exists():
        raise DomainError(
            "A patient's care team keeps at least one physiotherapist.",
            code="last_physiotherapist",
            status=409,
        )
    # Ended, not deleted: who was on the team, and until when, stays on record.
    CareTeamMembership.objects.filter(pk=membership.pk).update(ended_at=timezone.now())


@dataclass(frozen=True)
class CaregiverInvited:
    link: CaregiverLink
    activation: IssuedCode


@transaction.atomic
def caregiver_invite(
    *,
    patient: PatientProfile,
    by: User,
    first_name: str,
    last_name: str,
    relationship: str = CaregiverRelationship.PARENT,
    email: str = "",
) -> CaregiverInvited:
    """A clinician adds a parent or guardian, who activates their own account with a code."""
    _require_clinician(by)
    user = User(
        username=_unique_username(first_name, last_name),
        first_name=first_name,
        last_name=last_name,
        email=email,
        role=Role.CAREGIVER,
        organisation_id=patient.user.organisation_id,
        is_active=False,
        created_by=by,
    )
    user.set_unusable_password()
    user.full_clean()
    user.save()
    link = CaregiverLink.objects.create(
        caregiver=user, patient=patient, relationship=relationship, created_by=by
    )
    return CaregiverInvited(link=link, activation=activation_code_issue(user=user, by=by))


def device_register(*, user: User, platform: str, token: str) -> tuple[PushDevice, bool]:
    """Registers a push token; re-registering is harmless and a phone that changed hands
    moves to its new user, so nobody receives another person's notifications."""
    for _ in range(2):  # a concurrent first registration may win the unique constraint race
        device = PushDevice.objects.filter(platform=platform, token=token).first()
        if device is not None:
            moved = device.user_id != user.pk
            device.user = user
            device.save()  # refreshes last_seen_at
            # A phone new to this user is "created" for them, so the answer does not reveal
            # that the token was registered by someone else.
            return device, moved
        try:
            with transaction.atomic():
                return PushDevice.objects.create(user=user, platform=platform, token=token), True
        except IntegrityError:
            continue
    raise DomainError("Device registration conflicted; retry.", code="conflict", status=409)


def device_unregister(*, device: PushDevice) -> None:
    device.delete()


def refresh_token_revoke(*, refresh: str) -> None:
    """Logout: the refresh token (and so the session on that phone) stops working."""
    try:
        RefreshToken(refresh).blacklist()  # type: ignore[arg-type]  # accepts the raw token
    except TokenError as error:
        raise DomainError(
            "Refresh token is invalid or already revoked.",
            code="token_not_valid",
            status=401,
        ) from error


def expired_credentials_purge(
    *, now: datetime, keep_for: timedelta = timedelta(days=30)
) -> dict[str, int]:
    """Forgets activation codes, refresh tokens and idempotency keys that can no longer be
    used; codes are kept for a grace period so a support question about a failed activation
    can still be answered."""
    codes, _ = ActivationCode.objects.filter(expires_at__lt=now - keep_for).delete()
    tokens, _ = OutstandingToken.objects.filter(expires_at__lt=now).delete()
    keys = idempotency_keys_purge(now=now)
    return {"activation_codes": codes, "refresh_tokens": tokens, "idempotency_keys": keys}


@transaction.atomic
def account_deactivate(*, user: User, by: User) -> int:
    """Blocks the account at once and keeps every record; returns how many refresh tokens
    were revoked. Safe to repeat.

    Sign-in stops because `is_active` is false: the login view refuses the password, and an
    access token issued before is refused on its next request (simplejwt checks the user is
    active). Every outstanding refresh token is blacklisted as well, so a later reactivation
    cannot revive an old session, and an unused activation code stops working.

    Nothing is deleted. Retention (NHS England Records Management Code of Practice 2021,
    health records of children and adults): a child's record is kept until the patient's
    25th birthday (26th if they were 17 when treatment ended), an adult's for 8 years after
    treatment ended (the last entry). The profile, programmes, session logs, assessments,
    alerts and the audit trail therefore stay, readable by the care team; erasure after the
    retention period is a separate, reviewed process.
    """
    now = timezone.now()
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.is_active or locked.deactivated_at is None:
        locked.is_active = False
        locked.deactivated_at = locked.deactivated_at or now
        locked.save(update_fields=["is_active", "deactivated_at"])
    user.is_active, user.deactivated_at = False, locked.deactivated_at
    ActivationCode.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
    return _refresh_tokens_revoke(user=user, now=now)


def _refresh_tokens_revoke(*, user: User, now: datetime) -> int:
    """Blacklists every refresh token of `user` still outstanding; returns how many."""
    outstanding = OutstandingToken.objects.filter(user=user, expires_at__gt=now).exclude(
        blacklistedtoken__isnull=False
    )
    revoked = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
    # Off every recipient list at once (DOMAIN.md 7): no device to push to, no seat on a care
    # team, no caregiver link; seats and links end with a date and stay as history.
    PushDevice.objects.filter(user=user).delete()
    CareTeamMembership.objects.filter(member=user).update(ended_at=now)
    CaregiverLink.objects.filter(caregiver=user).update(ended_at=now)
    return len(revoked)


@transaction.atomic
def user_password_set(*, user: User, password: str | None) -> int:
    """The one way to change an existing account's password (None: password sign-in off).
    Every session ends: outstanding refresh tokens are blacklisted and access tokens issued
    before now are refused (JWTAuthentication compares their `iat` with
    `password_changed_at`). Returns how many refresh tokens were revoked. The caller has
    validated the password (the admin's form does)."""
    now = timezone.now()
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.password_changed_at = now
    user.save(update_fields=["password", "password_changed_at"])
    return _refresh_tokens_revoke(user=user, now=now)


@transaction.atomic
def account_reactivate(*, user: User, by: User) -> User:
    """An admin's deliberate reversal of a deactivation (ticking "active" again): the account
    may sign in with its password, or, if it was never activated, be sent a new code. Old
    sessions stay revoked. Safe to repeat."""
    User.objects.filter(pk=user.pk).update(is_active=True, deactivated_at=None)
    user.is_active, user.deactivated_at = True, None
    return user


# Roles that open patients' records: granting one hands someone health data.
DATA_ROLES = CLINICIAN_ROLES | {Role.CAREGIVER}


def role_grant_needs_activation(*, old_role: str | None, new_role: str) -> bool:
    """True when `new_role` opens records `old_role` did not: any data-bearing role for a
    new account or a non-clinician; clinician to clinician (nurse to physician) keeps access."""
    if new_role not in DATA_ROLES or new_role == old_role:
        return False
    return not (old_role in CLINICIAN_ROLES and new_role in CLINICIAN_ROLES)


@transaction.atomic
def account_pending_activation(*, user: User, by: User) -> IssuedCode | None:
    """An account an organisation admin created, or granted a role that opens patients'
    records: nobody knows its password any more, every session ends, and it stays inactive
    until the person activates it with a code e-mailed to them (never shown to the admin,
    who could otherwise sign in as a clinician of their own making). A deactivated account
    gets no code (None): it stays deactivated."""
    if not user.email:
        raise DomainError(
            "An e-mail address is needed: the activation code is sent to the person.",
            errors={"email": ["Required: the activation code is sent there."]},
        )
    user_password_set(user=user, password=None)
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    if user.deactivated_at is not None:
        return None
    issued = activation_code_issue(user=user, by=by)
    message = (
        f"An account on PhysioTrack was set up for you (username {user.username}).\n\n"
        f"Activation code: {issued.code}\n"
        f"It works once, until {issued.expires_at:%Y-%m-%d %H:%M} UTC: open PhysioTrack, "
        "choose Activate and set your own password.\n\n"
        "If you did not expect this, tell your clinic."
    )
    transaction.on_commit(
        lambda: send_mail(
            subject="[PhysioTrack] Activate your account",
            message=message,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[user.email],
        ),
        robust=True,  # a mail failure is logged; the admin reissues by granting again
    )
    return issued
