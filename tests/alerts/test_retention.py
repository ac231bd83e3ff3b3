"""The retention purge: notifications, deliveries and reminders past their retention go in
bounded batches; the newer ones, the protected ones and the clinical record stay."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from backend.alerts import tasks
from backend.alerts.models import (
    Alert,
    AlertStatus,
    DeliveryStatus,
    Notification,
    NotificationDelivery,
    Reminder,
)
from backend.alerts.services.retention import records_purge
from tests.builders import alert_raised

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 12, 4, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=400)  # past every retention
LAST_SUMMER = NOW - timedelta(days=120)  # past the deliveries' and reminders' (90 days) only
LAST_WEEK = NOW - timedelta(days=7)


@pytest.fixture(autouse=True)
def _retention(settings) -> None:
    settings.RETENTION_NOTIFICATIONS_DAYS = 365
    settings.RETENTION_DELIVERIES_DAYS = 90
    settings.RETENTION_REMINDERS_DAYS = 90


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(LONG_AGO - timedelta(days=1), tick=False):
        yield


def _notification(user, key: str, *, read: bool = True, about: Alert | None = None, **delivery):
    notification = Notification.objects.create(
        recipient=user,
        kind="alert" if about else "reminder",
        title="t",
        body="b",
        subject_type="alert" if about else "programme",
        subject_id=about.pk if about else 1,
        dedup_key=key,
        read_at=datetime.now(UTC) if read else None,
    )
    NotificationDelivery.objects.create(
        notification=notification, channel="push", status=delivery.get("status", "sent")
    )
    return notification


def _reminder(patient, day: date) -> Reminder:
    return Reminder.objects.create(
        patient=patient, kind="R-0", local_date=day, due_at=datetime.now(UTC)
    )


@pytest.fixture
def rows(world) -> dict[str, list[int]]:
    """Old, middle-aged and recent rows, with the ones that must never go among the old."""
    user, patient = world.physio, world.patient
    made: dict[str, list[int]] = {"purged": [], "kept": []}
    with time_machine.travel(LONG_AGO, tick=False):
        open_alert = alert_raised(patient, key="open")
        resolved_alert = alert_raised(patient, key="resolved")
        NotificationDelivery.objects.update(status=DeliveryStatus.SENT)
        Alert.objects.filter(pk=resolved_alert.pk).update(status=AlertStatus.RESOLVED)
        made["alerts"] = [open_alert.pk, resolved_alert.pk]
        made["purged"] += [_notification(user, f"old-read-{n}").pk for n in range(5)]
        made["purged"] += [_notification(user, "old-unread", read=False).pk]
        made["purged"] += [_notification(user, "resolved", read=False, about=resolved_alert).pk]
        made["kept"] += [
            _notification(user, "open-unread", read=False, about=open_alert).pk,
            _notification(user, "open-read", about=open_alert).pk,
            _notification(user, "in-flight", status=DeliveryStatus.PENDING).pk,
        ]
        made["old_reminders"] = [
            _reminder(patient, LONG_AGO.date() - timedelta(n)).pk for n in range(3)
        ]
    with time_machine.travel(LAST_SUMMER, tick=False):
        summer = _notification(user, "summer")
        NotificationDelivery.objects.create(notification=summer, channel="email", status="failed")
        made["kept"] += [summer.pk]
        made["old_reminders"] += [_reminder(patient, LAST_SUMMER.date()).pk]
    with time_machine.travel(LAST_WEEK, tick=False):
        made["kept"] += [_notification(user, "recent").pk]
        made["new_reminders"] = [_reminder(patient, LAST_WEEK.date()).pk]
    return made


def test_rows_past_their_retention_go_in_several_batches_and_the_rest_stays(world, rows):
    deliveries_before = NotificationDelivery.objects.count()
    alert_notifications = set(
        Notification.objects.filter(
            subject_type="alert", dedup_key__startswith="alert:"
        ).values_list("pk", flat=True)
    )

    with time_machine.travel(NOW, tick=False):
        result = records_purge(now=NOW, batch_size=2)

    assert result.complete
    assert result.batches >= 6  # 2 ids per DELETE: never one statement for everything
    remaining = set(Notification.objects.values_list("pk", flat=True))
    assert not remaining & set(rows["purged"])
    assert set(rows["kept"]) <= remaining
    # The rules' own notifications: about the open alert they stay, the resolved one's go
    open_alert, resolved_alert = rows["alerts"]
    kept_alert_notifications = set(
        Notification.objects.filter(
            subject_id=open_alert, dedup_key__startswith="alert:"
        ).values_list("pk", flat=True)
    )
    assert kept_alert_notifications
    assert kept_alert_notifications <= remaining
    assert not Notification.objects.filter(
        subject_id=resolved_alert, dedup_key__startswith="alert:"
    )
    assert alert_notifications - remaining  # some went
    # Summer's notification stays but its finished deliveries (past 90 days) go
    assert not NotificationDelivery.objects.filter(notification_id=rows["kept"][3]).exists()
    # The in-flight delivery stays with its notification
    assert NotificationDelivery.objects.filter(status=DeliveryStatus.PENDING).count() == 1
    assert set(Reminder.objects.values_list("pk", flat=True)) == set(rows["new_reminders"])
    assert Alert.objects.count() == 2  # the record stays
    assert result.deleted == {
        "deliveries": deliveries_before - NotificationDelivery.objects.count(),
        "notifications": len(rows["purged"]) + len(alert_notifications - remaining),
        "reminders": len(rows["old_reminders"]),
    }


def test_a_second_run_purges_nothing_more(world, rows):
    with time_machine.travel(NOW, tick=False):
        first = records_purge(now=NOW, batch_size=3)
        second = records_purge(now=NOW, batch_size=3)

    assert sum(first.deleted.values()) > 0
    assert second.deleted == {"deliveries": 0, "notifications": 0, "reminders": 0}


def test_a_run_out_of_time_stops_between_batches_and_the_next_goes_on(world, rows):
    ticks = iter(range(100))

    with time_machine.travel(NOW, tick=False):
        cut_short = records_purge(
            now=NOW, batch_size=2, budget=timedelta(seconds=2), clock=lambda: next(ticks)
        )
        rest = records_purge(now=NOW, batch_size=2)

    assert not cut_short.complete
    assert cut_short.batches == 1
    assert rest.complete
    assert not Reminder.objects.filter(pk__in=rows["old_reminders"]).exists()


def test_the_task_returns_counts_per_table_and_twice_purges_nothing_more(world, rows):
    with time_machine.travel(NOW, tick=False):
        first = tasks.purge_expired_records()
        second = tasks.purge_expired_records()

    assert first["reminders"] == len(rows["old_reminders"])
    assert first["notifications"] >= len(rows["purged"])
    assert second == {"deliveries": 0, "notifications": 0, "reminders": 0}
