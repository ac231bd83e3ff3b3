"""Organisation admin pages through Django's test client: organisation admins only, the
API's limits on deactivation and care teams, audit events and query counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from backend.accounts.models import CareTeamMembership, User
from backend.audit.models import AccessEvent
from tests.factories import (
    TEST_PASSWORD,
    CareTeamMembershipFactory,
    ClinicianFactory,
    PatientProfileFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _admin_client(client: Client, world: Any) -> Client:
    client.force_login(world.org_admin)
    return client


@pytest.mark.parametrize("who", ["physio", "nurse"])
def test_clinicians_get_a_403_page(client, world, who):
    client.force_login(getattr(world, who))

    for url in (
        "/console/organisation/",
        "/console/organisation/care-teams/",
        f"/console/organisation/care-teams/{world.patient.pk}/",
        f"/console/organisation/people/{world.patient.user_id}/deactivate/",
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "for your organisation's admins" in response.content.decode()
    response = client.post(f"/console/organisation/people/{world.patient.user_id}/deactivate/")
    assert response.status_code == 403
    world.patient.user.refresh_from_db()
    assert world.patient.user.is_active


def test_the_people_list_shows_the_organisation_only(client, world):
    page = _admin_client(client, world).get("/console/organisation/").content.decode()

    assert world.physio.display_name in page
    assert world.patient.user.display_name in page
    assert world.other_org_physio.display_name not in page
    assert world.foreign_patient.user.display_name not in page
    assert "Your own account" in page
    assert f"/console/organisation/people/{world.org_admin.pk}/deactivate/" not in page
    assert f"/console/organisation/people/{world.physio.pk}/deactivate/" in page


def test_the_people_list_filters_by_role(client, world):
    page = _admin_client(client, world).get("/console/organisation/?role=nurse").content.decode()

    assert world.nurse.display_name in page
    assert world.physio.display_name not in page


def test_an_admin_deactivates_a_person_after_confirming(client, world):
    admin = _admin_client(client, world)
    url = f"/console/organisation/people/{world.nurse.pk}/deactivate/"

    confirm = admin.get(url)
    assert confirm.status_code == 200
    assert "cannot sign in any more" in confirm.content.decode()
    world.nurse.refresh_from_db()
    assert world.nurse.is_active  # nothing happens before the POST

    done = admin.post(url, follow=True)

    assert done.redirect_chain[-1][0] == "/console/organisation/"
    assert f"{world.nurse.display_name} is deactivated" in done.content.decode()
    world.nurse.refresh_from_db()
    assert not world.nurse.is_active
    assert world.nurse.deactivated_at is not None
    assert not CareTeamMembership.objects.filter(member=world.nurse).exists()  # seats ended
    event = AccessEvent.objects.get(action="deactivate")
    assert (event.actor_id, event.resource_type, event.resource_id) == (
        world.org_admin.pk,
        "user",
        world.nurse.pk,
    )
    assert "Deactivated" in admin.get("/console/organisation/").content.decode()
    assert not Client().login(username=world.nurse.username, password=TEST_PASSWORD)


def test_a_deactivated_patient_event_names_the_patient(client, world):
    _admin_client(client, world).post(
        f"/console/organisation/people/{world.patient.user_id}/deactivate/"
    )

    event = AccessEvent.objects.get(action="deactivate")
    assert event.patient_id == world.patient.pk


@pytest.mark.parametrize("target", ["org_admin", "other_org_physio"])
def test_oneself_and_other_organisations_cannot_be_deactivated(client, world, target):
    person = getattr(world, target)
    admin = _admin_client(client, world)
    url = f"/console/organisation/people/{person.pk}/deactivate/"

    assert admin.get(url).status_code == 404
    assert admin.post(url).status_code == 404
    person.refresh_from_db()
    assert person.is_active


def test_platform_staff_are_not_listed_nor_deactivatable(client, world):
    staff = UserFactory.create(
        organisation=world.org, role="", is_superuser=True, username="platform"
    )
    admin = _admin_client(client, world)

    assert "platform" not in admin.get("/console/organisation/").content.decode()
    assert admin.post(f"/console/organisation/people/{staff.pk}/deactivate/").status_code == 404


def test_an_admin_adds_a_clinician_to_a_care_team(client, world):
    admin = _admin_client(client, world)
    physician = ClinicianFactory.create(organisation=world.org, role="physician")
    url = f"/console/organisation/care-teams/{world.patient.pk}/"
    page = admin.get(url).content.decode()
    assert physician.display_name in page
    assert world.other_org_physio.display_name not in page  # other clinics are not offered

    response = admin.post(url, {"member": physician.pk}, follow=True)

    assert response.status_code == 200
    seat = CareTeamMembership.objects.get(patient=world.patient, member=physician)
    assert seat.role == "physician"
    assert seat.added_by == world.org_admin
    assert AccessEvent.objects.filter(
        action="create", resource_type="care_team_membership", resource_id=seat.pk
    ).exists()
    assert "joined" in response.content.decode()


def test_a_clinician_of_another_organisation_is_refused_and_nothing_saved(client, world):
    admin = _admin_client(client, world)
    url = f"/console/organisation/care-teams/{world.patient.pk}/"

    response = admin.post(url, {"member": world.other_org_physio.pk})

    assert response.status_code == 400
    assert response.context["form"].errors["member"]
    assert (
        not CareTeamMembership.objects.filter(member=world.other_org_physio)
        .exclude(patient=world.foreign_patient)
        .exists()
    )


def test_an_admin_removes_a_member_but_the_last_physiotherapist_stays(client, world):
    admin = _admin_client(client, world)
    nurse_seat = CareTeamMembership.objects.get(patient=world.patient, member=world.nurse)
    physio_seat = CareTeamMembership.objects.get(patient=world.patient, member=world.physio)
    base = f"/console/organisation/care-teams/{world.patient.pk}/seats"

    removed = admin.post(f"{base}/{nurse_seat.pk}/remove/", follow=True)
    refused = admin.post(f"{base}/{physio_seat.pk}/remove/")

    assert "left" in removed.content.decode()
    assert not CareTeamMembership.objects.filter(pk=nurse_seat.pk).exists()
    assert CareTeamMembership.history.get(pk=nurse_seat.pk).ended_at is not None
    assert refused.status_code == 409
    assert "keeps at least one physiotherapist" in refused.content.decode()
    assert CareTeamMembership.objects.filter(pk=physio_seat.pk).exists()
    deletes = AccessEvent.objects.filter(action="delete", resource_type="care_team_membership")
    assert list(deletes.values_list("resource_id", flat=True)) == [nurse_seat.pk]


def test_care_teams_of_another_organisation_are_not_found(client, world):
    admin = _admin_client(client, world)
    foreign = world.foreign_patient
    seat = CareTeamMembership.objects.get(patient=foreign)

    assert admin.get(f"/console/organisation/care-teams/{foreign.pk}/").status_code == 404
    assert (
        admin.post(
            f"/console/organisation/care-teams/{world.patient.pk}/seats/{seat.pk}/remove/"
        ).status_code
        == 404
    )
    assert CareTeamMembership.objects.filter(pk=seat.pk).exists()


def test_the_care_team_list_records_who_read_which_seat(client, world):
    _admin_client(client, world).get("/console/organisation/care-teams/")

    read = AccessEvent.objects.filter(action="read", resource_type="care_team_membership")
    seats = CareTeamMembership.objects.filter(patient__user__organisation=world.org)
    assert set(read.values_list("resource_id", flat=True)) == set(
        seats.values_list("pk", flat=True)
    )


# session, user, the organisation's name, count, page, who may be deactivated
QUERIES_PEOPLE = 6
# session, user, organisation, count, page, seats with members, the audit INSERT
QUERIES_CARE_TEAMS = 7
# session, user, patient, seats with members, audit INSERT, candidates
QUERIES_CARE_TEAM = 6


def test_the_people_list_costs_the_same_for_few_or_many(client, world, django_assert_num_queries):
    admin = _admin_client(client, world)
    with django_assert_num_queries(QUERIES_PEOPLE):
        admin.get("/console/organisation/")
    ClinicianFactory.create_batch(30, organisation=world.org, role="nurse")

    with django_assert_num_queries(QUERIES_PEOPLE):
        page = admin.get("/console/organisation/").content.decode()
    assert page.count("Specialist nurse") >= 31


def test_the_care_team_pages_cost_the_same_for_few_or_many(
    client, world, django_assert_num_queries
):
    admin = _admin_client(client, world)
    with django_assert_num_queries(QUERIES_CARE_TEAMS):
        admin.get("/console/organisation/care-teams/")
    with django_assert_num_queries(QUERIES_CARE_TEAM):
        admin.get(f"/console/organisation/care-teams/{world.patient.pk}/")
    for _ in range(10):
        patient = PatientProfileFactory.create(user__organisation=world.org)
        CareTeamMembershipFactory.create(patient=patient, member=world.physio)
        nurse = ClinicianFactory.create(organisation=world.org, role="nurse")
        CareTeamMembershipFactory.create(patient=patient, member=nurse, role="nurse")
        CareTeamMembershipFactory.create(patient=world.patient, member=nurse, role="nurse")

    with django_assert_num_queries(QUERIES_CARE_TEAMS):
        admin.get("/console/organisation/care-teams/")
    with django_assert_num_queries(QUERIES_CARE_TEAM):
        admin.get(f"/console/organisation/care-teams/{world.patient.pk}/")


def test_the_api_still_refuses_care_team_changes_by_an_admin(world, client_for):
    api = client_for(world.org_admin)

    response = api.post(
        f"/api/v1/patients/{world.patient.pk}/care-team/", {"member_id": world.other_team_physio.pk}
    )

    assert response.status_code == 404  # the API's door is the care team's: unchanged
    assert isinstance(world.org_admin, User)


@pytest.mark.parametrize(
    "path",
    [
        "organisation/people/{user}/deactivate/",
        "organisation/care-teams/{patient}/",
        "organisation/care-teams/{patient}/seats/{seat}/remove/",
        "enrol/{patient}/caregiver/",
        "enrol/{patient}/code/",
    ],
)
def test_every_page_with_an_id_sends_an_anonymous_visitor_to_sign_in(world, path):
    seat = CareTeamMembership.objects.filter(patient=world.patient).first()
    assert seat is not None
    url = "/console/" + path.format(user=world.nurse.pk, patient=world.patient.pk, seat=seat.pk)

    for response in (Client().get(url), Client().post(url)):
        assert response.status_code == 302
        assert response["Location"].startswith("/console/login/")
    assert CareTeamMembership.objects.filter(pk=seat.pk).exists()
