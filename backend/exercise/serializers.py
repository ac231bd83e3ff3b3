"""Input and output shapes of the exercise API."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from backend.accounts.serializers import (
    PatientOutput,
    PersonOutput,
    StrictSerializer,
    WeekdaysField,
)
from backend.alerts.serializers import RuleSettingOutput, WeeklyAdherenceOutput
from backend.core.serializers import IdField
from backend.core.validators import plausible_date
from backend.exercise.codes import (
    SAFETY_MESSAGES,
    BodyRegion,
    Category,
    Completion,
    Equipment,
    IntensityScale,
    LoadUnit,
    MuscleGroup,
    Symptom,
    highest_tier,
)
from backend.exercise.measures import Measure, Setting
from backend.exercise.models import (
    Assessment,
    Exercise,
    PauseReason,
    Programme,
    ProgrammeItem,
    ProgrammeVersion,
    ProgressionProposal,
    SessionItemResult,
    SessionLog,
)

MAX_SYNC_BATCH = 100


class AwareDateTimeField(serializers.DateTimeField):
    """A timestamp must say its offset: a phone's naive local time is ambiguous."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(plausible_date)

    def enforce_timezone(self, value: datetime) -> datetime:
        if value.tzinfo is None:
            self.fail("naive")
        return super().enforce_timezone(value)

    default_error_messages = {
        "naive": "Include the time zone offset, e.g. 2026-11-25T18:30:00+01:00.",
    }


def _codes(choices: type[models.TextChoices], **kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(choices=choices.choices), max_length=20, **kwargs
    )


# --- Library --------------------------------------------------------------------------------


class DoseFields(serializers.Serializer):
    """The dose of an exercise; which fields apply depends on its category (DOMAIN.md 3)."""

    sets = serializers.IntegerField(min_value=1, max_value=10, required=False, allow_null=True)
    reps = serializers.IntegerField(min_value=1, max_value=100, required=False, allow_null=True)
    hold_seconds = serializers.IntegerField(
        min_value=1, max_value=600, required=False, allow_null=True
    )
    load_value = serializers.DecimalField(
        max_digits=6,
        decimal_places=2,
        min_value=0,
        max_value=500,
        required=False,
        allow_null=True,
    )
    load_unit = serializers.ChoiceField(choices=LoadUnit.choices, required=False, allow_blank=True)
    band_colour = serializers.CharField(max_length=20, required=False, allow_blank=True)
    duration_minutes = serializers.IntegerField(
        min_value=1, max_value=180, required=False, allow_null=True
    )
    interval_work_seconds = serializers.IntegerField(
        min_value=5, max_value=3600, required=False, allow_null=True
    )
    interval_rest_seconds = serializers.IntegerField(
        min_value=5, max_value=3600, required=False, allow_null=True
    )
    interval_repeats = serializers.IntegerField(
        min_value=1, max_value=100, required=False, allow_null=True
    )
    rest_seconds = serializers.IntegerField(
        min_value=0, max_value=900, required=False, allow_null=True
    )
    intensity_scale = serializers.ChoiceField(
        choices=IntensityScale.choices, required=False, allow_blank=True
    )
    intensity_target = serializers.DecimalField(
        max_digits=4, decimal_places=1, min_value=0, max_value=20, required=False, allow_null=True
    )


class DefaultDoseInput(DoseFields, StrictSerializer):
    pass


class ExerciseOutput(serializers.ModelSerializer):
    body_regions = _codes(BodyRegion)
    muscle_groups = _codes(MuscleGroup)
    equipment = _codes(Equipment)
    default_dose = DoseFields()
    is_global = serializers.SerializerMethodField()

    class Meta:
        model = Exercise
        fields = [
            "id",
            "name",
            "instructions",
            "category",
            "body_regions",
            "muscle_groups",
            "equipment",
            "video_url",
            "image_url",
            "default_dose",
            "safety_notes",
            "is_global",
            "updated_at",
        ]

    def get_is_global(self, exercise: Exercise) -> bool:
        """Shipped with PhysioTrack (read-only) rather than your organisation's."""
        return exercise.organisation_id is None


