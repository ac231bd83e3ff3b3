"""Every task on one of the four queues (README "Queues"), red flags on "urgent"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.conf import settings

from backend.accounts.models import PushDevice
from backend.alerts.models import NotificationDelivery, NotificationKind
from backend.alerts.services.alerting import Audience, alerts_raise
from backend.alerts.services.notifications import Message, Outgoing, notifications_send_many
from config.celery import app
from tests.builders import finding
from tests.factories import PatientProfileFactory
from tests.published import published_tasks

QUEUES = {"urgent", "default", "bulk", "jobs"}
SOME_DAY = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


def _our_tasks() -> list[str]:
    app.loader.import_default_modules()  # autodiscovery, as a worker does at start
    return sorted(name for name in app.tasks if not name.startswith("celery."))


def _queue_of(task_name: str) -> str:
    route = app.amqp.router.route({}, task_name, args=(), kwargs={})
    return str(route["queue"].name)


def test_the_project_has_tasks_to_route():
    assert {"alerts.deliver_notification", "alerts.evaluate_adherence"} <= set(_our_tasks())


@pytest.mark.parametrize("task_name", _our_tasks())
def test_every_task_is_routed_to_one_of_the_four_queues(task_name):
    # Routed by name: none falls back to the default queue unnoticed, none to "celery".
    assert task_name in settings.CELERY_TASK_ROUTES, f"{task_name} has no route"
    assert _queue_of(task_name) in QUEUES


def test_no_route_names_a_task_that_does_not_exist():
    assert set(settings.CELERY_TASK_ROUTES) <= set(_our_tasks())


def test_an_unrouted_task_would_not_land_on_celerys_own_queue():
    assert _queue_of("not.a.routed.task") == "default"


@pytest.fixture
def _frozen():
    with time_machine.travel(SOME_DAY, tick=True):
        yield


def _queues(published, task: str) -> list[str]:
    return [p.queue for p in published if p.task == task]


@pytest.mark.usefixtures("_frozen")
def test_an_emergency_alerts_push_is_published_on_urgent(world, django_capture_on_commit_callbacks):
    # given the team has phones
    for user in (world.physio, world.nurse):
        PushDevice.objects.create(user=user, platform="android", token=f"phone-{user.pk}")

    # when an emergency alert and a routine one are raised
    with published_tasks() as published, django_capture_on_commit_callbacks(execute=True):
        alerts_raise(
            [
                finding(world.patient, key="a", urgency="emergency", audience=Audience.TEAM),
                finding(world.patient, key="b", rule_id="SYM-3", urgency="routine"),
            ]
        )

    # then each of the emergency's deliveries is a task of its own on "urgent"
    emergency = NotificationDelivery.objects.filter(
        notification__subject_id__in=_alert_ids("emergency")
    )
    routine = NotificationDelivery.objects.filter(
        notification__subject_id__in=_alert_ids("routine")
    )
    by_delivery = {p.args[0]: p.queue for p in published if p.task == "alerts.deliver_notification"}
    assert {d.channel for d in emergency} >= {"push"}
    assert {by_delivery[d.pk] for d in emergency} == {"urgent"}
    # and the routine alert's on "default"
    assert {by_delivery[d.pk] for d in routine} == {"default"}


def _alert_ids(urgency: str) -> list[int]:
    from backend.alerts.models import Alert

    return list(Alert.objects.filter(urgency=urgency).values_list("pk", flat=True))


@pytest.mark.usefixtures("_frozen")
def test_an_escalation_is_published_on_urgent(world, django_capture_on_commit_callbacks):
    (alert,) = alerts_raise([finding(world.patient, key="a", urgency="routine")])
    message = Message(NotificationKind.ALERT_ESCALATED, "t", "b", "alert", alert.pk, "esc")

    with published_tasks() as published, django_capture_on_commit_callbacks(execute=True):
        notifications_send_many([Outgoing(world.nurse, None, message, patient_id=alert.patient_id)])

    escalated = NotificationDelivery.objects.filter(notification__kind="alert_escalated")
    assert len(escalated) == 2  # push and e-mail
    assert _queues(published, "alerts.deliver_notification") == ["urgent"] * 2


@pytest.mark.usefixtures("_frozen")
def test_the_weekly_advice_to_many_is_published_on_bulk(db, django_capture_on_commit_callbacks):
    patients = PatientProfileFactory.create_batch(25)
    outgoing = _advice(patients)

    with published_tasks() as published, django_capture_on_commit_callbacks(execute=True):
        notifications_send_many(outgoing)

    assert _queues(published, "alerts.deliver_notifications") == ["bulk"]
    assert _queues(published, "alerts.deliver_notification") == []
    (bulk,) = [p for p in published if p.task == "alerts.deliver_notifications"]
    assert len(bulk.args[0]) == 25


@pytest.mark.usefixtures("_frozen")
def test_an_urgent_alert_inside_a_bulk_does_not_wait_behind_it(
    world, django_capture_on_commit_callbacks
):
    patients = PatientProfileFactory.create_batch(25)
    advice = _advice(patients)

    with published_tasks() as published, django_capture_on_commit_callbacks(execute=True):
        alerts_raise([finding(world.patient, key="a", rule_id="A-2", urgency="urgent")])
        notifications_send_many(advice)

    alert_deliveries = NotificationDelivery.objects.filter(notification__kind="alert").count()
    assert alert_deliveries >= 2  # the physiotherapist's push and e-mail
    assert _queues(published, "alerts.deliver_notification") == ["urgent"] * alert_deliveries
    assert _queues(published, "alerts.deliver_notifications") == ["bulk"]


def _advice(patients: list) -> list[Outgoing]:
    kind = NotificationKind.ADHERENCE_ADVICE
    return [
        Outgoing(p.user, p, Message(kind, "Your week", "b", "week", p.pk, f"A-1:{p.pk}"))
        for p in patients
    ]


def test_the_visibility_timeout_outlasts_twice_the_longest_task():
    """Else Redis hands a task that is still running to a second worker."""
    longest = max(
        app.tasks[name].time_limit or settings.CELERY_TASK_TIME_LIMIT for name in _our_tasks()
    )
    visibility_timeout = settings.BROKER_VISIBILITY_TIMEOUT
    assert visibility_timeout >= 2 * longest
