"""Issue "[2/5] Trust, second round": each finding pinned by a test named after it."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from backend.accounts.models import CaregiverLink, CareTeamMembership, PushDevice
from backend.alerts.models import DeliveryStatus, Notification, NotificationDelivery
from backend.alerts.services.delivery import (
    deliveries_send,
    delivery_send,
    entitled_deliveries,
)
from backend.audit.models import AccessEvent, Action, Resource
from backend.exercise.models import SessionLog
from tests.builders import done_as_prescribed, session_logged
from tests.exercise.conftest import session_body

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/sessions/"


def deactivate(client_for, by, user):
    response = client_for(by).post(f"/api/v1/users/{user.pk}/deactivate/", format="json")
    assert response.status_code == 200, response.json()


def red_flag(client_for, world, programme):
    body = session_body(programme, symptoms=["chest_pain"])
    response = client_for(world.patient.user).post(SESSIONS, body, format="json")
    assert response.status_code == 201, response.json()


# --- Finding 1: deactivation does not stop notifications ------------------------------------


def test_finding_1_deactivation_ends_devices_seats_and_links_with_a_date(
    world, programme, client_for
):
    # given a caregiver and a physiotherapist with phones
    PushDevice.objects.create(user=world.caregiver, platform="ios", token="cg-1")
    PushDevice.objects.create(user=world.nurse, platform="ios", token="nurse-1")

    # when both are deactivated
    deactivate(client_for, world.physio, world.caregiver)
    deactivate(client_for, world.org_admin, world.nurse)

    # then they are off every recipient list, and the history keeps who was there until when
    assert not PushDevice.objects.filter(user__in=[world.caregiver, world.nurse]).exists()
    seat = CareTeamMembership.history.get(member=world.nurse)
    link = CaregiverLink.history.get(caregiver=world.caregiver)
    assert seat.ended_at is not None
    assert link.ended_at is not None
    assert not CareTeamMembership.objects.filter(member=world.nurse).exists()
    assert not CaregiverLink.objects.filter(caregiver=world.caregiver).exists()


def test_finding_1_a_deactivated_clinician_and_caregiver_receive_nothing_about_the_patient(
    world, programme, client_for, recorded_pushes
):
    # given
    deactivate(client_for, world.org_admin, world.nurse)
    deactivate(client_for, world.physio, world.caregiver)
    earlier = set(Notification.objects.values_list("pk", flat=True))

    # when the patient reports an emergency (the team is told, the programme pauses and the
    # patient side is told of the pause)
    red_flag(client_for, world, programme)

    # then the physiotherapist and the patient are told; the nurse and the caregiver are not
    recipients = set(
        Notification.objects.exclude(pk__in=earlier).values_list("recipient_id", flat=True)
    )
    assert world.patient.user.pk in recipients
    assert world.physio.pk in recipients
    assert world.nurse.pk not in recipients
    assert world.caregiver.pk not in recipients


def test_finding_1_a_notification_queued_before_deactivation_is_not_delivered_after(
    world, programme, client_for, recorded_pushes, settings
):
    # given an emergency whose push and e-mail to the nurse are queued, not yet sent
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    world.nurse.email = "nurse@example.org"
    world.nurse.save(update_fields=["email"])
    red_flag(client_for, world, programme)
    queued = list(NotificationDelivery.objects.filter(notification__recipient=world.nurse))
    assert {d.channel for d in queued} == {"push", "email"}

    # when the nurse is deactivated before the worker gets to them
    deactivate(client_for, world.org_admin, world.nurse)
    for delivery in queued:
        delivery_send(delivery_id=delivery.pk)

    # then nothing reaches the nurse
    assert [m for m in mail.outbox if "nurse@example.org" in m.to] == []
    statuses = set(
        NotificationDelivery.objects.filter(pk__in=[d.pk for d in queued]).values_list(
            "status", flat=True
        )
    )
    assert statuses == {DeliveryStatus.SKIPPED}


def test_finding_1_a_clinician_removed_from_the_team_is_not_sent_what_was_queued(
    world, programme, client_for, recorded_pushes
):
    # given a push to the nurse queued for an emergency
    PushDevice.objects.create(user=world.nurse, platform="android", token="nurse-2")
    red_flag(client_for, world, programme)
    push = NotificationDelivery.objects.get(notification__recipient=world.nurse, channel="push")

    # when the nurse leaves the care team (the seat ends), then the worker runs
    seat = CareTeamMembership.objects.get(member=world.nurse, patient=world.patient)
    response = client_for(world.physio).delete(
        f"/api/v1/patients/{world.patient.pk}/care-team/{seat.pk}/"
    )
    assert response.status_code == 204
    status = delivery_send(delivery_id=push.pk)

    # then
    assert status == DeliveryStatus.SKIPPED
    assert [p for p in recorded_pushes if p["token"] == "nurse-2"] == []
    assert CareTeamMembership.history.get(pk=seat.pk).ended_at is not None


# --- Finding 5: the patient side can rewrite a supervised log ------------------------------


@pytest.fixture
def supervised(world, programme) -> SessionLog:
    recorded = session_logged(
        programme,
        started_at=timezone.now() - timedelta(hours=2),
        by=world.physio,
        **done_as_prescribed(programme),
    )
    assert recorded.session.supervised
    return recorded.session


@pytest.mark.parametrize("who", ["patient", "caregiver"])
def test_finding_5_the_patient_side_cannot_rewrite_or_delete_a_supervised_log(
    who, world, supervised, client_for
):
    user = world.patient.user if who == "patient" else world.caregiver
    client = client_for(user)

    patched = client.patch(f"{SESSIONS}{supervised.pk}/", {"note": "rewritten"}, format="json")
    deleted = client.delete(f"{SESSIONS}{supervised.pk}/")

    assert (patched.status_code, deleted.status_code) == (403, 403)
    supervised.refresh_from_db()
    assert (supervised.note, supervised.deleted_at) == ("", None)


@pytest.mark.parametrize("who", ["physio", "nurse"])
def test_finding_5_the_recorder_or_another_clinician_of_the_team_may_correct_it(
    who, world, supervised, client_for
):
    response = client_for(getattr(world, who)).patch(
        f"{SESSIONS}{supervised.pk}/", {"note": "form checked"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["note"] == "form checked"


def test_finding_5_a_clinician_of_another_team_still_cannot_see_it(world, supervised, client_for):
    response = client_for(world.other_team_physio).patch(
        f"{SESSIONS}{supervised.pk}/", {"note": "x"}, format="json"
    )

    assert response.status_code == 404


# --- Finding 9: reads missing from the audit trail ----------------------------------------


def reads(resource: str, actor) -> list[AccessEvent]:
    return list(AccessEvent.objects.filter(actor=actor, action=Action.READ, resource_type=resource))


def test_finding_9_a_clinicians_inbox_read_is_recorded_with_the_patient(
    world, programme, client_for
):
    red_flag(client_for, world, programme)

    response = client_for(world.physio).get("/api/v1/notifications/")

    assert response.status_code == 200
    (event,) = reads(Resource.NOTIFICATION, world.physio)
    assert event.patient_id == world.patient.pk


def test_finding_9_a_duplicate_session_answer_is_recorded_as_a_read(world, programme, client_for):
    caregiver = client_for(world.caregiver)
    body = session_body(programme, patient=world.patient.pk)
    assert caregiver.post(SESSIONS, body, format="json").status_code == 201

    again = caregiver.post(SESSIONS, body, format="json")
    synced = caregiver.post(f"{SESSIONS}sync/", {"logs": [body]}, format="json")

    assert (again.status_code, synced.json()["duplicates"]) == (200, 1)
    events = reads(Resource.SESSION, world.caregiver)
    assert [e.resource_id for e in events] == [again.json()["id"]] * 2
    assert {e.patient_id for e in events} == {world.patient.pk}


def test_finding_9_an_idempotent_replay_is_recorded_as_a_read(world, client_for):
    physio = client_for(world.physio)
    body = {
        "patient": world.patient.pk,
        "measure": "CMAS",
        "value": "40",
        "setting": "clinic",
        "measured_at": (timezone.now() - timedelta(hours=1)).isoformat(),
    }
    key = str(uuid.uuid4())
    first = physio.post("/api/v1/assessments/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = physio.post("/api/v1/assessments/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    (event,) = reads(Resource.REPLAYED_ANSWER, world.physio)
    assert event.patient_id == world.patient.pk


def test_finding_1_a_bulk_task_rechecks_every_recipient_in_one_query(
    world, programme, client_for, recorded_pushes, django_assert_max_num_queries
):
    # given an emergency queued to physio and nurse (push and e-mail each), not yet sent
    for user, token in ((world.physio, "physio-3"), (world.nurse, "nurse-3")):
        PushDevice.objects.create(user=user, platform="android", token=token)
    red_flag(client_for, world, programme)
    queued = list(
        NotificationDelivery.objects.filter(notification__kind="alert").values_list("pk", flat=True)
    )

    # when the nurse is deactivated, then one bulk task sends them all
    deactivate(client_for, world.org_admin, world.nurse)
    with django_assert_max_num_queries(1):
        allowed = entitled_deliveries(queued)
    deliveries_send(delivery_ids=queued)

    # then the physio's are sent, the nurse's skipped
    nurse = set(
        NotificationDelivery.objects.filter(notification__recipient=world.nurse).values_list(
            "pk", flat=True
        )
    )
    assert nurse
    assert not (nurse & allowed)
    assert set(queued) - nurse <= allowed
    assert {p["token"] for p in recorded_pushes} == {"physio-3"}
    skipped = NotificationDelivery.objects.filter(pk__in=nurse).values_list("status", flat=True)
    assert set(skipped) == {DeliveryStatus.SKIPPED}