class ExerciseInput(StrictSerializer):
    name = serializers.CharField(max_length=120)
    instructions = serializers.CharField(max_length=5000)
    category = serializers.ChoiceField(choices=Category.choices)
    body_regions = _codes(BodyRegion, min_length=1)
    muscle_groups = _codes(MuscleGroup, required=False)
    equipment = _codes(Equipment, required=False)
    video_url = serializers.URLField(required=False, allow_blank=True)
    image_url = serializers.URLField(required=False, allow_blank=True)
    default_dose = DefaultDoseInput(required=False)
    safety_notes = serializers.CharField(max_length=2000, required=False, allow_blank=True)


# --- Programmes -----------------------------------------------------------------------------


class ProgrammeItemOutput(serializers.ModelSerializer):
    exercise = ExerciseOutput()

    class Meta:
        model = ProgrammeItem
        fields = ["id", "position", "exercise", *DoseFields().fields, "notes"]


class ProgrammeVersionOutput(serializers.ModelSerializer):
    author = PersonOutput()
    items = ProgrammeItemOutput(many=True)
    training_weekdays = serializers.ListField(child=serializers.IntegerField())

    class Meta:
        model = ProgrammeVersion
        fields = [
            "id",
            "number",
            "title",
            "goals",
            "start_date",
            "review_date",
            "sessions_per_week_min",
            "sessions_per_week_max",
            "training_weekdays",
            "reason",
            "author",
            "created_at",
            "items",
        ]


class CurrentVersionOutput(ProgrammeVersionOutput):
    class Meta(ProgrammeVersionOutput.Meta):
        fields = [f for f in ProgrammeVersionOutput.Meta.fields if f != "author"]


class ProgrammeOutput(serializers.ModelSerializer):
    version = CurrentVersionOutput(source="current_version")

    class Meta:
        model = Programme
        fields = [
            "id",
            "patient",
            "status",
            "pause_reason",
            "pause_note",
            "ever_active",
            "created_at",
            "updated_at",
            "version",
        ]


class PrescribedOutput(serializers.Serializer):
    programme = ProgrammeOutput()
    warnings = serializers.ListField(
        child=serializers.CharField(), help_text="Advice that did not stop the prescription."
    )


class ProgrammeItemInput(DoseFields, StrictSerializer):
    exercise = IdField()
    notes = serializers.CharField(max_length=500, required=False, allow_blank=True)


class ProgrammeContentInput(StrictSerializer):
    title = serializers.CharField(max_length=200)
    goals = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    start_date = serializers.DateField(validators=[plausible_date])
    review_date = serializers.DateField(
        required=False, allow_null=True, validators=[plausible_date]
    )
    sessions_per_week_min = serializers.IntegerField(min_value=1, max_value=7, default=2)
    sessions_per_week_max = serializers.IntegerField(min_value=1, max_value=7, default=3)
    training_weekdays = WeekdaysField(required=False)
    items = ProgrammeItemInput(many=True, min_length=1, max_length=30)  # type: ignore[call-arg]  # ListSerializer kwargs


class ProgrammeCreateInput(ProgrammeContentInput):
    patient = IdField()
    activate = serializers.BooleanField(default=False, help_text="Start it at once.")


class ProgrammeReviseInput(ProgrammeContentInput):
    reason = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why it changes; required once the programme has been active.",
    )


