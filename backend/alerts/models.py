"""Alerts for the care team, reminders and weekly adherence for patients, and the outbox of
messages (notifications and their per-channel deliveries)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from backend.accounts.models import PatientProfile, User


class NotificationKind(models.TextChoices):
    PROGRAMME_CHANGED = "programme_changed", "Programme changed"
    PROGRAMME_STATUS = "programme_status", "Programme paused, resumed or completed"
    PROGRESSION_PROPOSED = "progression_proposed", "Progression proposed"
    REMINDER = "reminder", "Session reminder"
    ADHERENCE_ADVICE = "adherence_advice", "Advice about the week's sessions"
    ALERT = "alert", "Care-team alert"
    ALERT_ESCALATED = "alert_escalated", "Alert not acknowledged in time"


class Notification(models.Model):
    """One message to one person: says why it was sent and links (by id) to what it is about.
    Created in the same transaction as its cause; delivered per channel afterwards."""

    recipient = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,  # notification_inbox_newest leads with it
    )
    patient = models.ForeignKey(
        PatientProfile, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=30, choices=NotificationKind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField()
    subject_type = models.CharField(max_length=40)
    subject_id = models.BigIntegerField()
    dedup_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The inbox in its exact order (Meta.ordering): a page is one range's first rows.
            models.Index(
                fields=["recipient", "-created_at", "-id"], name="notification_inbox_newest"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient_id}"


class Channel(models.TextChoices):
    PUSH = "push", "Push"
    EMAIL = "email", "E-mail"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped (no device or address)"


class NotificationDelivery(models.Model):
    """One channel's delivery of a notification: at most one per channel (a constraint)."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="After a transient failure: not before this time."
    )
    last_error = models.CharField(max_length=500, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="delivery_once"),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="delivery_queue")]

    def __str__(self) -> str:
        return f"{self.channel} of notification {self.notification_id}: {self.status}"


class Urgency(models.TextChoices):
    EMERGENCY = "emergency", "Emergency"
    URGENT = "urgent", "Urgent"
    ROUTINE = "routine", "Routine"
    INFO = "info", "Info"


URGENCY_RANK = {Urgency.EMERGENCY: 0, Urgency.URGENT: 1, Urgency.ROUTINE: 2, Urgency.INFO: 3}


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


class Alert(models.Model):
    """An explainable alert: the rule (id and version) that fired, why in plain words, and the
    evidence (values, window, thresholds). One per rule, patient and period (dedup_key)."""

    patient = models.ForeignKey(
        PatientProfile,
        on_delete=models.PROTECT,
        related_name="alerts",
        db_index=False,  # the alert_patient_* indexes lead with it
    )
    rule_id = models.CharField(max_length=10, db_index=True)
    rule_version = models.PositiveSmallIntegerField()
    urgency = models.CharField(max_length=10, choices=Urgency.choices)
    urgency_rank = models.PositiveSmallIntegerField(help_text="0 = emergency … 3 = info")
    reason = models.CharField(max_length=300)
    evidence = models.JSONField()
    period_start = models.DateField()
    period_end = models.DateField()
    dedup_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=14, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    acknowledged_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Repeated reports of one symptom tier for a patient within ALERT_COALESCE_MINUTES update
    # the open alert instead of raising (and pushing) another (backend.alerts.services.alerting).
    occurrences = models.PositiveIntegerField(
        default=1, help_text="How many reports this alert gathers (1 unless coalesced)."
    )
    last_occurred_at = models.DateTimeField(
        default=timezone.now, help_text="When the newest report it gathers arrived."
    )

    class Meta:
        ordering = ["urgency_rank", "-created_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "status"], name="alert_patient_status"),
            # ?urgency= on the alert list, always within the viewer's patients.
            models.Index(fields=["patient", "urgency"], name="alert_patient_urgency"),
            models.Index(fields=["status", "urgency_rank", "-created_at"], name="alert_triage"),
            # One patient's alerts in the list's exact order (Meta.ordering, ?patient=).
            models.Index(
                fields=["patient", "urgency_rank", "-created_at", "-id"],
                name="alert_patient_triage",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} for {self.patient_id}: {self.reason}"


class ReminderKind(models.TextChoices):
    SESSION = "R-0", "Session day"
    NOTHING_YET = "R-1", "Thursday: no session yet"
    BELOW_MINIMUM = "R-2", "Saturday: below the minimum"
    SUN = "SUN-1", "Sun protection"


class Reminder(models.Model):
    """A reminder that was sent: one per patient, kind and local date, however often the
    periodic task runs, late or on two workers."""

    patient = models.ForeignKey(PatientProfile, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=6, choices=ReminderKind.choices)
    local_date = models.DateField()
    due_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "kind", "local_date"], name="reminder_once_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.patient_id} on {self.local_date}"


class WeeklyAdherence(models.Model):
    """One patient's ISO week (in their own time zone), evaluated when it ended."""

    patient = models.ForeignKey(
        PatientProfile, on_delete=models.CASCADE, related_name="weekly_adherence"
    )
    week_start = models.DateField(help_text="Monday of the patient's local week.")
    sessions = models.DecimalField(max_digits=4, decimal_places=1)
    target_min = models.PositiveSmallIntegerField(null=True, blank=True)
    target_max = models.PositiveSmallIntegerField(null=True, blank=True)
    below_minimum = models.BooleanField(default=False)
    above_maximum = models.BooleanField(default=False)
    consecutive_below = models.PositiveSmallIntegerField(default=0)
    suppressed = models.CharField(
        max_length=20, blank=True, help_text="Why no rule applied: paused, no_programme…"
    )
    evaluated_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["patient_id", "week_start"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "week_start"], name="adherence_week_once"),
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} week of {self.week_start}: {self.sessions}"


class RuleOverride(models.Model):
    """A clinician's change to a rule's defaults for one patient (thresholds, urgency, or
    `enabled: false`). DOMAIN.md: every threshold is a default clinicians may change."""

    patient = models.ForeignKey(PatientProfile, on_delete=models.CASCADE, related_name="+")
    rule_id = models.CharField(max_length=10)
    parameters = models.JSONField()
    set_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "rule_id"], name="override_once"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} override for {self.patient_id}"


class DeclineCheck(models.Model):
    """A patient whose decline rules must be evaluated (a new assessment or log): written in
    the same transaction, so a broker outage cannot lose the check; a sweeper catches up."""

    patient = models.OneToOneField(PatientProfile, on_delete=models.CASCADE, related_name="+")
    requested_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"decline check for {self.patient_id} ({self.requested_at:%Y-%m-%d %H:%M})"


class JobCheckpoint(models.Model):
    """When a periodic job last completed, so the next run covers everything since."""

    name = models.CharField(max_length=50, unique=True)
    completed_until = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} until {self.completed_until:%Y-%m-%d %H:%M}"
