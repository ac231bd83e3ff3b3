"""Messages to people. Issue [3/5] adds alerts, push and e-mail delivery on top of this."""

from __future__ import annotations

from django.db import models

from backend.accounts.models import PatientProfile, User


class NotificationKind(models.TextChoices):
    PROGRAMME_CHANGED = "programme_changed", "Programme changed"
    PROGRAMME_STATUS = "programme_status", "Programme paused, resumed or completed"
    PROGRESSION_PROPOSED = "progression_proposed", "Progression proposed"


class Notification(models.Model):
    """One message to one person: says why it was sent and links (by id) to what it is about."""

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
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
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient_id}"