class PauseInput(StrictSerializer):
    reason = serializers.ChoiceField(choices=PauseReason.choices)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class NoteInput(StrictSerializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ProposalOutput(serializers.ModelSerializer):
    exercise = serializers.CharField(source="exercise.name")
    item_position = serializers.IntegerField(source="item.position")
    evidence = serializers.JSONField()

    class Meta:
        model = ProgressionProposal
        fields = [
            "id",
            "programme",
            "item",
            "item_position",
            "exercise",
            "change",
            "current_value",
            "proposed_value",
            "evidence",
            "status",
            "decided_at",
            "resulting_version",
            "created_at",
        ]


# --- Sessions -------------------------------------------------------------------------------


class ItemResultInput(StrictSerializer):
    item = IdField(help_text="A programme item of the version.")
    sets_done = serializers.IntegerField(min_value=0, max_value=20, required=False, allow_null=True)
    reps_done = serializers.IntegerField(
        min_value=0, max_value=500, required=False, allow_null=True
    )
    load_value = serializers.DecimalField(
        max_digits=6,
        decimal_places=2,
        min_value=0,
        max_value=500,
        required=False,
        allow_null=True,
    )
    load_unit = serializers.ChoiceField(choices=LoadUnit.choices, required=False, allow_blank=True)
    duration_minutes_done = serializers.IntegerField(
        min_value=0, max_value=600, required=False, allow_null=True
    )
    skipped = serializers.BooleanField(default=False)
    skip_reason = serializers.CharField(max_length=300, required=False, allow_blank=True)


class SessionFields(StrictSerializer):
    started_at = AwareDateTimeField()
    ended_at = AwareDateTimeField()
    completion = serializers.ChoiceField(choices=Completion.choices)
    results = ItemResultInput(many=True, required=False, max_length=30)  # type: ignore[call-arg]  # ListSerializer kwargs
    effort_scale = serializers.ChoiceField(
        choices=IntensityScale.choices, required=False, allow_blank=True
    )
    effort_value = serializers.DecimalField(
        max_digits=4,
        decimal_places=1,
        min_value=0,
        max_value=20,
        required=False,
        allow_null=True,
    )
    pain_before = serializers.IntegerField(
        min_value=0, max_value=10, required=False, allow_null=True
    )
    pain_after = serializers.IntegerField(
        min_value=0, max_value=10, required=False, allow_null=True
    )
    fatigue = serializers.IntegerField(min_value=0, max_value=10, required=False, allow_null=True)
    symptoms = serializers.ListField(
        child=serializers.ChoiceField(choices=Symptom.choices),
        required=False,
        max_length=20,
        help_text="Codes of the red-flag checklist (DOMAIN.md section 5).",
    )
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    def validate_symptoms(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))  # a code ticked twice counts once


class SessionCreateInput(SessionFields):
    client_id = serializers.UUIDField(help_text="Generated on the phone; retries reuse it.")
    version = IdField(help_text="The programme version performed.")
    patient = IdField(required=False, help_text="Required unless the patient logs for themselves.")


class CurrentProgrammeQuery(serializers.Serializer):
    patient = IdField(required=False, help_text="Required for caregivers and clinicians.")


class SessionUpdateInput(SessionFields):
    pass


class SyncInput(StrictSerializer):
    logs = serializers.ListField(
        child=serializers.JSONField(allow_null=True),  # any value: a malformed log fails alone
        min_length=1,
        max_length=MAX_SYNC_BATCH,
        help_text=f"Up to {MAX_SYNC_BATCH} session logs, each shaped as for POST /sessions/.",
    )


class ItemResultOutput(serializers.ModelSerializer):
    position = serializers.IntegerField(source="item.position")

    class Meta:
        model = SessionItemResult
        fields = [
            "item",
            "position",
            "exercise",
            "sets_done",
            "reps_done",
            "load_value",
            "load_unit",
            "duration_minutes_done",
            "skipped",
            "skip_reason",
        ]


