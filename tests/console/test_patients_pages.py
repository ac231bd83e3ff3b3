"""The Patients list and the Patient page through Django's test client: who sees what, the
audit trail of every read, the forms' refusals, and a fixed number of queries."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from backend.alerts.models import Alert, RuleOverride
from backend.audit.models import AccessEvent
from backend.exercise.models import Assessment
from tests.conftest import World
from tests.console.patients_history import (
    WEDNESDAY_NOON_UTC,
    exercise_library,
    patient_on_team,
    with_history,
    with_programme,
)

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- The list -----------------------------------------------------------------------------------


def test_the_list_shows_my_patients_only(world):
    with time_machine.travel(WEDNESDAY_NOON_UTC):
        page = signed_in(world.physio).get("/console/patients/")

    body = page.content.decode()
    assert page.status_code == 200
    assert world.patient.user.display_name in body
    assert world.other_patient.user.display_name not in body
    assert world.foreign_patient.user.display_name not in body


def test_an_org_admin_without_a_care_team_seat_sees_no_patient(world):
    with time_machine.travel(WEDNESDAY_NOON_UTC):
        page = signed_in(world.org_admin).get("/console/patients/")

    assert page.status_code == 200
    assert "No patients on your care teams yet." in page.content.decode()
    assert world.patient.user.display_name not in page.content.decode()


def test_the_list_shows_weeks_with_words_as_well_as_colour(world):
    with time_machine.travel(WEDNESDAY_NOON_UTC):
        library = exercise_library()
        with_history(world.physio, world.patient, library, weeks=4)
        body = signed_in(world.physio).get("/console/patients/").content.decode()

    # Weeks 1 and 4 back were stored as below target (one session), weeks 2 and 3 as met.
    assert body.count("1/2–3 ↓ below target") == 2
    assert body.count("2/2–3 ✓ met") == 2
    assert "0/2–3 … so far" in body
    open_alerts = Alert.objects.filter(patient=world.patient).exclude(status="resolved").count()
    assert open_alerts >= 4
    assert f'<span class="alert-count">{open_alerts}</span>' in body


def test_search_finds_by_name_as_the_api_does(world):
    with time_machine.travel(WEDNESDAY_NOON_UTC):
        ada = patient_on_team(world.physio, first_name="Ada", last_name="Lovelace")
        patient_on_team(world.physio, first_name="Bob", last_name="Builder")
        page = signed_in(world.physio).get("/console/patients/", {"q": "lovel"})

    body = page.content.decode()
    assert ada.user.display_name in body
    assert f'href="{reverse("console:patient", args=[ada.pk])}"' in body
    assert "Bob Builder" not in body
    assert "1 patient matching" in body


def test_sort_by_name_descending_and_pages(world):
    with time_machine.travel(WEDNESDAY_NOON_UTC):
        for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
            patient_on_team(world.physio, first_name="Pat", last_name=f"{letter}son")
        client = signed_in(world.physio)
        first = client.get("/console/patients/", {"sort": "-name", "per_page": "25"})
        second = client.get("/console/patients/", {"sort": "-name", "per_page": "25", "page": "2"})

    first_body, second_body = first.content.decode(), second.content.decode()
    assert first_body.index("Pat Zson") < first_body.index("Pat Yson")
    assert "Page 1 of 2" in first_body
    assert "Pat Ason" in second_body
    assert "Pat Zson" not in second_body


def test_every_patient_shown_is_an_audited_read(world):
    with time_machine.travel(WEDNESDAY_NOON_UTC):
        signed_in(world.physio).get("/console/patients/")

    event = AccessEvent.objects.get(actor=world.physio)
    assert (event.action, event.resource_type, event.patient_id) == (
        "read",
        "patient",
        world.patient.pk,
    )


def test_the_list_takes_the_same_queries_for_one_patient_or_thirty(
    world, django_assert_num_queries
):
    with time_machine.travel(WEDNESDAY_NOON_UTC):
        client = signed_in(world.physio)
        library = exercise_library()
        with_programme(world.physio, world.patient, library)
        client.get("/console/patients/")  # the session's first read is not the page's
        with django_assert_num_queries(10):
            client.get("/console/patients/")
        for n in range(29):
            zone = "America/New_York" if n % 2 else "Asia/Tokyo"
            patient = patient_on_team(world.physio, timezone_name=zone)
            with_programme(world.physio, patient, library)
        with django_assert_num_queries(10):
            page = client.get("/console/patients/")

    assert page.content.decode().count('<th scope="row">') == 30


# --- A patient ----------------------------------------------------------------------------------


def test_the_patient_page_draws_its_charts_with_rule_thresholds(world):
    with time_machine.travel(WEDNESDAY_NOON_UTC):
        library = exercise_library()
        with_history(world.physio, world.patient, library, weeks=3)
        page = signed_in(world.physio).get(f"/console/patients/{world.patient.pk}/")

    body = page.content.decode()
    assert page.status_code == 200
    for chart in ("chart-weeks", "chart-pain", "chart-cmas", "chart-egfr", "chart-mmt8"):
        assert f'aria-labelledby="{chart}-title {chart}-desc"' in body
    assert "FD-2: below 15" in body
    assert "KID-1: below 60" in body
    assert "Target 2–3 a week" in body
    assert "Rash flare" in body  # the symptom reports, in the checklist's words
    assert "Calf stretch · 2 × 30 s hold" in body
    assert "Added Calf stretch" in body  # version 2 against version 1
    assert "Removed Stationary cycling" in body
    assert "Chair squat: sets 2 → 3" in body


def test_the_threshold_follows_the_patients_own_setting(world):
    with time_machine.travel(WEDNESDAY_NOON_UTC):
        RuleOverride.objects.create(
            patient=world.patient, rule_id="KID-1", parameters={"below": 45}, set_by=world.physio
        )
        body = signed_in(world.physio).get(f"/console/patients/{world.patient.pk}/").content

    assert "KID-1: below 45" in body.decode()


@pytest.mark.parametrize("who", ["other_team_physio", "other_org_physio", "org_admin"])
def test_a_patient_the_viewer_may_not_see_is_404(world, who):
    viewer = getattr(world, who)
    client = signed_in(viewer)
    with time_machine.travel(WEDNESDAY_NOON_UTC):
        for path in ("", "assessments/new/", "rule-settings/"):
            response = client.get(f"/console/patients/{world.patient.pk}/{path}")
            assert response.status_code == 404, path
        posted = client.post(
            f"/console/patients/{world.patient.pk}/rule-settings/", {"KID-1.below": "40"}
        )

    assert posted.status_code == 404
    assert not RuleOverride.objects.exists()
    assert not AccessEvent.objects.filter(patient=world.patient).exists()


def test_the_patient_page_is_an_audited_summary_read(world):
    with time_machine.travel(WEDNESDAY_NOON_UTC):
        signed_in(world.nurse).get(f"/console/patients/{world.patient.pk}/")

    event = AccessEvent.objects.get(actor=world.nurse)
    assert (event.action, event.resource_type, event.resource_id) == (
        "read",
        "patient_summary",
        world.patient.pk,
    )


def test_the_patient_page_takes_the_same_queries_short_or_long_history(
    world, django_assert_num_queries
):
    with time_machine.travel(WEDNESDAY_NOON_UTC):
        library = exercise_library()
        short = patient_on_team(world.physio)
        with_history(world.physio, short, library, weeks=1)
        long = patient_on_team(world.physio)
        with_history(world.physio, long, library, weeks=12)
        client = signed_in(world.physio)
        client.get("/console/patients/")
        with django_assert_num_queries(20):
            client.get(f"/console/patients/{short.pk}/")
        with django_assert_num_queries(20):
            client.get(f"/console/patients/{long.pk}/")


# --- Recording an assessment --------------------------------------------------------------------


def test_a_physio_records_an_assessment(world):
    with time_machine.travel(WEDNESDAY_NOON_UTC):
        client = signed_in(world.physio)
        response = client.post(
            f"/console/patients/{world.patient.pk}/assessments/new/",
            {
                "measure": "CMAS",
                "setting": "clinic",
                "value": "38",
                "measured_at": "2026-11-25T09:30",
            },
        )

    assert response.status_code == 302
    assessment = Assessment.objects.get(patient=world.patient)
    assert (assessment.measure, assessment.value, assessment.measured_by) == (
        "CMAS",
        Decimal(38),
        world.physio,
    )
    # Typed in the patient's zone (London, GMT in November): 09:30 local is 09:30 UTC.
    assert assessment.measured_at == WEDNESDAY_NOON_UTC - timedelta(hours=2, minutes=30)
    assert AccessEvent.objects.filter(action="create", resource_type="assessment").count() == 1


def test_an_assessment_out_of_range_is_refused_next_to_the_value(world):
    with time_machine.travel(WEDNESDAY_NOON_UTC):
        response = signed_in(world.physio).post(
            f"/console/patients/{world.patient.pk}/assessments/new/",
            {
                "measure": "CMAS",
                "setting": "clinic",
                "value": "60",
                "measured_at": "2026-11-25T09:30",
            },
        )

    body = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_value_error"' in body
    assert "CMAS must be from 0 up to 52 points." in body
    assert not Assessment.objects.exists()


def test_an_assessment_in_the_future_is_refused(world):
    with time_machine.travel(WEDNESDAY_NOON_UTC):
        response = signed_in(world.physio).post(
            f"/console/patients/{world.patient.pk}/assessments/new/",
            {
                "measure": "TUG",
                "setting": "clinic",
                "value": "8.5",
                "measured_at": "2026-11-27T09:30",
            },
        )

    assert response.status_code == 400
    assert 'id="id_measured_at_error"' in response.content.decode()
    assert not Assessment.objects.exists()


# --- Rule settings ------------------------------------------------------------------------------


def _all_settings(client: Client, patient_id: int) -> dict[str, str]:
    """The form as the page renders it: every field with its value in force."""
    form = client.get(f"/console/patients/{patient_id}/rule-settings/").context["form"]
    values: dict[str, str] = {}
    for name in form.fields:
        initial = form[name].value()
        if isinstance(initial, bool):
            if initial:
                values[name] = "on"
        elif initial is not None:
            values[name] = str(initial)
    return values


def test_a_setting_changed_within_range_is_saved_and_audited(world):
    with time_machine.travel(WEDNESDAY_NOON_UTC):
        client = signed_in(world.physio)
        values = _all_settings(client, world.patient.pk)
        response = client.post(
            f"/console/patients/{world.patient.pk}/rule-settings/",
            {**values, "KID-1.below": "45"},
        )
        page = client.get(f"/console/patients/{world.patient.pk}/rule-settings/")

    assert response.status_code == 302
    assert RuleOverride.objects.get(patient=world.patient, rule_id="KID-1").parameters == {
        "below": 45
    }
    assert RuleOverride.objects.count() == 1  # the other rules kept their defaults
    event = AccessEvent.objects.get(action="update", resource_type="rule_settings")
    assert event.changes == {"KID-1": {"below": {"old": 60, "new": 45}}}
    assert "KID-1</strong> below: 60 → 45" in page.content.decode()


def test_a_setting_out_of_range_is_refused_next_to_its_field(world):
    with time_machine.travel(WEDNESDAY_NOON_UTC):
        client = signed_in(world.physio)
        values = _all_settings(client, world.patient.pk)
        response = client.post(
            f"/console/patients/{world.patient.pk}/rule-settings/",
            {**values, "KID-1.below": "10", "FD-1.drop_points": "5"},
        )

    body = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_KID-1.below_error"' in body
    assert "Must be between 30 and 90." in body
    assert not RuleOverride.objects.exists()  # all or nothing: FD-1 was not saved either


def test_a_rule_switched_off_stays_off_and_safety_critical_rules_have_no_switch(world):
    with time_machine.travel(WEDNESDAY_NOON_UTC):
        client = signed_in(world.physio)
        values = _all_settings(client, world.patient.pk)
        del values["FD-1.enabled"]
        response = client.post(f"/console/patients/{world.patient.pk}/rule-settings/", values)
        form = client.get(f"/console/patients/{world.patient.pk}/rule-settings/").context["form"]

    assert response.status_code == 302
    assert RuleOverride.objects.get(rule_id="FD-1").parameters == {"enabled": False}
    assert "FD-2.enabled" not in form.fields
    assert "KID-1.enabled" not in form.fields


def test_the_rule_settings_page_takes_the_same_queries_whatever_the_history(
    world, django_assert_num_queries
):
    with time_machine.travel(WEDNESDAY_NOON_UTC):
        client = signed_in(world.physio)
        client.get("/console/patients/")
        with django_assert_num_queries(6):
            client.get(f"/console/patients/{world.patient.pk}/rule-settings/")
        values = _all_settings(client, world.patient.pk)
        for below in (45, 50, 55):
            client.post(
                f"/console/patients/{world.patient.pk}/rule-settings/",
                {**values, "KID-1.below": str(below)},
            )
        with django_assert_num_queries(6):
            client.get(f"/console/patients/{world.patient.pk}/rule-settings/")


@pytest.mark.parametrize("path", ["", "assessments/new/", "rule-settings/"])
def test_an_anonymous_visitor_is_sent_to_sign_in(world, path):
    response = Client().get(f"/console/patients/{world.patient.pk}/{path}")

    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/")


def test_a_patient_is_told_the_console_is_not_for_them(world):
    response = signed_in(world.patient.user).get(f"/console/patients/{world.patient.pk}/")

    assert response.status_code == 403
    assert world.patient.diagnosis not in response.content.decode()


@pytest.mark.django_db
def test_a_patient_not_in_my_care_is_a_console_page_saying_not_found(world: World) -> None:
    client = Client()
    client.force_login(world.other_team_physio)

    response = client.get(f"/console/patients/{world.patient.pk}/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "not in your care" in response.content.decode()
    assert world.patient.user.last_name not in response.content.decode()
