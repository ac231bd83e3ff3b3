"""Input and output shapes of symptom reports, and the lenient reading of a refused request:
the symptoms in a body that fails validation are still read, field by field."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from backend.accounts.serializers import StrictSerializer
from backend.core.serializers import ErrorSerializer, IdField
from backend.exercise.codes import SAFETY_MESSAGES, Symptom
from backend.exercise.serializers import AwareDateTimeField
from backend.symptoms.models import SymptomReport
from backend.symptoms.services import Reported, report_tier

SAFETY_MESSAGE_HELP = (
    "What the app must show now for the symptoms reported (tier 1: call emergency services). "
    "Present whenever the request reported a symptom, also when the rest of it was refused."
)


class SymptomReportInput(StrictSerializer):
    client_id = serializers.UUIDField(help_text="Generated on the phone; retries reuse it.")
    patient = IdField(
        required=False, help_text="Required unless the patient reports for themselves."
    )
    symptoms = serializers.ListField(
        child=serializers.ChoiceField(choices=Symptom.choices),
        required=False,
        max_length=20,
        help_text="Codes of the red-flag checklist (DOMAIN.md section 5).",
    )
    other = serializers.CharField(
        max_length=300, required=False, allow_blank=True, help_text="A symptom not on the list."
    )
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    pain_before = serializers.IntegerField(
        min_value=0, max_value=10, required=False, allow_null=True
    )
    pain_after = serializers.IntegerField(
        min_value=0, max_value=10, required=False, allow_null=True
    )
    session = IdField(
        required=False,
        help_text="The session log this follows up (e.g. the 24-hour 'still not easing?'); "
        "accepted whenever the log was made, also after its edit window.",
    )
    reported_at = AwareDateTimeField(
        required=False, help_text="When the patient noticed it; the server's time if absent."
    )

    def validate_symptoms(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("symptoms") and not (attrs.get("other") or "").strip():
            raise serializers.ValidationError(
                {"symptoms": ["Tick at least one symptom, or describe it in 'other'."]}
            )
        return attrs


class SymptomReportOutput(serializers.ModelSerializer):
    symptoms = serializers.ListField(child=serializers.CharField(), source="codes")
    derived_symptoms = serializers.ListField(
        child=serializers.CharField(),
        source="derived_codes",
        help_text="Added by the server from the pain scores (DOMAIN.md 7).",
    )
    safety_message = serializers.SerializerMethodField(help_text=SAFETY_MESSAGE_HELP)

    class Meta:
        model = SymptomReport
        fields = [
            "id",
            "client_id",
            "patient",
            "session",
            "log_client_id",
            "source",
            "reported_at",
            "symptoms",
            "derived_symptoms",
            "pain_before",
            "pain_after",
            "other",
            "note",
            "tier",
            "reported_by",
            "created_at",
            "safety_message",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_safety_message(self, report: SymptomReport) -> str | None:
        tier = report_tier(report.all_codes, report.other)
        return SAFETY_MESSAGES[tier] if tier is not None else None


class RefusedWithSymptomsOutput(ErrorSerializer):
    """A 400 or 409 that refused the request but stored the symptoms it carried."""

    safety_message = serializers.CharField(
        allow_null=True, required=False, help_text=SAFETY_MESSAGE_HELP
    )
    symptom_report = serializers.IntegerField(
        allow_null=True,
        required=False,
        help_text="The stored symptom report (its alerts raised) although the rest was refused.",
    )


class ThrottledWithSymptomsOutput(RefusedWithSymptomsOutput):
    """A 429 (too many writes by this user, retry after Retry-After seconds): the write was
    not done, but the symptoms it carried were stored and alerted."""


class ThrottledSyncOutput(ErrorSerializer):
    """A 429 for a batch: no log stored, the symptoms the logs carried stored and alerted."""

    safety_message = serializers.CharField(
        allow_null=True, required=False, help_text=SAFETY_MESSAGE_HELP + " The most urgent."
    )
    symptom_reports = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="The symptom reports stored (their alerts raised) although no log was.",
    )


def _leniently(field: serializers.Field, value: Any) -> Any:
    try:
        return field.run_validation(value)
    except serializers.ValidationError:
        return None


def reported_in(payload: Any) -> tuple[Reported, UUID | None, datetime | None]:
    """The symptoms, pain scores, note and ids of a body that failed validation, each kept
    when it is valid on its own: a bad effort value must not cost a red flag."""
    if not isinstance(payload, dict):
        return Reported(), None, None
    raw_codes = payload.get("symptoms")
    ticked = raw_codes if isinstance(raw_codes, list) else []
    # Only known codes, each once: anything else in the list (a number, a list) is not one.
    codes = list(
        dict.fromkeys(code for code in ticked if isinstance(code, str) and code in Symptom.values)
    )
    score = serializers.IntegerField(min_value=0, max_value=10, allow_null=True)
    text = serializers.CharField(allow_blank=True, trim_whitespace=True)
    reported = Reported(
        codes=codes,
        pain_before=_leniently(score, payload.get("pain_before")),
        pain_after=_leniently(score, payload.get("pain_after")),
        other=(_leniently(text, payload.get("other")) or "")[:300],
        note=(_leniently(text, payload.get("note")) or "")[:2000],
    )
    client_id = _leniently(serializers.UUIDField(), payload.get("client_id"))
    when = _leniently(AwareDateTimeField(), payload.get("ended_at") or payload.get("reported_at"))
    return reported, client_id, when


def lenient_patient_id(payload: Any) -> int | None:
    if not isinstance(payload, dict) or payload.get("patient") is None:
        return None
    return _leniently(IdField(), payload.get("patient"))
