"""Input and output shapes of the accounts API. Inputs are plain serializers (STYLE.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from backend.accounts.models import (
    CaregiverLink,
    CaregiverRelationship,
    CareTeamMembership,
    CareTeamRole,
    DevicePlatform,
    Organisation,
    PatientProfile,
    PushDevice,
    User,
    validate_timezone,
    validate_weekdays,
)
from backend.core.serializers import IdField, LocalTimeField
from backend.core.validators import plausible_date


class StrictSerializer(serializers.Serializer):
    """Refuses unknown fields, so a typo in a client is a 400 and not silently ignored
    (also when nested in another serializer or a list)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class TimezoneField(serializers.CharField):
    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("help_text", "IANA time zone name, e.g. `Europe/London`.")
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.validators.append(_timezone_validator)


def _timezone_validator(value: str) -> None:
    from django.core.exceptions import ValidationError as DjangoValidationError

    try:
        validate_timezone(value)
    except DjangoValidationError as error:
        raise serializers.ValidationError(error.messages) from error


class WeekdaysField(serializers.ListField):
    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("child", serializers.IntegerField(min_value=1, max_value=7))
        kwargs.setdefault("max_length", 7)
        kwargs.setdefault("help_text", "ISO weekdays, 1 = Monday … 7 = Sunday, each once.")
        super().__init__(**kwargs)  # type: ignore[arg-type]

    def to_internal_value(self, data: list[Any]) -> list[int]:
        days: list[int] = super().to_internal_value(data)
        from django.core.exceptions import ValidationError as DjangoValidationError

        try:
            validate_weekdays(days)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from error
        return sorted(days)


# --- Output ---------------------------------------------------------------------------------


class OrganisationOutput(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "slug"]


class PersonOutput(serializers.ModelSerializer):
    """A person as others see them: name and role, nothing private."""

    name = serializers.CharField(source="display_name")

    class Meta:
        model = User
        fields = ["id", "name", "role"]


class CareTeamMemberOutput(serializers.ModelSerializer):
    member = PersonOutput()

    class Meta:
        model = CareTeamMembership
        fields = ["id", "member", "role", "created_at"]


class CaregiverOutput(serializers.ModelSerializer):
    caregiver = PersonOutput()

    class Meta:
        model = CaregiverLink
        fields = ["id", "caregiver", "relationship", "created_at"]


class PatientOutput(serializers.ModelSerializer):
    user_id = serializers.IntegerField(source="user.id")
    first_name = serializers.CharField(source="user.first_name")
    last_name = serializers.CharField(source="user.last_name")
    username = serializers.CharField(source="user.username")
    is_activated = serializers.BooleanField(source="user.is_active")
    training_weekdays = serializers.ListField(child=serializers.IntegerField())
    reminder_time = LocalTimeField()
    quiet_hours_start = LocalTimeField()
    quiet_hours_end = LocalTimeField()
    care_team = CareTeamMemberOutput(many=True)
    caregivers = CaregiverOutput(many=True, source="caregiver_links")

    class Meta:
        model = PatientProfile
        fields = [
            "id",
            "user_id",
            "username",
            "first_name",
            "last_name",
            "is_activated",
            "date_of_birth",
            "timezone",
            "diagnosis",
            "training_weekdays",
            "reminder_time",
            "quiet_hours_start",
            "quiet_hours_end",
            "notifications_consent",
            "care_team",
            "caregivers",
            "created_at",
            "updated_at",
        ]


class ActedForPatientOutput(serializers.ModelSerializer):
    id = serializers.IntegerField(source="patient.id")
    name = serializers.CharField(source="patient.user.display_name")

    class Meta:
        model = CaregiverLink
        fields = ["id", "name", "relationship"]


class MeOutput(serializers.ModelSerializer):
    organisation = OrganisationOutput(allow_null=True)
    patient = serializers.SerializerMethodField()
    acts_for = ActedForPatientOutput(many=True, source="caregiver_links")

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "first_name",
            "last_name",
            "email",
            "role",
            "organisation",
            "patient",
            "acts_for",
        ]

    @extend_schema_field(PatientOutput(allow_null=True))
    def get_patient(self, user: User) -> dict | None:
        """The patient's own profile and care team; null for everyone else."""
        profile = getattr(user, "patient_profile", None)
        return PatientOutput(profile).data if profile is not None else None


class ActivationCodeOutput(serializers.Serializer):
    code = serializers.CharField(help_text="Give this to the person once; it is not stored.")
    expires_at = serializers.DateTimeField()


class PatientCreatedOutput(serializers.Serializer):
    patient = PatientOutput()
    activation = ActivationCodeOutput()


class CaregiverInvitedOutput(serializers.Serializer):
    caregiver = CaregiverOutput(source="link")
    activation = ActivationCodeOutput()


class DeviceOutput(serializers.ModelSerializer):
    class Meta:
        model = PushDevice
        fields = ["id", "platform", "token", "created_at", "last_seen_at"]


class DeactivatedOutput(serializers.ModelSerializer):
    refresh_tokens_revoked = serializers.IntegerField(
        help_text="Sessions (refresh tokens) that stopped working with this request."
    )

    class Meta:
        model = User
        fields = ["id", "username", "role", "is_active", "refresh_tokens_revoked"]


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class ActivatedOutput(TokenPairOutput):
    username = serializers.CharField(help_text="Sign in with this username from now on.")


# --- Input ----------------------------------------------------------------------------------


class ActivateInput(StrictSerializer):
    code = serializers.CharField(max_length=32, help_text="The code from the care team.")
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)


class LogoutInput(StrictSerializer):
    refresh = serializers.CharField()


class PatientCreateInput(StrictSerializer):
    first_name = serializers.CharField(max_length=150)
    last_name = serializers.CharField(max_length=150)
    email = serializers.EmailField(required=False, default="")
    date_of_birth = serializers.DateField(validators=[plausible_date])
    timezone = TimezoneField()
    diagnosis = serializers.CharField(max_length=300, required=False, default="")
    training_weekdays = WeekdaysField(required=False)
    reminder_time = LocalTimeField(required=False)


class PatientUpdateInput(StrictSerializer):
    date_of_birth = serializers.DateField(required=False, validators=[plausible_date])
    diagnosis = serializers.CharField(max_length=300, required=False, allow_blank=True)
    timezone = TimezoneField(required=False)
    training_weekdays = WeekdaysField(required=False)
    reminder_time = LocalTimeField(required=False)
    quiet_hours_start = LocalTimeField(required=False)
    quiet_hours_end = LocalTimeField(required=False)
    notifications_consent = serializers.BooleanField(required=False)


class CareTeamAddInput(StrictSerializer):
    member_id = IdField()
    role = serializers.ChoiceField(choices=CareTeamRole.choices, required=False)


class CaregiverInviteInput(StrictSerializer):
    first_name = serializers.CharField(max_length=150)
    last_name = serializers.CharField(max_length=150)
    email = serializers.EmailField(required=False, default="")
    relationship = serializers.ChoiceField(
        choices=CaregiverRelationship.choices, default=CaregiverRelationship.PARENT
    )


class DeviceRegisterInput(StrictSerializer):
    platform = serializers.ChoiceField(choices=DevicePlatform.choices)
    token = serializers.CharField(max_length=512)
