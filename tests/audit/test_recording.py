"""What the audit trail records (issue 6, "Audit trail"): every read of a patient's record by
someone other than the patient, and every write by anyone, with who, on whose behalf, what,
when, the request id and the client address."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.audit.models import AccessEvent
from tests.audit.conftest import events, log_session, raise_alert, triples
from tests.exercise.conftest import session_body

pytestmark = pytest.mark.django_db

REQUEST_ID = "audit-test-request-0001"


# --- Reads ----------------------------------------------------------------------------------


def test_a_clinician_reading_a_patient_is_recorded_with_who_whom_ip_and_request_id(
    world, client_for
):
    # When the physiotherapist opens the patient's profile
    response = client_for(world.physio).get(
        f"/api/v1/patients/{world.patient.pk}/", HTTP_X_REQUEST_ID=REQUEST_ID
    )

    # Then one event says who read whose record, from where, in which request
    assert response.status_code == 200
    (event,) = events()
    assert event.actor_id == world.physio.pk
    assert event.actor_role == "physiotherapist"
    assert event.patient_id == world.patient.pk
    assert event.organisation_id == world.org.pk
    assert (event.action, event.resource_type, event.resource_id) == (
        "read",
        "patient",
        world.patient.pk,
    )
    assert event.request_id == REQUEST_ID == response["X-Request-ID"]
    assert event.ip == "127.0.0.1"
    assert abs(event.occurred_at - timezone.now()) < timedelta(seconds=30)


def test_a_caregiver_reading_for_the_patient_is_recorded_on_the_patients_behalf(world, client_for):
    response = client_for(world.caregiver).get(f"/api/v1/patients/{world.patient.pk}/summary/")

    assert response.status_code == 200
    (event,) = events()
    assert (event.actor_id, event.actor_role) == (world.caregiver.pk, "caregiver")
    assert event.patient_id == world.patient.pk
    assert (event.action, event.resource_type) == ("read", "patient_summary")


def test_a_patient_reading_their_own_record_is_not_an_access(world, client_for, programme):
    log_session(programme)
    client = client_for(world.patient.user)

    for path in (
        f"/api/v1/patients/{world.patient.pk}/",
        f"/api/v1/patients/{world.patient.pk}/summary/",
        f"/api/v1/patients/{world.patient.pk}/assessments/trend/",
        "/api/v1/sessions/",
        "/api/v1/programmes/",
        "/api/v1/programmes/current/",
        "/api/v1/assessments/",
        "/api/v1/patients/",
    ):
        assert client.get(path).status_code == 200, path

    assert events() == []


def test_a_list_records_one_event_per_row_on_the_page(world, client_for, programme):
    # Given three logs of the patient
    logged = [log_session(programme, hours_ago=h).session for h in (1, 2, 3)]

    # When the nurse lists a page of two
    response = client_for(world.nurse).get("/api/v1/sessions/", {"page_size": 2})

    # Then exactly the two logs shown are recorded, as the nurse's reads of the patient
    shown = [row["id"] for row in response.json()["results"]]
    assert len(shown) == 2
    assert sorted(triples(actor=world.nurse)) == sorted(("read", "session", pk) for pk in shown)
    assert {e.patient_id for e in events()} == {world.patient.pk}
    assert set(shown) < {s.pk for s in logged}


def test_the_clinician_patient_list_records_each_patient_on_the_page(world, client_for):
    client_for(world.physio).get("/api/v1/patients/")

    assert triples() == [("read", "patient", world.patient.pk)]
    assert events()[0].patient_id == world.patient.pk


@pytest.mark.parametrize(
    ("path", "resource"),
    [
        ("/api/v1/patients/{patient}/assessments/trend/", "assessment_trend"),
        ("/api/v1/patients/{patient}/care-team/", "care_team_membership"),
        ("/api/v1/programmes/", "programme"),
        ("/api/v1/programmes/{programme}/", "programme"),
        ("/api/v1/programmes/{programme}/versions/", "programme_version"),
        ("/api/v1/programmes/current/?patient={patient}", "programme"),
        ("/api/v1/sessions/{session}/", "session"),
        ("/api/v1/alerts/", "alert"),
    ],
)
def test_every_clinician_read_of_patient_data_is_recorded(
    world, client_for, programme, path, resource
):
    session = log_session(programme).session
    raise_alert(world.patient)
    url = path.format(patient=world.patient.pk, programme=programme.pk, session=session.pk)

    response = client_for(world.physio).get(url)

    assert response.status_code == 200, response.content[:300]
    recorded = events()
    assert recorded, f"{url} recorded nothing"
    assert {(e.action, e.resource_type, e.patient_id) for e in recorded} == {
        ("read", resource, world.patient.pk)
    }


def test_a_refused_read_records_nothing(world, client_for):
    response = client_for(world.other_team_physio).get(f"/api/v1/patients/{world.patient.pk}/")

    assert response.status_code == 404
    assert events() == []


# --- Writes ---------------------------------------------------------------------------------


def test_a_patient_logging_a_session_is_recorded(world, client_for, programme):
    body = session_body(programme)
    client = client_for(world.patient.user)

    first = client.post("/api/v1/sessions/", body, format="json", HTTP_X_REQUEST_ID=REQUEST_ID)
    retry = client.post("/api/v1/sessions/", body, format="json")

    # The retry changes nothing, so only the first upload is a write
    assert (first.status_code, retry.status_code) == (201, 200)
    (event,) = events()
    assert (event.actor_id, event.actor_role) == (world.patient.user.pk, "patient")
    assert (event.action, event.resource_type, event.resource_id) == (
        "create",
        "session",
        first.json()["id"],
    )
    assert event.patient_id == world.patient.pk
    assert (event.request_id, event.ip) == (REQUEST_ID, "127.0.0.1")


def test_a_sync_batch_records_each_created_log_in_one_insert(world, client_for, programme):
    logs = [session_body(programme) for _ in range(3)]
    logs.append({"client_id": "not-a-uuid"})
    client = client_for(world.patient.user)

    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/sessions/sync/", {"logs": logs}, format="json")

    assert response.json()["created"] == 3
    audit_inserts = [q for q in queries.captured_queries if 'INSERT INTO "audit_' in q["sql"]]
    assert len(audit_inserts) == 1
    created = [r["session"]["id"] for r in response.json()["results"] if r["status"] == "created"]
    assert triples() == [("create", "session", pk) for pk in created]


def test_edit_and_delete_of_a_log_are_recorded(world, client_for, programme):
    session = log_session(programme).session
    client = client_for(world.patient.user)

    client.patch(f"/api/v1/sessions/{session.pk}/", {"note": "Edited"}, format="json")
    client.delete(f"/api/v1/sessions/{session.pk}/")

    assert triples() == [("update", "session", session.pk), ("delete", "session", session.pk)]


def test_programme_changes_are_recorded(world, client_for, programme):
    client = client_for(world.physio)

    client.post(f"/api/v1/programmes/{programme.pk}/pause/", {"reason": "flare"}, format="json")
    client.post(f"/api/v1/programmes/{programme.pk}/activate/")

    assert triples() == [
        ("pause", "programme", programme.pk),
        ("activate", "programme", programme.pk),
    ]
    assert {e.patient_id for e in events()} == {world.patient.pk}


def test_an_assessment_by_a_clinician_is_recorded(world, client_for):
    response = client_for(world.physio).post(
        "/api/v1/assessments/",
        {
            "patient": world.patient.pk,
            "measure": "GRIP",
            "value": "12.5",
            "setting": "clinic",
            "measured_at": timezone.now().isoformat(),
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert triples() == [("create", "assessment", response.json()["id"])]


def test_acknowledging_and_resolving_an_alert_are_recorded(world, client_for):
    alert = raise_alert(world.patient)
    client = client_for(world.nurse)

    client.post(f"/api/v1/alerts/{alert.pk}/acknowledge/")
    client.post(f"/api/v1/alerts/{alert.pk}/resolve/", {"note": "Called."}, format="json")

    assert triples(actor=world.nurse) == [
        ("acknowledge", "alert", alert.pk),
        ("resolve", "alert", alert.pk),
    ]


def test_enrolment_and_care_team_changes_are_recorded(world, client_for):
    client = client_for(world.physio)

    enrolled = client.post(
        "/api/v1/patients/",
        {
            "first_name": "Ada",
            "last_name": "Quill",
            "date_of_birth": "2014-02-03",
            "timezone": "Europe/London",
        },
        format="json",
    ).json()["patient"]
    seat = client.post(
        f"/api/v1/patients/{enrolled['id']}/care-team/",
        {"member_id": world.nurse.pk},
        format="json",
    ).json()
    removed = client.delete(f"/api/v1/patients/{enrolled['id']}/care-team/{seat['id']}/")

    assert removed.status_code == 204
    assert triples() == [
        ("create", "patient", enrolled["id"]),
        ("create", "care_team_membership", seat["id"]),
        ("delete", "care_team_membership", seat["id"]),
    ]
    assert {e.patient_id for e in events()} == {enrolled["id"]}


def test_a_refused_removal_records_nothing(world, client_for):
    seat = world.patient.care_team.get(member=world.physio)

    response = client_for(world.physio).delete(
        f"/api/v1/patients/{world.patient.pk}/care-team/{seat.pk}/"
    )

    assert response.status_code == 409  # the last physiotherapist stays
    assert events() == []


def test_device_registration_and_removal_are_recorded(world, client_for):
    client = client_for(world.patient.user)

    device = client.post(
        "/api/v1/devices/", {"platform": "ios", "token": "tok-123"}, format="json"
    ).json()
    client.delete(f"/api/v1/devices/{device['id']}/")

    assert triples(actor=world.patient.user) == [
        ("create", "device", device["id"]),
        ("delete", "device", device["id"]),
    ]


# --- The client address ---------------------------------------------------------------------


def test_behind_a_trusted_proxy_the_forwarded_address_is_recorded(world, client_for, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}

    client_for(world.physio).get(
        f"/api/v1/patients/{world.patient.pk}/", HTTP_X_FORWARDED_FOR="203.0.113.9"
    )

    assert events()[0].ip == "203.0.113.9"


def test_without_a_trusted_proxy_a_forged_forwarded_address_is_ignored(world, client_for):
    client_for(world.physio).get(
        f"/api/v1/patients/{world.patient.pk}/", HTTP_X_FORWARDED_FOR="203.0.113.9"
    )

    assert events()[0].ip == "127.0.0.1"


def test_a_forwarded_value_that_is_not_an_address_is_stored_as_unknown(world, client_for, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}

    response = client_for(world.physio).get(
        f"/api/v1/patients/{world.patient.pk}/", HTTP_X_FORWARDED_FOR="'; DROP TABLE x; --"
    )

    assert response.status_code == 200
    assert AccessEvent.objects.get().ip is None


# --- A write and its event commit together --------------------------------------------------


@pytest.mark.parametrize("with_key", [False, True], ids=["no-key", "idempotency-key"])
def test_a_write_whose_event_cannot_be_recorded_is_not_kept(
    world, programme, client_for, monkeypatch, with_key
):
    from backend.exercise.models import Assessment, SessionLog

    def broken(*args, **kwargs):
        raise RuntimeError("the audit table is unavailable")

    monkeypatch.setattr(AccessEvent.objects, "bulk_create", broken)
    patient = client_for(world.patient.user)
    patient.raise_request_exception = False
    headers = {"HTTP_IDEMPOTENCY_KEY": "0f2c1c9e-audit-atomic"} if with_key else {}

    logged = patient.post("/api/v1/sessions/", session_body(programme), format="json")
    assessed = patient.post(
        "/api/v1/assessments/",
        {"measure": "PAIN", "value": "3", "setting": "home", "measured_at": _hour_ago()},
        format="json",
        **headers,
    )

    assert (logged.status_code, assessed.status_code) == (500, 500)
    assert not SessionLog.objects.exists()
    assert not Assessment.objects.exists()


def _hour_ago() -> str:
    return (timezone.now() - timedelta(hours=1)).isoformat()
