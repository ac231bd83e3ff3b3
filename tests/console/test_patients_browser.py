"""A physiotherapist's work on the Patients pages, in the browser: find a patient, read their
charts, record an assessment, change a rule setting (and be refused out of range)."""

from __future__ import annotations

import pytest
import time_machine

from tests.console.conftest import assert_accessible, screenshot, sign_in
from tests.console.patients_history import (
    WEDNESDAY_NOON_UTC,
    exercise_library,
    patient_on_team,
    with_history,
)
from tests.factories import TEST_PASSWORD, ClinicianFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_physiotherapist_finds_a_patient_and_works_on_their_page(page):
    with time_machine.travel(WEDNESDAY_NOON_UTC):
        physio = ClinicianFactory.create(username="physio", first_name="Pia", last_name="Physio")
        ada = patient_on_team(physio, first_name="Ada", last_name="Lovelace")
        with_history(physio, ada, exercise_library(), weeks=8)
        for letter in "BCDEFGHIJKLMNOPQRSTUVWXYZ":
            patient_on_team(physio, first_name="Pat", last_name=f"{letter}son")

        sign_in(page, physio.username, TEST_PASSWORD)
        page.get_by_role("link", name="Patients").click()
        assert page.get_by_role("heading", name="Patients").is_visible()
        assert page.get_by_text("26 patients").is_visible()
        assert_accessible(page)
        screenshot(page, "patients")

        # Search
        page.get_by_label("Search patients").fill("lovel")
        page.get_by_role("button", name="Show").click()
        assert page.get_by_role("link", name="Ada Lovelace").is_visible()
        assert page.get_by_role("link", name="Pat Bson").count() == 0
        assert page.get_by_text("below target").first.is_visible()  # words, not only colour

        # Sort and page
        page.get_by_label("Search patients").fill("")
        page.get_by_label("Sort by").select_option(label="Name (Z–A)")
        page.get_by_label("Per page").select_option("25")
        page.get_by_role("button", name="Show").click()
        first_row = page.locator("tbody th[scope=row] a").first
        assert first_row.inner_text() == "Pat Zson"
        page.get_by_role("link", name="Next page").click()
        assert page.get_by_text("Page 2 of 2").is_visible()
        assert page.get_by_role("link", name="Pat Bson").is_visible()  # the 26th, Z to A
        page.get_by_role("link", name="Previous page").click()

        # A patient and their charts
        page.get_by_role("link", name="Ada Lovelace").click()
        assert page.get_by_role("heading", name="Ada Lovelace", level=1).is_visible()
        weekly = page.get_by_role("img", name="Sessions a week, last 12 weeks")
        assert weekly.is_visible()
        assert page.get_by_role("img", name="CMAS over time").is_visible()
        assert page.get_by_role("img", name="eGFR over time").is_visible()
        assert "KID-1: below 60" in page.get_by_role("img", name="eGFR over time").inner_html()
        assert page.get_by_text("Added Calf stretch").is_visible()
        assert_accessible(page)
        screenshot(page, "patient")

        # Record an assessment: refused out of range, then recorded
        page.get_by_role("link", name="Record an assessment").click()
        page.get_by_label("Measure", exact=True).select_option("CMAS")
        page.get_by_label("Setting").select_option("clinic")
        page.get_by_label("Value").fill("60")
        page.get_by_label("Measured at").fill("2026-11-25T09:30")
        page.get_by_role("button", name="Record assessment").click()
        assert page.get_by_text("CMAS must be from 0 up to 52 points.").is_visible()
        assert_accessible(page)
        screenshot(page, "assessment")
        page.get_by_label("Value").fill("38")
        page.get_by_role("button", name="Record assessment").click()
        assert page.get_by_text("CMAS 38 points recorded.").is_visible()
        assert page.get_by_role("heading", name="Ada Lovelace", level=1).is_visible()

        # Rule settings: out of range refused next to the field, then a change within range
        page.get_by_role("link", name="Change rule settings", exact=True).click()
        kidney = page.get_by_role("group", name="KID-1 eGFR low")
        kidney.get_by_label("Below (mL/min/1.73 m²)").fill("10")
        page.get_by_role("button", name="Save rule settings").click()
        assert page.get_by_text("Nothing was saved").is_visible()
        assert kidney.get_by_text("Must be between 30 and 90.").is_visible()
        kidney.get_by_label("Below (mL/min/1.73 m²)").fill("45")
        page.get_by_role("button", name="Save rule settings").click()
        assert page.get_by_text("Rule settings saved.").is_visible()
        assert page.get_by_role("cell", name="KID-1 below: 60 → 45").is_visible()
        assert_accessible(page)
        screenshot(page, "rule-settings")
