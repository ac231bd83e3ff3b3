"""Output shapes of the audit trail, the access log and the patient's export."""

from __future__ import annotations

from rest_framework import serializers

from backend.accounts.serializers import DeviceOutput, PatientOutput, PersonOutput
from backend.alerts.serializers import AlertOutput, NotificationOutput, WeeklyAdherenceOutput
from backend.audit.models import AccessEvent
from backend.exercise.models import Programme, ProgrammeEvent, SessionLogRevision
from backend.exercise.serializers import (
    AssessmentOutput,
    ProgrammeVersionOutput,
    SessionOutput,
)
from backend.symptoms.serializers import SymptomReportOutput


class AuditEventOutput(serializers.ModelSerializer):
    """One audit event as an organisation admin sees it."""

    actor_name = serializers.CharField(source="actor.display_name")
    changes = serializers.JSONField(
        allow_null=True,
        help_text="For a change of settings: {setting: {old, new}}; null otherwise.",
    )

    class Meta:
        model = AccessEvent
        fields = [
            "id",
            "occurred_at",
            "actor",
            "actor_name",
            "actor_role",
            "patient",
            "action",
            "resource_type",
            "resource_id",
            "request_id",
            "ip",
            "changes",
        ]


class AccessLogEntryOutput(serializers.ModelSerializer):
    """One access to a patient's record as the patient sees it: who (name and role at the
    time), when and what; no addresses or request ids."""

    actor_name = serializers.CharField(source="actor.display_name")

    class Meta:
        model = AccessEvent
        fields = [
            "occurred_at",
            "actor_name",
            "actor_role",
            "patient",
            "action",
            "resource_type",
            "resource_id",
        ]


class ProgrammeEventOutput(serializers.ModelSerializer):
    by = PersonOutput(allow_null=True)

    class Meta:
        model = ProgrammeEvent
        fields = ["status", "reason", "note", "by", "at"]


class ProgrammeExportOutput(serializers.ModelSerializer):
    versions = ProgrammeVersionOutput(many=True)
    status_history = ProgrammeEventOutput(many=True, source="events")

    class Meta:
        model = Programme
        fields = [
            "id",
            "status",
            "pause_reason",
            "pause_note",
            "ever_active",
            "current_version",
            "created_at",
            "updated_at",
            "versions",
            "status_history",
        ]


class SessionRevisionOutput(serializers.ModelSerializer):
    revised_by = PersonOutput()
    previous = serializers.JSONField(help_text="The log's values before this edit or deletion.")

    class Meta:
        model = SessionLogRevision
        fields = ["action", "revised_at", "revised_by", "previous"]


class SessionExportOutput(SessionOutput):
    revisions = SessionRevisionOutput(many=True)

    class Meta(SessionOutput.Meta):
        fields = [*SessionOutput.Meta.fields, "revisions"]


class ConsentOutput(serializers.Serializer):
    notifications = serializers.BooleanField(
        source="notifications_consent", help_text="Reminders and advice may be sent."
    )


class PatientExportOutput(serializers.Serializer):
    """Everything PhysioTrack holds about the patient (their right of access)."""

    generated_at = serializers.DateTimeField()
    profile = PatientOutput()
    consent = ConsentOutput(source="profile")
    programmes = ProgrammeExportOutput(many=True)
    sessions = SessionExportOutput(many=True, help_text="Deleted logs included (deleted_at).")
    assessments = AssessmentOutput(many=True)
    weekly_adherence = WeeklyAdherenceOutput(many=True)
    symptom_reports = SymptomReportOutput(many=True, help_text="Symptoms you reported.")
    alerts = AlertOutput(many=True, help_text="Alerts the care team received about you.")
    notifications = NotificationOutput(many=True)
    devices = DeviceOutput(many=True)
    access_log = AccessLogEntryOutput(many=True)
