"""Sending one delivery: claimed atomically, so a retried or duplicated task sends at most
once per channel; transient failures are released for a retry, permanent ones recorded."""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from backend.accounts.models import CaregiverLink, CareTeamMembership, PushDevice
from backend.alerts.models import Channel, DeliveryStatus, NotificationDelivery
from backend.alerts.push import push_sender

logger = logging.getLogger(__name__)

STALE_PENDING = timedelta(minutes=1)  # older pending rows missed their task (broker down?)
MAX_ATTEMPTS = 6  # counted in the database, whoever (task retry or sweeper) makes the attempt
STALE_SENDING = timedelta(minutes=15)  # a worker died mid-send: never resend (at most once)


class TransientDeliveryError(Exception):
    """Worth retrying later (network, rate limit, the service's 5xx)."""


def _claim(delivery_id: int) -> NotificationDelivery | None:
    claimed = NotificationDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING
    ).update(status=DeliveryStatus.SENDING, claimed_at=timezone.now(), attempts=F("attempts") + 1)
    if not claimed:
        return None
    return NotificationDelivery.objects.select_related("notification__recipient").get(
        pk=delivery_id
    )


def _finish(delivery: NotificationDelivery, status: str, error: str = "") -> str:
    delivery.status = status
    delivery.last_error = error[:500]
    delivery.sent_at = timezone.now() if status == DeliveryStatus.SENT else None
    delivery.save(update_fields=["status", "last_error", "sent_at"])
    return status


def _push(delivery: NotificationDelivery) -> str:
    notification = delivery.notification
    devices = list(PushDevice.objects.filter(user_id=notification.recipient_id))
    if not devices:
        return _finish(delivery, DeliveryStatus.SKIPPED, "no registered device")
    data = {
        "notification_id": str(notification.pk),
        "kind": notification.kind,
        "subject_type": notification.subject_type,
        "subject_id": str(notification.subject_id),
    }
    results = [
        (
            device,
            push_sender().send(
                token=device.token,
                platform=device.platform,
                title=notification.title,
                body=notification.body,
                data=data,
            ),
        )
        for device in devices
    ]
    dead = [device.pk for device, result in results if result.invalid_token]
    if dead:
        PushDevice.objects.filter(pk__in=dead).delete()
        logger.info("dropped %d push token(s) the service reported invalid", len(dead))
    if any(result.ok for _, result in results):
        return _finish(delivery, DeliveryStatus.SENT)
    errors = "; ".join(result.error for _, result in results if result.error)
    if any(result.transient for _, result in results):
        raise TransientDeliveryError(errors)
    return _finish(delivery, DeliveryStatus.FAILED, errors or "every token was invalid")


def _email(delivery: NotificationDelivery) -> str:
    notification = delivery.notification
    try:
        send_mail(
            subject=f"[PhysioTrack] {notification.title}",
            message=f"{notification.body}\n\nOpen PhysioTrack to review "
            f"({notification.subject_type} {notification.subject_id}).",
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[notification.recipient.email],
        )
    except (smtplib.SMTPException, OSError) as error:
        raise TransientDeliveryError(str(error)) from error
    return _finish(delivery, DeliveryStatus.SENT)


def entitled_deliveries(delivery_ids: list[int]) -> set[int]:
    """Of these deliveries, those whose recipient is active and, for news about a patient,
    still the patient, on the care team or a caregiver (DOMAIN.md 7): checked at send time,
    not only when queued, in one query for a whole bulk task. Seats and links in force are
    the default managers' (ended ones are history)."""
    recipient = OuterRef("notification__recipient_id")
    patient = OuterRef("notification__patient_id")
    on_team = CareTeamMembership.objects.filter(patient_id=patient, member_id=recipient)
    caregiver = CaregiverLink.objects.filter(patient_id=patient, caregiver_id=recipient)
    about_nobody_or_self = Q(notification__patient__isnull=True) | Q(
        notification__patient__user_id=F("notification__recipient_id")
    )
    return set(
        NotificationDelivery.objects.filter(
            pk__in=delivery_ids, notification__recipient__is_active=True
        )
        .filter(about_nobody_or_self | Exists(on_team) | Exists(caregiver))
        .values_list("pk", flat=True)
    )


def delivery_send(*, delivery_id: int, entitled: bool | None = None) -> str:
    """Sends one delivery if it is still pending; returns its status afterwards. `entitled`:
    already checked by the caller for a batch (entitled_deliveries)."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return "not_pending"
    if entitled is None:
        entitled = delivery_id in entitled_deliveries([delivery_id])
    if not entitled:
        return _finish(delivery, DeliveryStatus.SKIPPED, "recipient left or was deactivated")
    try:
        return _push(delivery) if delivery.channel == Channel.PUSH else _email(delivery)
    except TransientDeliveryError as error:
        if delivery.attempts >= MAX_ATTEMPTS:
            return _finish(delivery, DeliveryStatus.FAILED, f"gave up: {error}")
        # Released for a later attempt (not before the backoff); nothing was delivered.
        delivery.next_attempt_at = timezone.now() + retry_delay(delivery.attempts)
        delivery.save(update_fields=["next_attempt_at"])
        _finish(delivery, DeliveryStatus.PENDING, str(error))
        raise


def deliveries_send(*, delivery_ids: list[int]) -> int:
    """Sends each delivery still pending; returns how many were sent. A transient failure
    leaves its row pending with the backoff set, for the sweeper to retry."""
    sent = 0
    allowed = entitled_deliveries(delivery_ids)
    for delivery_id in delivery_ids:
        try:
            entitled = delivery_id in allowed
            sent += delivery_send(delivery_id=delivery_id, entitled=entitled) == DeliveryStatus.SENT
        except TransientDeliveryError:
            continue
    return sent


def retry_delay(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s … at most 10 minutes: far below the broker's visibility timeout."""
    return timedelta(seconds=min(10 * 2 ** max(attempts - 1, 0), 600))


def deliveries_sweep(*, now: datetime) -> list[int]:
    """Pending deliveries whose task never ran (e.g. the broker was down at commit time), and
    marks interrupted sends failed rather than risk sending twice."""
    NotificationDelivery.objects.filter(
        status=DeliveryStatus.SENDING, claimed_at__lt=now - STALE_SENDING
    ).update(status=DeliveryStatus.FAILED, last_error="interrupted while sending; not resent")
    waiting = NotificationDelivery.objects.filter(status=DeliveryStatus.PENDING)
    never_tried = Q(next_attempt_at__isnull=True, created_at__lt=now - STALE_PENDING)
    backoff_over = Q(next_attempt_at__lte=now)
    return list(waiting.filter(never_tried | backoff_over).values_list("id", flat=True)[:5000])
