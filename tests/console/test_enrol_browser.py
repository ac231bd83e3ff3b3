"""Enrolling a patient in the browser, as a physiotherapist does it."""

import re

import pytest

from backend.accounts.models import CaregiverLink, PatientProfile
from tests.console.conftest import assert_accessible, screenshot, sign_in
from tests.factories import TEST_PASSWORD, ClinicianFactory

pytestmark = pytest.mark.django_db(transaction=True)

CODE = re.compile(r"[0-9A-Z]{5}-[0-9A-Z]{5}")


def test_a_physiotherapist_enrols_a_patient_sees_the_code_once_and_links_a_caregiver(page):
    physio = ClinicianFactory.create(username="physio")
    sign_in(page, physio.username, TEST_PASSWORD)
    page.get_by_role("link", name="Enrol").click()
    assert_accessible(page)
    screenshot(page, "enrol")

    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Okoro")
    page.get_by_label("Date of birth").fill("2015-03-09")
    page.get_by_label("Time zone").select_option("Europe/London")
    page.get_by_label("Thursday").check()
    page.get_by_role("button", name="Enrol and show the activation code").click()

    assert page.get_by_role("heading", name="Ada Okoro is enrolled").is_visible()
    code = page.locator(".code-text").inner_text()
    assert CODE.fullmatch(code)
    assert page.get_by_role("img", name=re.compile("QR code of the activation code")).is_visible()
    assert_accessible(page)
    screenshot(page, "enrol-code")
    assert PatientProfile.objects.get(user__first_name="Ada").training_weekdays == [1, 3, 4, 5]

    page.reload()  # re-sends the form: not a second patient, not the code again

    assert page.get_by_role("heading", name="This form was already sent").is_visible()
    assert code not in page.content()
    assert PatientProfile.objects.filter(user__first_name="Ada").count() == 1
    assert_accessible(page)

    page.get_by_role("link", name="Link a caregiver to Ada Okoro").click()
    assert_accessible(page)
    page.get_by_label("First name").fill("Grace")
    page.get_by_label("Last name").fill("Okoro")
    page.get_by_label("Relationship").select_option("guardian")
    page.get_by_role("button", name="Link and show the activation code").click()

    assert page.get_by_role("heading", name="Grace Okoro is linked to Ada Okoro").is_visible()
    assert CODE.fullmatch(page.locator(".code-text").inner_text())
    assert CaregiverLink.objects.get(caregiver__first_name="Grace").relationship == "guardian"
    assert_accessible(page)


def test_a_mistake_on_the_form_is_shown_next_to_its_field(page):
    physio = ClinicianFactory.create(username="physio")
    sign_in(page, physio.username, TEST_PASSWORD)
    page.goto("/console/enrol/")

    page.get_by_label("First name").fill("Ada")
    page.get_by_role("button", name="Enrol and show the activation code").click()

    assert page.get_by_role("alert").get_by_text("Nothing was saved").is_visible()
    assert page.get_by_text("This field is required.").first.is_visible()
    assert page.get_by_label("First name").input_value() == "Ada"
    assert_accessible(page)
    assert not PatientProfile.objects.exists()
