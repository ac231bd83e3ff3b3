"""Today in the browser: an emergency a patient reported through the API a moment earlier, as
each kind of console user meets it, acknowledged and resolved; and the two-step sign-in pages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from backend.accounts.models import User
from backend.exercise.models import Programme
from backend.exercise.services.programmes import programme_create
from tests.conftest import World
from tests.console.conftest import assert_accessible, screenshot, sign_in
from tests.exercise.conftest import content, make_exercise, session_body
from tests.factories import TEST_PASSWORD, CareTeamMembershipFactory, ClinicianFactory

pytestmark = pytest.mark.django_db(transaction=True)


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()


def as_(page: Any, user: User) -> None:
    sign_in(page, user.username, TEST_PASSWORD)
    page.get_by_role("heading", name="Today").wait_for()


def programme_of(world: World) -> Programme:
    library = {
        "squat": make_exercise("Chair squat"),
        "curl": make_exercise("Biceps curl", equipment=["dumbbell"]),
        "bike": make_exercise("Stationary cycling", "aerobic", equipment=["bike"]),
    }
    return programme_create(
        by=world.physio, patient=world.patient, content=content(library), activate=True
    ).programme


def chest_pain_reported_through_the_api(world: World) -> None:
    api = APIClient()
    access = RefreshToken.for_user(world.patient.user).access_token
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    response = api.post(
        "/api/v1/sessions/",
        session_body(programme_of(world), symptoms=["chest_pain"]),
        format="json",
    )
    assert response.status_code == 201, response.json()


def test_an_emergency_reported_in_the_app_reaches_the_team_and_no_one_else(page, world: World):
    physician_elsewhere = ClinicianFactory.create(organisation=world.org, role="physician")
    CareTeamMembershipFactory.create(
        patient=world.other_patient, member=physician_elsewhere, role="physician"
    )
    chest_pain_reported_through_the_api(world)
    patient_name = world.patient.user.display_name

    # the nurse sees it
    as_(page, world.nurse)
    assert page.get_by_role("link", name=patient_name).is_visible()
    sign_out(page)

    # an org admin and a physician of another team see nothing of the patient
    for outsider in (world.org_admin, physician_elsewhere):
        as_(page, outsider)
        assert page.get_by_text("No open alerts about your patients.").is_visible()
        assert page.get_by_text(patient_name).count() == 0
        page.locator("#emergency-count").get_by_text("Open emergencies: 0").wait_for()
        sign_out(page)

    # the patient's own credentials are refused
    sign_in(page, world.patient.user.username, TEST_PASSWORD)
    assert page.get_by_text("use the PhysioTrack mobile app").is_visible()

    # the physiotherapist sees the emergency, with its count in the header
    as_(page, world.physio)
    card = page.locator("article.alert-card").filter(has_text=patient_name)
    assert card.get_by_text("Emergency", exact=True).is_visible()
    heading = card.get_by_role("heading", name=re.compile("Emergency symptom"))  # rule's title
    assert heading.is_visible()
    assert card.get_by_text("chest pain", exact=False).first.is_visible()
    page.locator("#emergency-count").get_by_text("Open emergencies: 1").wait_for()
    link = card.get_by_role("link", name=patient_name)
    assert link.get_attribute("href") == f"/console/patients/{world.patient.pk}/"
    card.get_by_text("Evidence", exact=True).click()
    assert card.get_by_role("table").is_visible()
    assert_accessible(page)
    screenshot(page, "today")

    # acknowledges it (htmx swaps the card in place) and resolves it with a note
    card.get_by_role("button", name="Acknowledge").click()
    card = page.locator("article.alert-card").filter(has_text=patient_name)
    card.get_by_text(f"Acknowledged by {world.physio.display_name}").wait_for()
    card.get_by_role("button", name="Resolve").click()
    card.get_by_text("a note is required").wait_for()
    assert_accessible(page)
    card.get_by_label("How was it resolved?").fill("Phoned the family: pain eased, GP today.")
    card.get_by_role("button", name="Resolve").click()
    card.get_by_text(f"Resolved by {world.physio.display_name}").wait_for()
    assert card.get_by_text("Phoned the family: pain eased, GP today.").is_visible()

    page.reload()
    assert page.get_by_text("No open alerts about your patients.").is_visible()
    page.locator("#emergency-count").get_by_text("Open emergencies: 0").wait_for()


def test_turning_on_two_step_sign_in_and_giving_the_code(page, world: World):
    world.org.console_requires_totp = True
    world.org.save()

    sign_in(page, world.physio.username, TEST_PASSWORD)
    page.get_by_role("heading", name="Two-step sign-in").wait_for()
    assert page.get_by_role("img", name="QR code to scan with your authenticator app").is_visible()
    assert page.get_by_role("navigation", name="Main").count() == 0  # nothing before the code
    assert_accessible(page)
    screenshot(page, "two-step-enrol")
    device = TOTPDevice.objects.get(user=world.physio)
    page.get_by_label("Code from your authenticator app").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    page.get_by_role("heading", name="Today").wait_for()
    assert page.get_by_text("Two-step sign-in is on").is_visible()

    sign_out(page)
    sign_in(page, world.physio.username, TEST_PASSWORD)
    page.get_by_role("heading", name="Sign-in code").wait_for()
    page.get_by_label("Code from your authenticator app").fill("000000")
    page.get_by_role("button", name="Continue").click()
    page.get_by_text("That code is not right").wait_for()
    assert_accessible(page)
    screenshot(page, "sign-in-code")
    assert re.search(r"/console/login/code/", page.url)
