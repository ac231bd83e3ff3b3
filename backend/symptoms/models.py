"""A symptom report is its own record (shared/DOMAIN.md 7): it is stored, and its tier's alert
raised, in the request that carries it, whatever else in that request is invalid."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from backend.accounts.models import PatientProfile, User
from backend.exercise.codes import Symptom
from backend.exercise.fields import CodeListField
from backend.exercise.models import SessionLog


class ReportSource(models.TextChoices):
    STANDALONE = "standalone", "Reported on its own"
    SESSION = "session", "Reported with a stored session log"
    REFUSED_LOG = "refused_log", "Reported with a session log that was refused"
    FOLLOW_UP = "follow_up", "Follow-up of a session log"


class SymptomReport(models.Model):
    patient = models.ForeignKey(
        PatientProfile, on_delete=models.PROTECT, related_name="symptom_reports", db_index=False
    )
    # A standalone report's own id from the phone (a retry returns the stored report).
    client_id = models.UUIDField(null=True, blank=True)
    # The session log it came with: stored, or only its client_id when the log was refused.
    session = models.ForeignKey(
        SessionLog,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="symptom_reports",
    )
    log_client_id = models.UUIDField(null=True, blank=True)
    source = models.CharField(max_length=12, choices=ReportSource.choices)
    reported_at = models.DateTimeField(help_text="When the patient reported it (server time).")
    codes = CodeListField(codes=Symptom, blank=True, help_text="Ticked on the checklist.")
    # Codes the server added: pain scores count as a symptom by themselves (DOMAIN.md 7).
    derived_codes = CodeListField(codes=Symptom, blank=True)
    pain_before = models.PositiveSmallIntegerField(null=True, blank=True)
    pain_after = models.PositiveSmallIntegerField(null=True, blank=True)
    other = models.CharField(max_length=300, blank=True)
    note = models.TextField(blank=True)
    tier = models.PositiveSmallIntegerField(null=True, blank=True)
    reported_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-reported_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "client_id"],
                condition=Q(client_id__isnull=False),
                name="symptom_report_client_id_once",
            ),
            models.CheckConstraint(
                name="symptom_report_pain_in_range",
                condition=(Q(pain_before__isnull=True) | Q(pain_before__lte=10))
                & (Q(pain_after__isnull=True) | Q(pain_after__lte=10)),
            ),
        ]
        indexes = [
            # A patient's list in its exact order (Meta.ordering): a page is one range's first rows.
            models.Index(
                fields=["patient", "-reported_at", "-id"], name="symptom_report_patient_newest"
            ),
            models.Index(fields=["patient", "log_client_id"], name="symptom_report_log"),
        ]

    def __str__(self) -> str:
        return f"symptoms {','.join(self.all_codes)} of {self.patient_id}"

    @property
    def all_codes(self) -> list[str]:
        return [*self.codes, *(c for c in self.derived_codes if c not in self.codes)]
