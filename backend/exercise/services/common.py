"""Checks shared by the exercise services."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from datetime import datetime, timedelta

from django.utils import timezone

from backend.accounts.models import CareTeamMembership, PatientProfile, Role, User
from backend.core.errors import DomainError, require_role

# Phones' clocks drift: accept times up to this far ahead of the server's.
CLOCK_SKEW = timedelta(minutes=5)


def require_role_to(user: User, roles: AbstractSet[str], action: str) -> None:
    require_role(user, roles, f"Only a {' or '.join(sorted(roles))} may {action}.")


def require_care_team(
    user: User, patient: PatientProfile, roles: AbstractSet[str], action: str
) -> None:
    """The user must hold one of `roles` and sit on the patient's care team."""
    require_role_to(user, roles, action)
    on_team = CareTeamMembership.objects.filter(patient=patient, member=user).exists()
    if not on_team or user.organisation_id != patient.user.organisation_id:
        raise DomainError(
            "Only the patient's care team may do this.", code="permission_denied", status=403
        )


def require_not_future(
    value: datetime, field: str, *, now: datetime | None = None, tolerance: timedelta = CLOCK_SKEW
) -> None:
    if value > (now or timezone.now()) + tolerance:
        raise DomainError(
            f"{field} is in the future.", errors={field: ["Must not be in the future."]}
        )


PATIENT_SIDE_ROLES = {Role.PATIENT, Role.CAREGIVER}
PHYSIO_ONLY = {Role.PHYSIOTHERAPIST}
ANY_CLINICIAN = {Role.PHYSIOTHERAPIST, Role.NURSE, Role.PHYSICIAN}
