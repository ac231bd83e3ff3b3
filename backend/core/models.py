from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class IdempotencyState(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"


class IdempotencyKey(models.Model):
    """One `Idempotency-Key` a client sent with a POST, and the answer it got.

    The row is inserted (committed) before the work starts, so the unique constraint decides
    which of two concurrent requests with the same key does the work. The key itself is kept
    only as a keyed hash, and the stored answer is encrypted with a key derived from it: a
    copy of the database reveals neither (answers carry health data and activation codes).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Who sent it; empty for the anonymous endpoints (logout).",
    )
    key_hash = models.CharField(max_length=64)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2048)
    body_hash = models.CharField(max_length=64)
    state = models.CharField(
        max_length=20, choices=IdempotencyState.choices, default=IdempotencyState.IN_PROGRESS
    )
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.BinaryField(null=True, blank=True, help_text="AES-GCM nonce + data.")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key_hash"], name="idempotency_key_per_user"),
            models.UniqueConstraint(
                fields=["key_hash"],
                condition=Q(user__isnull=True),
                name="idempotency_key_anonymous",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.state})"
