"""GET /api/v1/me/access-log/: a patient (and their caregiver) sees who else read or changed
the patient's record, when and what; never other patients' entries nor internal details."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.audit.models import AccessEvent
from tests.builders import session_reads

pytestmark = pytest.mark.django_db

LOG = "/api/v1/me/access-log/"


def test_the_patient_sees_that_their_physiotherapist_read_their_record(world, client_for):
    # Given the physiotherapist opened the patient's profile (and the patient their own)
    client_for(world.physio).get(f"/api/v1/patients/{world.patient.pk}/")
    client_for(world.patient.user).get(f"/api/v1/patients/{world.patient.pk}/")

    # When the patient opens their access log
    response = client_for(world.patient.user).get(LOG)

    # Then the physiotherapist's read is there with name and role, and nothing internal
    assert response.status_code == 200
    (entry,) = response.json()["results"]
    assert entry["actor_name"] == world.physio.display_name
    assert entry["actor_role"] == "physiotherapist"
    assert (entry["action"], entry["resource_type"], entry["resource_id"]) == (
        "read",
        "patient",
        world.patient.pk,
    )
    assert entry["patient"] == world.patient.pk
    assert set(entry) == {
        "occurred_at",
        "actor_name",
        "actor_role",
        "patient",
        "action",
        "resource_type",
        "resource_id",
    }


def test_the_patients_own_writes_are_not_in_their_access_log(world, client_for):
    client_for(world.patient.user).patch(
        f"/api/v1/patients/{world.patient.pk}/", {"reminder_time": "18:00"}, format="json"
    )

    assert AccessEvent.objects.count() == 1  # recorded in the audit trail
    assert client_for(world.patient.user).get(LOG).json()["results"] == []


def test_a_caregiver_sees_the_log_of_the_patient_they_act_for(world, client_for):
    client_for(world.nurse).get(f"/api/v1/patients/{world.patient.pk}/summary/")
    client_for(world.other_team_physio).get(f"/api/v1/patients/{world.other_patient.pk}/")
    client_for(world.caregiver).get(f"/api/v1/patients/{world.patient.pk}/")  # their own read

    body = client_for(world.caregiver).get(LOG).json()

    assert [(e["actor_name"], e["patient"]) for e in body["results"]] == [
        (world.nurse.display_name, world.patient.pk)
    ]


def test_the_patient_sees_their_caregivers_reads(world, client_for):
    client_for(world.caregiver).get(f"/api/v1/patients/{world.patient.pk}/")

    body = client_for(world.patient.user).get(LOG).json()

    assert [e["actor_role"] for e in body["results"]] == ["caregiver"]


def test_nobody_sees_another_patients_log(world, client_for):
    client_for(world.physio).get(f"/api/v1/patients/{world.patient.pk}/")

    for user in (world.other_patient.user, world.other_caregiver, world.foreign_patient.user):
        assert client_for(user).get(LOG).json()["results"] == []


@pytest.mark.parametrize("who", ["physio", "nurse", "org_admin"])
def test_staff_have_no_access_log(world, client_for, who):
    assert client_for(getattr(world, who)).get(LOG).status_code == 403


@pytest.mark.parametrize("n", [1, 50])
def test_the_access_log_runs_a_fixed_number_of_queries(world, client_for, n):
    session_reads(
        world.patient,
        [world.physio, world.nurse, world.caregiver],
        n,
        start=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
    )
    client = client_for(world.patient.user)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(LOG)

    assert response.json()["count"] == n
    # auth user; COUNT; the page joined to the actors
    assert len(queries) == 3, [q["sql"] for q in queries.captured_queries]
