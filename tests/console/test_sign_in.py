"""The console's door, as a person meets it in the browser."""

import pytest

from tests.console.conftest import assert_accessible, screenshot, sign_in
from tests.factories import TEST_PASSWORD, ClinicianFactory, PatientProfileFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_physiotherapist_signs_in_and_lands_on_today(page):
    physio = ClinicianFactory.create(username="physio")

    sign_in(page, physio.username, TEST_PASSWORD)

    assert page.get_by_role("heading", name="Today").is_visible()
    assert page.get_by_text(physio.display_name).is_visible()


def test_a_patient_is_pointed_to_the_app(page):
    patient = PatientProfileFactory.create(user__username="pat")

    sign_in(page, patient.user.username, TEST_PASSWORD)

    assert page.get_by_text("use the PhysioTrack mobile app").is_visible()
    assert not page.get_by_role("heading", name="Today").is_visible()


def test_the_sign_in_page_is_accessible(page):
    page.goto("/console/login/")

    assert_accessible(page)
    screenshot(page, "sign-in")
