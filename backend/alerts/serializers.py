from rest_framework import serializers

from backend.accounts.serializers import PersonOutput, StrictSerializer
from backend.alerts.models import Alert, Notification, WeeklyAdherence


class NotificationOutput(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "title",
            "body",
            "patient",
            "subject_type",
            "subject_id",
            "created_at",
            "read_at",
        ]


class AlertOutput(serializers.ModelSerializer):
    acknowledged_by = PersonOutput(allow_null=True)
    resolved_by = PersonOutput(allow_null=True)
    evidence = serializers.JSONField(help_text="The values, window and thresholds that fired.")

    class Meta:
        model = Alert
        fields = [
            "id",
            "patient",
            "rule_id",
            "rule_version",
            "urgency",
            "reason",
            "evidence",
            "period_start",
            "period_end",
            "status",
            "acknowledged_by",
            "acknowledged_at",
            "resolved_by",
            "resolved_at",
            "resolution_note",
            "escalated_at",
            "created_at",
        ]


class ResolveInput(StrictSerializer):
    note = serializers.CharField(max_length=2000, help_text="How it was resolved.")


class WeeklyAdherenceOutput(serializers.ModelSerializer):
    class Meta:
        model = WeeklyAdherence
        fields = [
            "week_start",
            "sessions",
            "target_min",
            "target_max",
            "below_minimum",
            "above_maximum",
            "consecutive_below",
            "suppressed",
        ]
