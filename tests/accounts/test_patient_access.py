"""The access rule: a patient's record is reachable only by the patient, their caregivers and
their care team in their organisation; everyone else gets 404 (never a hint that it exists)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import CareTeamMembershipFactory, PatientProfileFactory

pytestmark = pytest.mark.django_db

SEES_PATIENT = ["patient", "caregiver", "physio", "nurse"]
DOES_NOT = [
    "other_patient_user",
    "other_caregiver",
    "other_team_physio",
    "other_org_physio",
    "org_admin",
]


def _user(world, name):
    return {
        "patient": world.patient.user,
        "caregiver": world.caregiver,
        "physio": world.physio,
        "nurse": world.nurse,
        "other_patient_user": world.other_patient.user,
        "other_caregiver": world.other_caregiver,
        "other_team_physio": world.other_team_physio,
        "other_org_physio": world.other_org_physio,
        "org_admin": world.org_admin,
    }[name]


@pytest.mark.parametrize("viewer", SEES_PATIENT)
def test_those_entitled_see_the_patient(world, client_for, viewer):
    client = client_for(_user(world, viewer))

    detail = client.get(f"/api/v1/patients/{world.patient.pk}/")
    team = client.get(f"/api/v1/patients/{world.patient.pk}/care-team/")
    listed = client.get("/api/v1/patients/")

    assert detail.status_code == 200
    assert detail.json()["id"] == world.patient.pk
    assert team.status_code == 200
    assert world.patient.pk in [row["id"] for row in listed.json()["results"]]


@pytest.mark.parametrize("viewer", DOES_NOT)
@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("patch", "", {"reminder_time": "18:00"}),
        ("get", "care-team/", None),
        ("post", "care-team/", {"member_id": 1}),
        ("post", "activation-code/", None),
        ("post", "caregivers/", {"first_name": "A", "last_name": "B"}),
    ],
)
def test_everyone_else_gets_404_on_every_patient_endpoint(
    world, client_for, viewer, method, suffix, body
):
    client = client_for(_user(world, viewer))

    response = getattr(client, method)(
        f"/api/v1/patients/{world.patient.pk}/{suffix}", body, format="json"
    )

    assert response.status_code == 404
    assert world.patient.user.last_name not in response.content.decode()


@pytest.mark.parametrize("viewer", DOES_NOT)
def test_the_list_never_includes_someone_elses_patient(world, client_for, viewer):
    listed = client_for(_user(world, viewer)).get("/api/v1/patients/").json()["results"]

    assert world.patient.pk not in [row["id"] for row in listed]


def test_a_patient_lists_only_themselves(world, client_for):
    listed = client_for(world.patient.user).get("/api/v1/patients/").json()

    assert [row["id"] for row in listed["results"]] == [world.patient.pk]


def test_a_clinician_in_another_organisation_is_not_let_in_by_a_stray_care_team_seat(
    world, client_for
):
    """A membership that crosses organisations (bad data) must still not open the record."""
    CareTeamMembershipFactory.create(patient=world.patient, member=world.other_org_physio)

    response = client_for(world.other_org_physio).get(f"/api/v1/patients/{world.patient.pk}/")

    assert response.status_code == 404


def test_anonymous_gets_401(api_client, world):
    for url in ("/api/v1/patients/", f"/api/v1/patients/{world.patient.pk}/", "/api/v1/me/"):
        response = api_client.get(url)
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"


def test_a_patient_may_change_their_reminders_but_not_their_diagnosis(world, client_for):
    client = client_for(world.patient.user)
    url = f"/api/v1/patients/{world.patient.pk}/"

    prefs = client.patch(url, {"reminder_time": "18:15", "training_weekdays": [2, 4]})
    clinical = client.patch(url, {"diagnosis": "nothing"})

    assert prefs.status_code == 200
    assert prefs.json()["reminder_time"] == "18:15:00"
    assert prefs.json()["training_weekdays"] == [2, 4]
    assert clinical.status_code == 403
    assert "diagnosis" in clinical.json()["errors"]
    world.patient.refresh_from_db()
    assert world.patient.diagnosis == "Juvenile dermatomyositis"


def test_the_care_team_may_change_clinical_details(world, client_for):
    response = client_for(world.physio).patch(
        f"/api/v1/patients/{world.patient.pk}/", {"diagnosis": "JDM, calcinosis right knee"}
    )

    assert response.status_code == 200
    assert response.json()["diagnosis"] == "JDM, calcinosis right knee"


def test_a_caregiver_is_refused_clinician_actions_with_403(world, client_for):
    response = client_for(world.caregiver).post(
        f"/api/v1/patients/{world.patient.pk}/activation-code/"
    )

    assert response.status_code == 403


@pytest.mark.parametrize("count", [1, 20])
def test_the_patient_list_runs_a_fixed_number_of_queries(world, client_for, count):
    for _ in range(count - 1):
        patient = PatientProfileFactory.create(user__organisation=world.org)
        CareTeamMembershipFactory.create(patient=patient, member=world.physio)
        CareTeamMembershipFactory.create(patient=patient, role="nurse", member=world.nurse)
    client = client_for(world.physio)

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/patients/")

    assert response.json()["count"] == count
    # auth user, count, page, care teams, caregivers; programmes, last session, this week's,
    # open alert counts; one INSERT of the page's audit events
    assert len(queries) == 10, [query["sql"] for query in queries.captured_queries]


def test_a_client_cannot_ask_for_pages_over_200(world, client_for):
    for patient in PatientProfileFactory.create_batch(200, user__organisation=world.org):
        CareTeamMembershipFactory.create(patient=patient, member=world.physio)

    response = client_for(world.physio).get("/api/v1/patients/?page_size=10000")

    body = response.json()
    assert body["count"] == 201
    assert len(body["results"]) == 200
    assert body["next"]


def test_the_patient_list_filters_by_name(world, client_for):
    other = PatientProfileFactory.create(user__organisation=world.org, user__last_name="Zyx")
    CareTeamMembershipFactory.create(patient=other, member=world.physio)

    found = client_for(world.physio).get("/api/v1/patients/?q=zyx").json()["results"]

    assert [row["id"] for row in found] == [other.pk]
