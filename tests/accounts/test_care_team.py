from __future__ import annotations

import pytest

from backend.accounts.models import CareTeamMembership, Role, User
from tests.factories import ClinicianFactory

pytestmark = pytest.mark.django_db


def _team_url(world):
    return f"/api/v1/patients/{world.patient.pk}/care-team/"


def test_a_clinician_adds_a_colleague_once(world, client_for):
    physician = ClinicianFactory.create(organisation=world.org, role=Role.PHYSICIAN)
    client = client_for(world.physio)

    first = client.post(_team_url(world), {"member_id": physician.pk}, format="json")
    again = client.post(_team_url(world), {"member_id": physician.pk}, format="json")

    assert first.status_code == 201
    assert first.json()["role"] == "physician"
    assert again.json()["id"] == first.json()["id"]
    assert CareTeamMembership.objects.filter(patient=world.patient, member=physician).count() == 1
    # The colleague now reaches the patient.
    assert client_for(physician).get(f"/api/v1/patients/{world.patient.pk}/").status_code == 200


def test_a_clinician_of_another_organisation_cannot_be_added(world, client_for):
    response = client_for(world.physio).post(
        _team_url(world), {"member_id": world.other_org_physio.pk}, format="json"
    )

    assert response.status_code == 400
    assert "member_id" in response.json()["errors"]


def test_a_patient_cannot_be_added_to_a_care_team(world, client_for):
    response = client_for(world.physio).post(
        _team_url(world), {"member_id": world.other_patient.user.pk}, format="json"
    )

    assert response.status_code == 400


def test_an_unknown_member_is_400_not_500(world, client_for):
    response = client_for(world.physio).post(
        _team_url(world), {"member_id": 999_999}, format="json"
    )

    assert response.status_code == 400


def test_removing_a_member_ends_their_access(world, client_for):
    seat = CareTeamMembership.objects.get(patient=world.patient, member=world.nurse)

    response = client_for(world.physio).delete(f"{_team_url(world)}{seat.pk}/")

    assert response.status_code == 204
    assert client_for(world.nurse).get(f"/api/v1/patients/{world.patient.pk}/").status_code == 404


def test_the_last_physiotherapist_stays(world, client_for):
    seat = CareTeamMembership.objects.get(patient=world.patient, member=world.physio)

    response = client_for(world.nurse).delete(f"{_team_url(world)}{seat.pk}/")

    assert response.status_code == 409
    assert CareTeamMembership.objects.filter(pk=seat.pk).exists()


def test_a_membership_of_another_patient_is_404(world, client_for):
    foreign_seat = CareTeamMembership.objects.filter(patient=world.other_patient).get()

    response = client_for(world.physio).delete(f"{_team_url(world)}{foreign_seat.pk}/")

    assert response.status_code == 404
    assert CareTeamMembership.objects.filter(pk=foreign_seat.pk).exists()


def test_a_caregiver_invited_by_the_care_team_activates_and_sees_only_that_patient(
    world, api_client, client_for
):
    invite = client_for(world.physio).post(
        f"/api/v1/patients/{world.patient.pk}/caregivers/",
        {"first_name": "Rosa", "last_name": "Quinn", "relationship": "guardian"},
        format="json",
    )
    assert invite.status_code == 201, invite.json()

    activated = api_client.post(
        "/api/v1/auth/activate/",
        {"code": invite.json()["activation"]["code"], "password": "guardian-of-ada-42"},
        format="json",
    )
    assert activated.status_code == 200
    guardian = User.objects.get(username=activated.json()["username"])
    client = client_for(guardian)

    listed = client.get("/api/v1/patients/").json()["results"]
    me = client.get("/api/v1/me/").json()

    assert [row["id"] for row in listed] == [world.patient.pk]
    assert me["role"] == "caregiver"
    assert me["acts_for"] == [
        {
            "id": world.patient.pk,
            "name": world.patient.user.display_name,
            "relationship": "guardian",
        }
    ]
