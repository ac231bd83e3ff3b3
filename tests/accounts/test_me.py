from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


def test_a_patient_sees_their_profile_and_care_team(world, client_for):
    client = client_for(world.patient.user)

    with CaptureQueriesContext(connection) as queries:
        body = client.get("/api/v1/me/").json()

    assert body["role"] == "patient"
    assert body["organisation"]["id"] == world.org.pk
    assert body["patient"]["id"] == world.patient.pk
    assert body["patient"]["timezone"] == "Europe/London"
    assert {seat["member"]["id"] for seat in body["patient"]["care_team"]} == {
        world.physio.pk,
        world.nurse.pk,
    }
    assert body["acts_for"] == []
    # auth user; user + organisation + profile; care team; patient's caregivers; acts for
    assert len(queries) == 5, [q["sql"][:90] for q in queries.captured_queries]


def test_a_clinician_has_no_patient_profile(world, client_for):
    body = client_for(world.physio).get("/api/v1/me/").json()

    assert body["role"] == "physiotherapist"
    assert body["patient"] is None


def test_a_care_team_member_shows_no_private_details_of_colleagues(world, client_for):
    body = client_for(world.patient.user).get("/api/v1/me/").json()

    seat = body["patient"]["care_team"][0]["member"]
    assert set(seat) == {"id", "name", "role"}
