"""One bulk export asked for by one person, and the NDJSON files it wrote."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from backend.accounts.models import Organisation, User


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


IN_PROGRESS = (ExportStatus.QUEUED, ExportStatus.RUNNING)


class ExportJob(models.Model):
    """`GET /fhir/$export` as it was asked (types, `_since`, by whom, from which request) and
    how far its run got. The patients exported are worked out when the run starts, from what
    the requester may see then (backend.fhir.bulk.selectors.patients_exportable_by)."""

    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    resource_types = models.JSONField(help_text="FHIR resource types, in the order written.")
    since = models.DateTimeField(null=True, blank=True, help_text="`_since` of the request.")
    request_url = models.CharField(max_length=2000, help_text="The kick-off URL, as asked.")
    request_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    transaction_time = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last page written: a run silent for long has died."
    )
    expires_at = models.DateTimeField(help_text="Its files and this row go after this.")
    attempt = models.PositiveIntegerField(
        default=0, help_text="Runs started; a page is written only by the current one."
    )
    patients_total = models.PositiveIntegerField(default=0)
    patients_done = models.PositiveIntegerField(default=0)
    audited_through = models.BigIntegerField(
        default=0,
        help_text="Highest patient id already in the audit trail for this job: a restarted "
        "run rewrites the files but never records a patient twice.",
    )
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One export at a time per person: a second kick-off while one is queued or
            # running is answered 429 (Bulk Data Access IG), never a second run.
            models.UniqueConstraint(
                fields=["requested_by"],
                condition=Q(status__in=IN_PROGRESS),
                name="fhir_export_one_in_progress",
            ),
        ]
        indexes = [models.Index(fields=["expires_at"], name="fhir_export_expiry")]

    def __str__(self) -> str:
        return f"export {self.pk} by {self.requested_by_id} ({self.status})"


class ExportFile(models.Model):
    """One NDJSON file of a completed job: every resource of one type, one per line."""

    job = models.ForeignKey(ExportJob, on_delete=models.CASCADE, related_name="files")
    resource_type = models.CharField(max_length=64)
    name = models.CharField(max_length=100)
    count = models.PositiveIntegerField()
    size = models.PositiveBigIntegerField(help_text="Bytes.")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["job", "name"], name="fhir_export_file_once"),
        ]

    def __str__(self) -> str:
        return f"{self.name} of export {self.job_id}"
