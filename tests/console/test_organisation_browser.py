"""The organisation admin's pages in the browser: deactivating a person, managing a team."""

import pytest

from backend.accounts.models import CareTeamMembership, User
from tests.console.conftest import assert_accessible, screenshot, sign_in
from tests.factories import (
    TEST_PASSWORD,
    CareTeamMembershipFactory,
    ClinicianFactory,
    OrganisationFactory,
    PatientProfileFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_org_admin_deactivates_a_person_and_manages_a_care_team(page):
    org = OrganisationFactory.create(name="Northfield Clinic")
    admin = ClinicianFactory.create(
        username="admin", organisation=org, role="org_admin", first_name="Sam", last_name="Reid"
    )
    physio = ClinicianFactory.create(organisation=org, first_name="Priya", last_name="Shah")
    leaver = ClinicianFactory.create(
        organisation=org, role="nurse", first_name="Tom", last_name="Okafor"
    )
    physician = ClinicianFactory.create(
        organisation=org, role="physician", first_name="Lena", last_name="Berg"
    )
    patient = PatientProfileFactory.create(
        user__organisation=org, user__first_name="Amelia", user__last_name="Clarke"
    )
    CareTeamMembershipFactory.create(patient=patient, member=physio)
    CareTeamMembershipFactory.create(patient=patient, member=leaver, role="nurse")
    sign_in(page, admin.username, TEST_PASSWORD)

    page.get_by_role("link", name="Organisation").click()
    assert page.get_by_role("heading", name="People").is_visible()
    assert_accessible(page)
    screenshot(page, "organisation")

    page.get_by_role("link", name="Deactivate Tom Okafor").click()
    assert page.get_by_text("They cannot sign in any more").is_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Deactivate Tom Okafor").click()

    assert page.get_by_text("Tom Okafor is deactivated").is_visible()
    leaver.refresh_from_db()
    assert not leaver.is_active
    assert not CareTeamMembership.objects.filter(member=leaver).exists()

    page.get_by_role("link", name="Care teams").click()
    assert_accessible(page)
    page.get_by_role("link", name="Manage the care team of Amelia Clarke").click()
    page.get_by_label("Clinician to add").select_option(label="Lena Berg — Physician")
    page.get_by_role("button", name="Add to the team").click()
    assert page.get_by_text("Lena Berg joined Amelia Clarke's care team").is_visible()
    assert CareTeamMembership.objects.filter(patient=patient, member=physician).exists()

    page.get_by_role("button", name="Remove Priya Shah from the team").click()  # the last physio
    assert page.get_by_text("keeps at least one physiotherapist").first.is_visible()
    assert CareTeamMembership.objects.filter(patient=patient, member=physio).exists()
    page.get_by_role("button", name="Remove Lena Berg from the team").click()
    assert page.get_by_text("Lena Berg left Amelia Clarke's care team").is_visible()
    assert_accessible(page)
    screenshot(page, "organisation-care-team")
    assert User.objects.get(pk=admin.pk).is_active
