"""People, organisations and care teams: who may see and act for which patient."""

from __future__ import annotations

import zoneinfo
from datetime import time
from functools import cache
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


class Role(models.TextChoices):
    PATIENT = "patient", "Patient"
    CAREGIVER = "caregiver", "Caregiver"
    PHYSIOTHERAPIST = "physiotherapist", "Physiotherapist"
    NURSE = "nurse", "Specialist nurse"
    PHYSICIAN = "physician", "Physician"
    ORG_ADMIN = "org_admin", "Organisation admin"
    # The backing account of a ServiceAccount: never signs in (inactive, no password); it is
    # who an import's assessments and audit events name, like a person's account would be.
    SERVICE = "service", "Service account (sending system)"


CLINICIAN_ROLES = frozenset({Role.PHYSIOTHERAPIST, Role.NURSE, Role.PHYSICIAN})


class CareTeamRole(models.TextChoices):
    PHYSIOTHERAPIST = "physiotherapist", "Physiotherapist"
    NURSE = "nurse", "Specialist nurse"
    PHYSICIAN = "physician", "Physician"


class Organisation(models.Model):
    """A clinic or hospital department: every clinician and patient belongs to one."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    console_requires_totp = models.BooleanField(
        default=False,
        help_text="Every console user of the organisation signs in with a second factor "
        "(an authenticator app's code); without one they enrol at their next sign-in.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """Anyone who signs in. Platform staff (superusers) have no role and no organisation."""

    role = models.CharField(max_length=20, choices=Role.choices, blank=True, db_index=True)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    created_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deactivated_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the account was deactivated: a pending account looks the same before "
        "and after (inactive, no password), and no activation code may revive it.",
    )
    password_changed_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Access tokens issued before this are refused (a change ends every session).",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="user_with_role_has_organisation",
                condition=Q(role="") | Q(organisation__isnull=False),
            ),
        ]

    @property
    def is_clinician(self) -> bool:
        return self.role in CLINICIAN_ROLES

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


@cache
def _known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    if value not in _known_timezones():
        raise ValidationError(f"'{value}' is not an IANA time zone such as 'Europe/London'.")


def validate_weekdays(value: object) -> None:
    if not isinstance(value, list) or not all(
        isinstance(day, int) and not isinstance(day, bool) and 1 <= day <= 7 for day in value
    ):
        raise ValidationError("Use ISO weekday numbers 1 (Monday) to 7 (Sunday).")
    if len(set(value)) != len(value):
        raise ValidationError("Each weekday may appear once.")


def default_training_weekdays() -> list[int]:
    return [1, 3, 5]


class PatientProfile(models.Model):
    """The clinical identity of a patient; the patient's data hangs off this record."""

    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="patient_profile")
    date_of_birth = models.DateField()
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    diagnosis = models.CharField(max_length=300, blank=True)
    training_weekdays = models.JSONField(
        default=default_training_weekdays,
        validators=[validate_weekdays],
        help_text="ISO weekdays (1 = Monday) on which the patient plans to train.",
    )
    reminder_time = models.TimeField(default=time(17, 30))
    quiet_hours_start = models.TimeField(default=time(21, 0))
    quiet_hours_end = models.TimeField(default=time(8, 0))
    notifications_consent = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user__last_name", "user__first_name", "id"]

    def __str__(self) -> str:
        return self.user.display_name


class CurrentManager(models.Manager[Any]):
    """Seats and links in force: one that ended (the person left, or was deactivated) is kept
    with its date as history but counts for nothing (DOMAIN.md 7: nobody who has left the
    care team receives anything about the patient). `history` reads them all."""

    def get_queryset(self) -> models.QuerySet[Any]:
        return super().get_queryset().filter(ended_at__isnull=True)


class CareTeamMembership(models.Model):
    """One clinician on one patient's care team, with the role they play there."""

    patient = models.ForeignKey(PatientProfile, on_delete=models.CASCADE, related_name="care_team")
    member = models.ForeignKey(User, on_delete=models.CASCADE, related_name="care_team_seats")
    role = models.CharField(max_length=20, choices=CareTeamRole.choices)
    added_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    history = models.Manager()
    objects = CurrentManager()

    class Meta:
        ordering = ["role", "id"]
        default_manager_name = "objects"
        base_manager_name = "history"
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "member"],
                condition=Q(ended_at__isnull=True),
                name="care_team_member_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} ({self.role}) for {self.patient}"

    def clean(self) -> None:
        """The seat's role is the clinician's profession, in the patient's organisation
        (checked for the admin's forms; the API's service checks the same)."""
        member, patient = self.member, self.patient
        if member.role not in CLINICIAN_ROLES or member.role != self.role:
            raise ValidationError({"member": "The member must be a clinician of this role."})
        if member.organisation_id != patient.user.organisation_id:
            raise ValidationError({"member": "The member works in another organisation."})


class CaregiverRelationship(models.TextChoices):
    PARENT = "parent", "Parent"
    GUARDIAN = "guardian", "Legal guardian"
    OTHER = "other", "Other"


class CaregiverLink(models.Model):
    """A parent or guardian who may act for a patient (JDM patients are mostly children)."""

    caregiver = models.ForeignKey(User, on_delete=models.CASCADE, related_name="caregiver_links")
    patient = models.ForeignKey(
        PatientProfile, on_delete=models.CASCADE, related_name="caregiver_links"
    )
    relationship = models.CharField(max_length=20, choices=CaregiverRelationship.choices)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    history = models.Manager()
    objects = CurrentManager()

    class Meta:
        default_manager_name = "objects"
        base_manager_name = "history"
        constraints = [
            models.UniqueConstraint(
                fields=["caregiver", "patient"],
                condition=Q(ended_at__isnull=True),
                name="caregiver_link_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.caregiver} ({self.relationship}) for {self.patient}"

    def clean(self) -> None:
        if self.caregiver.role != Role.CAREGIVER:
            raise ValidationError({"caregiver": "Only a caregiver account can act for a patient."})
        if self.caregiver.organisation_id != self.patient.user.organisation_id:
            raise ValidationError({"caregiver": "The caregiver belongs to another organisation."})


class ActivationCode(models.Model):
    """A one-time code that lets a new account holder set a password. Only its hash is kept."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="activation_codes")
    code_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="activation_code_expiry")]

    def __str__(self) -> str:
        return f"activation code for {self.user} (expires {self.expires_at:%Y-%m-%d %H:%M})"


class DevicePlatform(models.TextChoices):
    IOS = "ios", "iOS"
    ANDROID = "android", "Android"


class PushDevice(models.Model):
    """A phone that receives push notifications for a user; a token belongs to one user."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="push_devices")
    platform = models.CharField(max_length=10, choices=DevicePlatform.choices)
    token = models.CharField(max_length=512)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_seen_at"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "token"], name="push_token_once"),
        ]

    def __str__(self) -> str:
        return f"{self.platform} device of {self.user}"


class ServiceAccount(models.Model):
    """A sending system (a laboratory, a hospital record) of one organisation that may only
    import results through /fhir/ with its API key. Only the key's hash is kept; the key is
    shown once, when the account is created. Its `user` is an inactive account of role
    SERVICE, so imported assessments and audit events name it as they would name a person."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="service_accounts"
    )
    name = models.CharField(max_length=120, help_text="The sending system, e.g. 'City lab LIS'.")
    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="service_account")
    key_prefix = models.CharField(
        max_length=16, editable=False, help_text="The key's first characters, to recognise it."
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["organisation", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="service_account_name_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"
