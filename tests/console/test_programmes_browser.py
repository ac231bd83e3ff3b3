"""A physiotherapist's programme work in the browser: prescribe from a template, revise a
dose, pause and resume, print, and accept a progression proposal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from backend.accounts.models import PatientProfile, User
from backend.exercise.services.programmes import programme_create
from backend.exercise.services.templates import template_create
from tests.builders import done_as_prescribed, session_logged
from tests.console.conftest import assert_accessible, screenshot, sign_in
from tests.exercise.conftest import make_exercise
from tests.factories import (
    TEST_PASSWORD,
    CareTeamMembershipFactory,
    ClinicianFactory,
    OrganisationFactory,
    PatientProfileFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _patient(physio: User, first: str, last: str) -> PatientProfile:
    patient = PatientProfileFactory.create(
        user__organisation=physio.organisation, user__first_name=first, user__last_name=last
    )
    CareTeamMembershipFactory.create(patient=patient, member=physio)
    return patient


def _library(org: Any) -> dict[str, Any]:
    return {
        "squat": make_exercise(
            "Sit-to-stand from a chair",
            organisation=org,
            safety_notes="Put the chair against a wall so it cannot slide.",
            body_regions=["hip", "leg"],
        ),
        "curl": make_exercise(
            "Seated biceps curl",
            organisation=org,
            body_regions=["arm"],
            muscle_groups=["biceps_brachii"],
            equipment=["dumbbell"],
            safety_notes="Keep the dumbbell off any calcinosis on the forearm.",
        ),
        "bike": make_exercise(
            "Steady cycling",
            "aerobic",
            organisation=org,
            body_regions=["whole_body"],
            muscle_groups=[],
            equipment=["bike"],
        ),
    }


def _items(library: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"exercise": library["squat"].pk, "sets": 2, "reps": 8, "load_unit": "body_weight"},
        {
            "exercise": library["curl"].pk,
            "sets": 2,
            "reps": 10,
            "load_unit": "kg",
            "load_value": 1,
        },
        {
            "exercise": library["bike"].pk,
            "duration_minutes": 10,
            "intensity_scale": "rpe_6_20",
            "intensity_target": 11,
        },
    ]


def test_a_physiotherapist_prescribes_from_a_template_revises_and_prints(page):
    org = OrganisationFactory.create()
    physio = ClinicianFactory.create(organisation=org, first_name="Rosa", last_name="Physio")
    _patient(physio, "Maya", "Okafor")
    library = _library(org)
    template_create(
        by=physio,
        name="Early strength after a flare",
        description="A low start for children with JDM.",
        content={
            "sessions_per_week_min": 2,
            "sessions_per_week_max": 3,
            "training_weekdays": [1, 3, 5],
            "items": _items(library),
        },
    )
    sign_in(page, physio.username, TEST_PASSWORD)

    # The organisation's templates
    page.get_by_role("link", name="Templates").click()
    assert page.get_by_role("heading", name="Programme templates").is_visible()
    assert_accessible(page)
    screenshot(page, "templates")

    # Prescribed to Maya from the template, started at once
    page.get_by_role("link", name="Early strength after a flare").click()
    page.get_by_role("combobox", name="Patient").select_option(label="Maya Okafor")
    page.get_by_role("button", name="Prescribe").click()
    assert page.get_by_role("heading", name="Programme for Maya Okafor").is_visible()
    assert page.get_by_text("Version 1", exact=True).is_visible()
    assert page.get_by_text("Put the chair against a wall so it cannot slide.").first.is_visible()

    # Revised: one more set of sit-to-stand, saved as version 2
    first = page.get_by_role("group", name="Exercise 1: Sit-to-stand from a chair")
    first.get_by_label("Sets:", exact=True).fill("3")
    page.get_by_label("Reason for the change").fill("Managing two sets easily")
    page.get_by_role("button", name="Save as a new version").click()
    assert page.get_by_text("Programme saved: version 2.").is_visible()
    assert page.get_by_text("Version 2", exact=True).is_visible()
    assert_accessible(page)
    screenshot(page, "programme-builder")

    # Paused for a flare, then resumed
    page.get_by_label("Why pause").select_option(label="Disease flare")
    page.get_by_role("button", name="Pause").click()
    assert page.get_by_text("Programme paused.").is_visible()
    page.get_by_role("button", name="Resume").click()
    assert page.get_by_text("Programme active.").is_visible()

    # The printable programme
    page.get_by_role("link", name="Printable programme").click()
    assert page.get_by_role("heading", name="Exercise programme for Maya Okafor").is_visible()
    assert page.get_by_text("3 sets of 8 repetitions with your own body weight").is_visible()
    assert page.get_by_text("2 to 3 sessions a week").is_visible()
    assert page.get_by_text("Monday, Wednesday, Friday").is_visible()
    assert page.get_by_role("navigation").count() == 0
    assert_accessible(page)
    screenshot(page, "programme-print")


def test_a_physiotherapist_accepts_a_progression_proposal(page):
    org = OrganisationFactory.create()
    physio = ClinicianFactory.create(organisation=org)
    patient = _patient(physio, "Leo", "Brandt")
    library = _library(org)
    content = {
        "title": "Home strength, block 1",
        "start_date": timezone.localdate() - timedelta(days=14),
        "items": _items(library),
    }
    programme = programme_create(
        by=physio, patient=patient, content=content, activate=True
    ).programme
    for days_ago in (3, 1):
        session_logged(
            programme,
            started_at=timezone.now() - timedelta(days=days_ago, hours=2),
            minutes=35,
            **done_as_prescribed(programme),
        )
    sign_in(page, physio.username, TEST_PASSWORD)

    page.goto("/console/programmes/proposals/")
    card = page.get_by_role("listitem").filter(
        has=page.get_by_role("heading", name="Leo Brandt: Sit-to-stand from a chair")
    )
    assert card.get_by_role("table").get_by_role("row").count() == 3  # header + two sessions
    assert_accessible(page)
    screenshot(page, "proposals")

    card.get_by_role("button", name="Accept").click()

    outcome = page.get_by_role("status").filter(has_text="the programme is now version 2")
    outcome.wait_for()  # htmx swaps the card for its outcome, without a reload
    assert page.get_by_role("button", name="Accept").count() == 1  # the other proposal's
