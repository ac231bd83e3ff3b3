"""The outbox: notifications are rows written in the cause's transaction; each channel's
delivery is a row too, sent by a task after commit (and by a sweeper if the broker was down)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from backend.accounts.models import CLINICIAN_ROLES, PatientProfile, User
from backend.alerts.models import (
    Alert,
    Channel,
    Notification,
    NotificationDelivery,
    NotificationKind,
    Urgency,
)
from backend.core.bulk import insert_ignoring_conflicts
from backend.core.enqueue import enqueue

logger = logging.getLogger(__name__)

# E-mail goes to clinicians, for what needs their attention; everyone gets push.
EMAIL_KINDS = frozenset({NotificationKind.ALERT, NotificationKind.ALERT_ESCALATED})


@dataclass(frozen=True)
class Message:
    kind: str
    title: str
    body: str
    subject_type: str
    subject_id: int
    dedup_key: str  # same cause, same recipient: one notification, however often it is raised


@dataclass(frozen=True)
class Outgoing:
    recipient: User
    patient: PatientProfile | None
    message: Message
    # Deferred (the patient's quiet hours): its deliveries wait, not enqueued at commit,
    # until the delivery sweeper finds them due (next_attempt_at), as after a backoff.
    not_before: datetime | None = None
    # Whom it is about when only the id is at hand (alerts): the send re-checks that the
    # recipient may still hear about this patient.
    patient_id: int | None = None

    @property
    def about(self) -> int | None:
        return self.patient.pk if self.patient is not None else self.patient_id


def _channels(role: str, email: str, kind: str) -> list[str]:
    channels: list[str] = [Channel.PUSH]
    if kind in EMAIL_KINDS and role in CLINICIAN_ROLES and email:
        channels.append(Channel.EMAIL)
    return channels


def notifications_send_many(outgoing: Iterable[Outgoing]) -> int:
    """Creates the notifications that do not exist yet and their deliveries, in the caller's
    transaction, and enqueues the deliveries after commit. Returns how many are new.

    Bulk senders (the reminder sweep, the weekly job) pass thousands at a time: what is read
    back are plain values, not model instances, which were half of a reminder chunk's time."""
    wanted = {
        f"{item.message.dedup_key}:{item.recipient.pk}": item
        for item in outgoing
        if item.recipient.is_active  # a deactivated account receives nothing (DOMAIN.md 7)
    }
    if not wanted:
        return 0
    existing = set(
        Notification.objects.filter(dedup_key__in=wanted).values_list("dedup_key", flat=True)
    )
    fresh = [
        {
            "recipient_id": item.recipient.pk,
            "patient_id": item.about,
            "kind": item.message.kind,
            "title": item.message.title,
            "body": item.message.body,
            "subject_type": item.message.subject_type,
            "subject_id": item.message.subject_id,
            "dedup_key": key,
        }
        for key, item in wanted.items()
        if key not in existing
    ]
    if not fresh:
        return 0
    # A concurrent writer may win a key: it made the same notification, and deliveries are
    # unique per channel, so reading back by key and adding deliveries stays exactly-once.
    insert_ignoring_conflicts(Notification, fresh)
    created = list(
        Notification.objects.filter(dedup_key__in=[n["dedup_key"] for n in fresh]).values_list(
            "pk", "dedup_key", "kind", "recipient__role", "recipient__email"
        )
    )
    insert_ignoring_conflicts(
        NotificationDelivery,
        [
            {
                "notification_id": pk,
                "channel": channel,
                "next_attempt_at": wanted[dedup_key].not_before,
            }
            for pk, dedup_key, kind, role, email in created
            for channel in _channels(role, email, kind)
        ],
    )
    ids = list(
        NotificationDelivery.objects.filter(
            notification_id__in=[pk for pk, *_ in created], next_attempt_at__isnull=True
        ).values_list("id", flat=True)
    )
    transaction.on_commit(lambda: deliveries_enqueue(ids), robust=True)
    return len(created)


URGENT_FAN_OUT = 20  # up to this many deliveries: a task each, with Celery's quick retries
DELIVERIES_PER_TASK = 200
URGENT_LEVELS = (Urgency.EMERGENCY, Urgency.URGENT)


def deliveries_enqueue(delivery_ids: list[int]) -> None:
    """A red flag's few deliveries get a task each; a bulk send (the weekly job's advice to
    thousands) one task per 200, since publishing a message per delivery cost more than the
    job's own work (4,619 publishes were a fifth of a 10,000-patient run). Deliveries of an
    emergency or urgent alert, or of an escalation, always get a task each on the "urgent"
    queue, even inside a bulk: they must not wait behind the weekly advice. When the broker
    is down the rest are left to the sweeper (the rows are committed)."""
    from backend.alerts.tasks import deliver_notification, deliver_notifications

    if not delivery_ids:
        return
    urgent = _urgent_deliveries(delivery_ids)
    for delivery_id in urgent:
        if not enqueue(deliver_notification, delivery_id, queue="urgent"):
            return
    taken = set(urgent)
    rest = [delivery_id for delivery_id in delivery_ids if delivery_id not in taken]
    if len(rest) <= URGENT_FAN_OUT:
        for delivery_id in rest:
            if not enqueue(deliver_notification, delivery_id):
                return
        return
    for first in range(0, len(rest), DELIVERIES_PER_TASK):
        if not enqueue(deliver_notifications, rest[first : first + DELIVERIES_PER_TASK]):
            return


def _urgent_deliveries(delivery_ids: list[int]) -> list[int]:
    """Those of `delivery_ids` that a person in danger may be waiting for (one query)."""
    urgent_alert = Alert.objects.filter(
        pk=OuterRef("notification__subject_id"), urgency__in=URGENT_LEVELS
    )
    return list(
        NotificationDelivery.objects.filter(pk__in=delivery_ids)
        .filter(
            Q(notification__kind=NotificationKind.ALERT_ESCALATED)
            | Q(Exists(urgent_alert), notification__kind=NotificationKind.ALERT)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def notifications_send(
    *, recipients: Iterable[User], patient: PatientProfile | None, message: Message
) -> int:
    return notifications_send_many(Outgoing(r, patient, message) for r in recipients)


def notification_mark_read(*, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification
