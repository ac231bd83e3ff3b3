from rest_framework import serializers

from backend.accounts.serializers import PersonOutput, StrictSerializer
from backend.alerts.models import Alert, Notification, Urgency, WeeklyAdherence
from backend.alerts.rules import Audience, Kind, ParamType, Status


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
            "occurrences",
            "last_occurred_at",
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


# --- The rule catalogue and per-patient rule settings -----------------------------------------


class RuleParamOutput(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.ChoiceField(
        choices=ParamType.ALL,
        help_text="integer, number, time (HH:MM, the patient's local time) or integer_list.",
    )
    default = serializers.JSONField(allow_null=True, help_text="null: not set.")
    unit = serializers.CharField()
    description = serializers.CharField()
    minimum = serializers.FloatField(
        allow_null=True, help_text="Least allowed value (of each item, for a list)."
    )
    maximum = serializers.FloatField(
        allow_null=True, help_text="Greatest allowed value (of each item, for a list)."
    )
    step = serializers.FloatField(allow_null=True, help_text="Values are multiples of it.")
    nullable = serializers.BooleanField(help_text="May be null (not set).")


class RuleOutput(serializers.Serializer):
    """One rule of the catalogue (shared/DOMAIN.md)."""

    id = serializers.CharField()
    version = serializers.IntegerField(help_text="Recorded by every alert the rule raises.")
    title = serializers.CharField()
    description = serializers.CharField()
    source = serializers.CharField(  # type: ignore[assignment]  # a field named like Field.source
        help_text="The citation of DOMAIN.md."
    )
    status = serializers.ChoiceField(
        choices=Status.ALL,
        help_text="SRC: a published source says it; DEFAULT: our own default; UNVERIFIED: "
        "recalled from the literature, to check against the primary paper.",
    )
    kind = serializers.ChoiceField(
        choices=Kind.ALL,
        help_text="What it produces: alert (care team), advice, reminder, proposal, suppression.",
    )
    urgency = serializers.ChoiceField(choices=Urgency.choices)
    audience = serializers.ListField(
        child=serializers.ChoiceField(choices=Audience.ALL),
        help_text="Who is told: team (every care-team member), physio, physio_and_nurse, patient.",
    )
    parameters = RuleParamOutput(many=True)
    may_disable = serializers.BooleanField(help_text="May be switched off for a patient.")
    safety_critical = serializers.BooleanField(
        help_text="Can never be switched off; thresholds tuned within range only (DOMAIN.md 7)."
    )


class RuleSettingOutput(serializers.Serializer):
    """A configurable rule as it stands for one patient."""

    rule = serializers.CharField(source="rule.id")
    version = serializers.IntegerField(source="rule.version")
    title = serializers.CharField(source="rule.title")
    may_disable = serializers.BooleanField(source="rule.may_disable")
    safety_critical = serializers.BooleanField(source="rule.safety_critical")
    enabled = serializers.BooleanField()
    urgency = serializers.ChoiceField(choices=Urgency.choices, help_text="In force.")
    values = serializers.DictField(
        child=serializers.JSONField(allow_null=True),
        help_text="Settings in force: each parameter, and `enabled` for rules that may be off.",
    )
    defaults = serializers.DictField(
        child=serializers.JSONField(allow_null=True), help_text="The catalogue's defaults."
    )
    overridden = serializers.ListField(
        child=serializers.CharField(), help_text="Settings whose value is not the default."
    )
    set_by = PersonOutput(allow_null=True, help_text="Who last changed them.")
    updated_at = serializers.DateTimeField(allow_null=True)


class RuleSettingsOutput(serializers.Serializer):
    patient = serializers.IntegerField()
    rules = RuleSettingOutput(many=True)


class RuleSettingsInput(StrictSerializer):
    rules = serializers.DictField(
        child=serializers.DictField(child=serializers.JSONField(allow_null=True)),
        help_text=(
            "Per rule id, exactly the settings wanted, e.g. "
            '`{"FD-1": {"drop_points": 4}, "A-2": {"enabled": false}}`. A setting left out '
            "(or `{}` for the whole rule) goes back to its default; rules not named are left "
            "as they are. Values are checked against the rule's parameters (GET /rules/)."
        ),
    )
