from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from backend.accounts.models import PatientProfile, User
from backend.alerts.models import Notification


@dataclass(frozen=True)
class Message:
    kind: str
    title: str
    body: str
    subject_type: str
    subject_id: int
    dedup_key: str  # same cause, same recipient: one notification, however often it is raised


def notifications_send(
    *, recipients: Iterable[User], patient: PatientProfile | None, message: Message
) -> None:
    """Creates the notifications inside the caller's transaction (the outbox); delivery to
    push and e-mail reads them after commit. A repeated cause adds nothing (dedup_key)."""
    rows = [
        Notification(
            recipient=recipient,
            patient=patient,
            kind=message.kind,
            title=message.title,
            body=message.body,
            subject_type=message.subject_type,
            subject_id=message.subject_id,
            dedup_key=f"{message.dedup_key}:{recipient.pk}",
        )
        for recipient in recipients
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)


def notification_mark_read(*, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification
