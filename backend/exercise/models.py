"""Exercise library, versioned programmes, session logs and function assessments."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from backend.accounts.models import (
    Organisation,
    PatientProfile,
    ServiceAccount,
    User,
    default_training_weekdays,
    validate_weekdays,
)
from backend.exercise.codes import (
    BodyRegion,
    Category,
    Completion,
    Equipment,
    IntensityScale,
    LoadUnit,
    MuscleGroup,
    Symptom,
)
from backend.exercise.fields import CodeListField
from backend.exercise.measures import Measure, Setting


class Exercise(models.Model):
    """Global (organisation empty, shipped with the product) or owned by one organisation."""

    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="exercises"
    )
    name = models.CharField(max_length=120)
    instructions = models.TextField()
    category = models.CharField(max_length=20, choices=Category.choices, db_index=True)
    body_regions = CodeListField(codes=BodyRegion)
    muscle_groups = CodeListField(codes=MuscleGroup, blank=True)
    equipment = CodeListField(codes=Equipment, blank=True)
    video_url = models.URLField(blank=True)
    image_url = models.URLField(blank=True)
    default_dose = models.JSONField(default=dict, blank=True)
    safety_notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="exercise_name_once_per_organisation"
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(organisation__isnull=True),
                name="global_exercise_name_once",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ProgrammeStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"


class PauseReason(models.TextChoices):
    ILLNESS = "illness", "Illness"
    FLARE = "flare", "Disease flare"
    SURGERY = "surgery", "Surgery"
    RED_FLAG = "red_flag", "Red-flag symptom reported"
    OTHER = "other", "Other"


class Programme(models.Model):
    """A prescription to one patient. Its content lives in versions; this row holds the
    status and points at the version in force."""

    # The plain patient_id index stays although programme_patient_status leads with it:
    # turning it off by AlterField would also drop one_active_programme_per_patient (Django
    # removes every single-column B-tree on the column that is not in Meta.indexes).
    patient = models.ForeignKey(PatientProfile, on_delete=models.PROTECT, related_name="programmes")
    status = models.CharField(
        max_length=12, choices=ProgrammeStatus.choices, default=ProgrammeStatus.DRAFT
    )
    pause_reason = models.CharField(max_length=12, choices=PauseReason.choices, blank=True)
    pause_note = models.CharField(max_length=500, blank=True)
    current_version = models.ForeignKey(
        "ProgrammeVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ever_active = models.BooleanField(default=False)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status="active"),
                name="one_active_programme_per_patient",
            ),
        ]
        indexes = [models.Index(fields=["patient", "status"], name="programme_patient_status")]

    def __str__(self) -> str:
        return f"programme {self.pk} of {self.patient}"


class ProgrammeVersion(models.Model):
    """The content of a programme at one point. Immutable once the programme has been active:
    a change makes a new version, and session logs name the version they performed."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    goals = models.TextField(blank=True)
    start_date = models.DateField()
    review_date = models.DateField(null=True, blank=True)
    sessions_per_week_min = models.PositiveSmallIntegerField(default=2)
    sessions_per_week_max = models.PositiveSmallIntegerField(default=3)
    training_weekdays = models.JSONField(
        default=default_training_weekdays, validators=[validate_weekdays]
    )
    reason = models.CharField(max_length=500, blank=True)
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["programme_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "number"], name="version_number_once"),
            models.CheckConstraint(
                name="sessions_per_week_in_range",
                condition=Q(sessions_per_week_min__gte=1)
                & Q(sessions_per_week_min__lte=F("sessions_per_week_max"))
                & Q(sessions_per_week_max__lte=7),
            ),
            models.CheckConstraint(
                name="review_after_start",
                condition=Q(review_date__isnull=True) | Q(review_date__gte=F("start_date")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.number}"


class ProgrammeItem(models.Model):
    """One exercise of a version and its dose; the fields used depend on the category."""

    version = models.ForeignKey(ProgrammeVersion, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField()
    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="+")
    sets = models.PositiveSmallIntegerField(null=True, blank=True)
    reps = models.PositiveSmallIntegerField(null=True, blank=True)
    hold_seconds = models.PositiveSmallIntegerField(null=True, blank=True)
    load_value = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    load_unit = models.CharField(max_length=12, choices=LoadUnit.choices, blank=True)
    band_colour = models.CharField(max_length=20, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    interval_work_seconds = models.PositiveSmallIntegerField(null=True, blank=True)
    interval_rest_seconds = models.PositiveSmallIntegerField(null=True, blank=True)
    interval_repeats = models.PositiveSmallIntegerField(null=True, blank=True)
    rest_seconds = models.PositiveSmallIntegerField(null=True, blank=True)
    intensity_scale = models.CharField(max_length=10, choices=IntensityScale.choices, blank=True)
    intensity_target = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    notes = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["version_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "position"], name="item_position_once"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.exercise_id}"


class ProgrammeEvent(models.Model):
    """Status history: activated, paused (why), resumed, completed."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=12, choices=ProgrammeStatus.choices)
    reason = models.CharField(max_length=12, choices=PauseReason.choices, blank=True)
    note = models.CharField(max_length=500, blank=True)
    by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["programme_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.programme_id} → {self.status}"


class SessionLog(models.Model):
    """One exercise session as the patient (or a supervising clinician) recorded it."""

    # No single-column indexes on patient and programme: the composites below lead with them,
    # and a plain patient_id index tempted the planner into reading each patient's whole
    # history and filtering the dates (the weekly job's window, docs/explain.md).
    patient = models.ForeignKey(
        PatientProfile, on_delete=models.PROTECT, related_name="sessions", db_index=False
    )
    client_id = models.UUIDField(help_text="Generated by the phone; makes uploads idempotent.")
    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="sessions", db_index=False
    )
    version = models.ForeignKey(ProgrammeVersion, on_delete=models.PROTECT, related_name="+")
    programme_status_at_log = models.CharField(max_length=12, choices=ProgrammeStatus.choices)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    supervised = models.BooleanField(default=False)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    completion = models.CharField(max_length=10, choices=Completion.choices)
    effort_scale = models.CharField(max_length=10, choices=IntensityScale.choices, blank=True)
    effort_value = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    pain_before = models.PositiveSmallIntegerField(null=True, blank=True)
    pain_after = models.PositiveSmallIntegerField(null=True, blank=True)
    fatigue = models.PositiveSmallIntegerField(null=True, blank=True)
    symptoms = CodeListField(codes=Symptom, blank=True)
    note = models.TextField(blank=True)
    # Any symptom reported with this log, ticked or not (pain scores, a replay, a follow-up):
    # such a log never counts towards a progression proposal (DOMAIN.md 7).
    symptoms_reported = models.BooleanField(default=False)
    # How far the phone's clock was ahead when the log ended "in the future" (within the
    # tolerance): its times are stored as sent and the server's time is created_at.
    clock_ahead_seconds = models.PositiveIntegerField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "client_id"], name="session_client_id_once"),
            models.CheckConstraint(
                name="session_ends_after_start", condition=Q(ended_at__gt=F("started_at"))
            ),
            models.CheckConstraint(
                name="session_scores_in_range",
                condition=(Q(pain_before__isnull=True) | Q(pain_before__lte=10))
                & (Q(pain_after__isnull=True) | Q(pain_after__lte=10))
                & (Q(fatigue__isnull=True) | Q(fatigue__lte=10)),
            ),
        ]
        indexes = [
            # A patient's list in its exact order (Meta.ordering): a page is the first rows of
            # one range, whatever the history (issue #12); also the jobs' per-patient windows.
            models.Index(fields=["patient", "-started_at", "-id"], name="session_patient_newest"),
            models.Index(fields=["programme", "-started_at"], name="session_programme_started"),
            # updated_since (the app's sync) is always within the viewer's patients.
            models.Index(fields=["patient", "updated_at"], name="session_patient_updated"),
        ]

    def __str__(self) -> str:
        return f"session {self.client_id} of {self.patient_id}"


class SessionItemResult(models.Model):
    """What was done of one programme item in a session."""

    session = models.ForeignKey(SessionLog, on_delete=models.CASCADE, related_name="results")
    item = models.ForeignKey(ProgrammeItem, on_delete=models.PROTECT, related_name="+")
    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="+")
    sets_done = models.PositiveSmallIntegerField(null=True, blank=True)
    reps_done = models.PositiveSmallIntegerField(null=True, blank=True)
    load_value = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    load_unit = models.CharField(max_length=12, choices=LoadUnit.choices, blank=True)
    duration_minutes_done = models.PositiveSmallIntegerField(null=True, blank=True)
    skipped = models.BooleanField(default=False)
    skip_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["session_id", "item__position"]
        constraints = [
            models.UniqueConstraint(fields=["session", "item"], name="result_once_per_item"),
        ]
        indexes = [models.Index(fields=["exercise", "session"], name="result_exercise_session")]

    def __str__(self) -> str:
        return f"result of item {self.item_id} in session {self.session_id}"


class SessionLogRevision(models.Model):
    """The values a session log had before an edit (or deletion)."""

    session = models.ForeignKey(SessionLog, on_delete=models.CASCADE, related_name="revisions")
    previous = models.JSONField()
    revised_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    revised_at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=10, choices=[("edit", "Edit"), ("delete", "Delete")])

    class Meta:
        ordering = ["session_id", "revised_at", "id"]

    def __str__(self) -> str:
        return f"{self.action} of session {self.session_id}"


class ProposalStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    DISMISSED = "dismissed", "Dismissed"
    CLOSED = "closed", "Closed by a red-flag symptom"


class ProgressionProposal(models.Model):
    """A suggested dose change for one item (DOMAIN.md 3); never applied automatically."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="proposals")
    item = models.ForeignKey(ProgrammeItem, on_delete=models.CASCADE, related_name="+")
    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="+")
    change = models.CharField(
        max_length=10, choices=[("load", "Load"), ("sets", "Sets"), ("reps", "Reps")]
    )
    current_value = models.DecimalField(max_digits=6, decimal_places=2)
    proposed_value = models.DecimalField(max_digits=6, decimal_places=2)
    evidence = models.JSONField()
    status = models.CharField(
        max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.OPEN
    )
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    resulting_version = models.ForeignKey(
        ProgrammeVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One proposal per prescribed item: re-evaluating never proposes it twice.
            models.UniqueConstraint(fields=["item"], name="one_proposal_per_item"),
        ]

    def __str__(self) -> str:
        return f"{self.change} {self.current_value} → {self.proposed_value}"


class Assessment(models.Model):
    """One value of a validated outcome measure (DOMAIN.md section 1)."""

    patient = models.ForeignKey(
        PatientProfile,
        on_delete=models.PROTECT,
        related_name="assessments",
        db_index=False,  # assessment_series and assessment_patient_newest lead with it
    )
    measure = models.CharField(max_length=10, choices=Measure.choices)
    value = models.DecimalField(max_digits=10, decimal_places=3)  # CK runs into the 10,000s
    unit = models.CharField(max_length=20)
    max_score = models.PositiveSmallIntegerField(null=True, blank=True)
    setting = models.CharField(max_length=6, choices=Setting.choices)
    measured_at = models.DateTimeField()
    measured_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    items = models.JSONField(null=True, blank=True, help_text="Item scores (CMAS, MMT8).")
    note = models.CharField(max_length=500, blank=True)
    upper_limit = models.DecimalField(
        max_digits=7, decimal_places=1, null=True, blank=True, help_text="Lab upper limit (CK)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Provenance of a result imported through /fhir/ (empty for one entered by a person): the
    # sending system, and the FHIR identifier that makes a resend return the stored result.
    source_account = models.ForeignKey(
        ServiceAccount,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # looked up by the identifier, never by account
    )
    source_organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # assessment_source_identifier leads with it
        help_text="The importing organisation: an identifier is unique within it.",
    )
    source_identifier_system = models.CharField(max_length=255, blank=True)
    source_identifier_value = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-measured_at", "-id"]
        constraints = [
            # A resent result (same identifier) is the stored one, never a second assessment.
            models.UniqueConstraint(
                fields=[
                    "source_organisation",
                    "source_identifier_system",
                    "source_identifier_value",
                ],
                condition=Q(source_organisation__isnull=False),
                name="assessment_source_identifier",
            ),
            models.CheckConstraint(
                name="assessment_import_has_identifier",
                condition=Q(source_organisation__isnull=True, source_account__isnull=True)
                | (
                    Q(source_organisation__isnull=False, source_account__isnull=False)
                    & ~Q(source_identifier_value="")
                ),
            ),
        ]
        indexes = [
            models.Index(
                fields=["patient", "measure", "setting", "measured_at"], name="assessment_series"
            ),
            # measured_after / measured_before within the viewer's patients, and a patient's
            # list in its exact order (Meta.ordering): a page is one range's first rows.
            models.Index(
                fields=["patient", "-measured_at", "-id"], name="assessment_patient_newest"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.measure} {self.value} ({self.setting})"


class ProgrammeTemplate(models.Model):
    """An organisation's reusable prescription: a version's content without its dates or
    patient (goals, sessions per week, training days, items with their doses), to prescribe
    from. `content` is stored JSON-safe (decimals as strings) and checked by the same rules
    as a programme when it is written (services/templates.py)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="programme_templates"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    content = models.JSONField()
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Archived, not deleted: programmes prescribed from it keep their own copy of the content,
    # and an archived name may be reused.
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"],
                condition=Q(archived_at__isnull=True),
                name="template_name_once_per_organisation",
            ),
        ]

    def __str__(self) -> str:
        return self.name