class SessionOutput(serializers.ModelSerializer):
    version_number = serializers.IntegerField(source="version.number")
    results = ItemResultOutput(many=True)
    symptoms = serializers.ListField(child=serializers.CharField())
    safety_message = serializers.SerializerMethodField()

    class Meta:
        model = SessionLog
        fields = [
            "id",
            "client_id",
            "patient",
            "programme",
            "version",
            "version_number",
            "programme_status_at_log",
            "supervised",
            "recorded_by",
            "started_at",
            "ended_at",
            "completion",
            "effort_scale",
            "effort_value",
            "pain_before",
            "pain_after",
            "fatigue",
            "symptoms",
            "note",
            "results",
            "safety_message",
            "clock_ahead_seconds",
            "created_at",
            "updated_at",
            "deleted_at",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_safety_message(self, session: SessionLog) -> str | None:
        """What the app must show now for the symptoms reported (tier 1: call emergency);
        after an upload, also for what it reported beyond the ticks (pain scores, a replay's
        new symptoms)."""
        tiers = [highest_tier(list(session.symptoms))]
        reported = getattr(session, "request_symptoms", None)
        if reported is not None:
            tiers.append(reported.tier)
        known = [tier for tier in tiers if tier is not None]
        return SAFETY_MESSAGES[min(known)] if known else None


class SessionWriteOutput(SessionOutput):
    """The answer to an upload: the log, and the symptom report its symptoms were stored in."""

    symptom_report = serializers.SerializerMethodField()

    class Meta(SessionOutput.Meta):
        fields = [*SessionOutput.Meta.fields, "symptom_report"]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_symptom_report(self, session: SessionLog) -> int | None:
        reported = getattr(session, "request_symptoms", None)
        report = reported.report if reported is not None else None
        return report.pk if report is not None else None


class SyncItemOutput(serializers.Serializer):
    index = serializers.IntegerField()
    client_id = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=["created", "duplicate", "invalid"])
    session = SessionWriteOutput(required=False)
    errors = serializers.DictField(required=False)  # type: ignore[assignment]  # a field, not .errors
    safety_message = serializers.CharField(
        allow_null=True,
        help_text="Shown to the patient now, also for an invalid log: its symptoms were stored.",
    )
    symptom_report = serializers.IntegerField(
        allow_null=True, help_text="The stored symptom report of this log's symptoms, if any."
    )


class SyncOutput(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    invalid = serializers.IntegerField()
    results = SyncItemOutput(many=True)


# --- Assessments ----------------------------------------------------------------------------


class AssessmentInput(StrictSerializer):
    patient = IdField(required=False)
    measure = serializers.ChoiceField(choices=Measure.choices)
    value = serializers.DecimalField(max_digits=10, decimal_places=3)
    setting = serializers.ChoiceField(choices=Setting.choices)
    measured_at = AwareDateTimeField()
    max_score = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    items = serializers.DictField(
        child=serializers.IntegerField(min_value=0, max_value=100),
        required=False,
        allow_null=True,
        help_text="CMAS items or MMT8 groups; must add up to value.",
    )
    upper_limit = serializers.DecimalField(
        max_digits=7, decimal_places=1, min_value=0, required=False, allow_null=True
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class AssessmentOutput(serializers.ModelSerializer):
    measured_by = PersonOutput()
    items = serializers.DictField(child=serializers.IntegerField(), allow_null=True)

    class Meta:
        model = Assessment
        fields = [
            "id",
            "patient",
            "measure",
            "value",
            "unit",
            "max_score",
            "setting",
            "measured_at",
            "measured_by",
            "items",
            "upper_limit",
            "note",
            "created_at",
        ]


class TrendPointOutput(serializers.Serializer):
    at = serializers.DateTimeField()
    value = serializers.DecimalField(max_digits=10, decimal_places=3)


class SeriesOutput(serializers.Serializer):
    measure = serializers.ChoiceField(choices=Measure.choices)
    setting = serializers.ChoiceField(choices=Setting.choices)
    unit = serializers.CharField()
    baseline = serializers.DecimalField(max_digits=10, decimal_places=3, allow_null=True)
    points = TrendPointOutput(many=True)

    def to_representation(self, series: Any) -> Any:
        data = {
            "measure": series.measure,
            "setting": series.setting,
            "unit": series.unit,
            "baseline": series.baseline,
            "points": [{"at": at, "value": value} for at, value in series.points],
        }
        return super().to_representation(data)


# --- Clinician views ------------------------------------------------------------------------


class ProgrammeBriefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField(source="current_version.title")
    status = serializers.CharField()
    version_number = serializers.IntegerField(source="current_version.number")
    sessions_per_week_min = serializers.IntegerField(source="current_version.sessions_per_week_min")
    sessions_per_week_max = serializers.IntegerField(source="current_version.sessions_per_week_max")


class WeekCountOutput(serializers.Serializer):
    week_start = serializers.DateField(help_text="Monday of the patient's local week.")
    sessions = serializers.DecimalField(max_digits=4, decimal_places=1)
    target_min = serializers.IntegerField(allow_null=True)
    target_max = serializers.IntegerField(allow_null=True)


class SessionPointOutput(serializers.ModelSerializer):
    class Meta:
        model = SessionLog
        fields = [
            "id",
            "started_at",
            "completion",
            "pain_before",
            "pain_after",
            "fatigue",
            "effort_scale",
            "effort_value",
        ]


class PatientSummaryOutput(serializers.Serializer):
    patient = serializers.IntegerField()
    timezone = serializers.CharField()
    programme = ProgrammeBriefOutput(allow_null=True)
    weeks = WeekCountOutput(many=True)
    adherence = WeeklyAdherenceOutput(
        many=True, help_text="Evaluated weeks (stored when each local week ended), newest first."
    )
    sessions = SessionPointOutput(many=True, help_text="Pain, fatigue and effort per session.")
    assessments = SeriesOutput(many=True)
    rule_overrides = RuleSettingOutput(
        many=True,
        allow_null=True,
        help_text="Rules whose settings differ from the defaults for this patient (GET "
        "/patients/{id}/rule-settings/ has them all); null for the patient side.",
    )


class PatientOverviewOutput(PatientOutput):
    """A patient row of the clinician list: profile plus this week's activity."""

    programme = serializers.SerializerMethodField()
    sessions_this_week = serializers.SerializerMethodField()
    last_session_at = serializers.SerializerMethodField()
    last_pain = serializers.SerializerMethodField()
    open_alerts = serializers.SerializerMethodField()

    class Meta(PatientOutput.Meta):
        fields = [
            *PatientOutput.Meta.fields,
            "programme",
            "sessions_this_week",
            "last_session_at",
            "last_pain",
            "open_alerts",
        ]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_open_alerts(self, patient: Any) -> int | None:
        """Alerts about the patient not yet resolved; null for patients and caregivers, who
        see no clinical alerts."""
        return self._activity(patient).open_alerts

    def _activity(self, patient: Any) -> Any:
        return self.context["activity"][patient.pk]

    @extend_schema_field(ProgrammeBriefOutput(allow_null=True))
    def get_programme(self, patient: Any) -> Any:
        programme = self._activity(patient).active_programme
        return self._programme_brief.to_representation(programme) if programme else None

    # One field and one serializer for the whole page, not one per row.
    @cached_property
    def _programme_brief(self) -> ProgrammeBriefOutput:
        return ProgrammeBriefOutput()

    @cached_property
    def _datetime(self) -> serializers.DateTimeField:
        return serializers.DateTimeField()

    @extend_schema_field(serializers.DecimalField(max_digits=4, decimal_places=1))
    def get_sessions_this_week(self, patient: Any) -> str:
        """Full sessions count 1, partial 0.5, in the patient's local ISO week."""
        return f"{self._activity(patient).sessions_this_week:.1f}"

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_last_session_at(self, patient: Any) -> Any:
        value = self._activity(patient).last_session_at
        return self._datetime.to_representation(value) if value else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_last_pain(self, patient: Any) -> int | None:
        """Pain after the most recent session that recorded it."""
        return self._activity(patient).last_pain
