"""The programme pages of the console, through Django's test client: who sees what, what a
save does, the errors a refusal shows, the audit events, and each page's query count."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from backend.audit.models import AccessEvent
from backend.exercise.models import (
    Programme,
    ProgrammeTemplate,
    ProgressionProposal,
)
from backend.exercise.services.programmes import programme_create
from backend.exercise.services.templates import template_create
from tests.builders import done_as_prescribed, session_logged
from tests.exercise import conftest as exercise_fixtures
from tests.exercise.conftest import content, make_exercise
from tests.factories import CareTeamMembershipFactory, PatientProfileFactory

pytestmark = pytest.mark.django_db

# The exercise area's fixtures: a small library and world.patient's active programme.
library = exercise_fixtures.library
programme = exercise_fixtures.programme

NOW = "2026-11-04T10:00:00+00:00"


@pytest.fixture(autouse=True)
def _frozen():
    """Every record of these tests is made at one fixed moment (the clock may run ahead)."""
    with time_machine.travel(NOW, tick=False):
        yield


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def builder_url(patient) -> str:
    return f"/console/programmes/patient/{patient.pk}/programme/"


def form_of(programme: Programme, **changes: Any) -> dict[str, Any]:
    """The builder's form as the browser posts it, filled with the version in force."""
    version = programme.current_version
    assert version is not None
    data: dict[str, Any] = {
        "title": version.title,
        "goals": version.goals,
        "start_date": version.start_date.isoformat(),
        "review_date": version.review_date.isoformat() if version.review_date else "",
        "sessions_per_week_min": version.sessions_per_week_min,
        "sessions_per_week_max": version.sessions_per_week_max,
        "training_weekdays": [str(d) for d in version.training_weekdays],
        "reason": "",
        "action": "save",
    }
    items = list(version.items.order_by("position"))
    data["rows"] = str(len(items))
    for index, item in enumerate(items):
        for name in (
            "exercise",
            "sets",
            "reps",
            "hold_seconds",
            "load_unit",
            "load_value",
            "band_colour",
            "rest_seconds",
            "duration_minutes",
            "intensity_scale",
            "intensity_target",
            "notes",
        ):
            value = item.exercise_id if name == "exercise" else getattr(item, name)
            data[f"item-{index}-{name}"] = "" if value is None else str(value)
    data.update(changes)
    return data


def page_text(response) -> str:
    return response.content.decode()


# --- The builder ----------------------------------------------------------------------------


def test_the_builder_shows_the_programme_in_force_with_safety_notes(world, library, programme):
    library["squat"].safety_notes = "Chair against a wall."
    library["squat"].save()

    response = signed_in(world.physio).get(builder_url(world.patient))

    text = page_text(response)
    assert response.status_code == 200
    assert "Version 1" in text
    assert "Chair squat" in text
    assert "Chair against a wall." in text
    assert AccessEvent.objects.filter(
        actor=world.physio, action="read", resource_type="programme", resource_id=programme.pk
    ).exists()


@pytest.mark.parametrize(
    ("who", "status"),
    [("other_team_physio", 404), ("other_org_physio", 404), ("org_admin", 404)],
)
def test_a_clinician_who_may_not_see_the_patient_gets_404(world, programme, who, status):
    response = signed_in(getattr(world, who)).get(builder_url(world.patient))

    assert response.status_code == status
    assert world.patient.user.last_name not in page_text(response)


def test_the_patient_side_is_pointed_to_the_app(world, programme):
    response = signed_in(world.caregiver).get(builder_url(world.patient))

    assert response.status_code == 403


def test_saving_a_changed_dose_makes_a_new_version(world, library, programme):
    data = form_of(programme, **{"item-0-sets": "3", "reason": "Stronger now"})

    response = signed_in(world.physio).post(builder_url(world.patient), data)

    assert response.status_code == 302
    programme.refresh_from_db()
    version = programme.current_version
    assert version is not None
    assert version.number == 2
    assert version.items.get(position=1).sets == 3
    followed = signed_in(world.physio).get(builder_url(world.patient))
    assert "Version 2" in page_text(followed)
    assert AccessEvent.objects.filter(action="update", resource_type="programme").exists()


def test_a_dose_the_service_refuses_is_shown_on_its_row_and_nothing_is_saved(
    world, library, programme
):
    data = form_of(programme, **{"item-2-duration_minutes": "", "reason": "Shorter"})

    response = signed_in(world.physio).post(builder_url(world.patient), data)

    assert response.status_code == 400
    text = page_text(response)
    row = text[text.index("Exercise 3") :]
    assert "An aerobic exercise needs duration_minutes." in row[: row.index("</fieldset>")]
    programme.refresh_from_db()
    assert programme.current_version is not None
    assert programme.current_version.number == 1


def test_a_revision_without_a_reason_is_refused_at_the_reason_field(world, programme):
    response = signed_in(world.physio).post(
        builder_url(world.patient), form_of(programme, **{"item-0-sets": "3"})
    )

    text = page_text(response)
    assert response.status_code == 400
    reason_field = text[text.index('for="id_reason"') :]
    assert "A reason is required." in reason_field[:600]


def test_adding_an_exercise_rerenders_with_one_more_row_and_saves_nothing(
    world, library, programme
):
    data = form_of(programme, action="add", add_exercise=str(library["stretch"].pk))
    data["item-0-sets"] = "4"  # typed but not saved

    response = signed_in(world.physio).post(builder_url(world.patient), data)

    text = page_text(response)
    assert response.status_code == 200
    assert "Exercise 4: Calf stretch" in text
    assert 'name="item-0-sets" value="4"' in text
    assert Programme.objects.get().current_version.number == 1  # type: ignore[union-attr]


def test_more_than_four_exercises_warns_but_saves(world, library, programme):
    data = form_of(programme, reason="Two more")
    for index, (name, dose) in enumerate(
        [("stretch", {"sets": "2", "hold_seconds": "20"}), ("balance", {"sets": "2", "reps": "5"})],
        start=3,
    ):
        data[f"item-{index}-exercise"] = str(library[name].pk)
        for field, value in dose.items():
            data[f"item-{index}-{field}"] = value
    data["rows"] = "5"
    client = signed_in(world.physio)

    saved = client.post(builder_url(world.patient), data, follow=True)

    assert "5 exercises prescribed: adherence is better with 2–4" in page_text(saved)
    programme.refresh_from_db()
    assert programme.current_version is not None
    assert programme.current_version.items.count() == 5


def test_a_first_programme_is_prescribed_and_started(world, library):
    data = {
        "title": "Block 1",
        "start_date": "2026-11-05",
        "sessions_per_week_min": "2",
        "sessions_per_week_max": "3",
        "training_weekdays": ["1", "4"],
        "activate": "on",
        "rows": "1",
        "item-0-exercise": str(library["squat"].pk),
        "item-0-sets": "2",
        "item-0-reps": "8",
        "action": "save",
    }

    response = signed_in(world.physio).post(builder_url(world.patient), data)

    assert response.status_code == 302
    programme = Programme.objects.get(patient=world.patient)
    assert programme.status == "active"
    assert programme.current_version is not None
    assert programme.current_version.training_weekdays == [1, 4]


def test_pause_resume_and_who_may(world, programme):
    status_url = f"/console/programmes/patient/{world.patient.pk}/programme/status/"

    signed_in(world.nurse).post(status_url, {"action": "pause", "pause-reason": "flare"})
    programme.refresh_from_db()
    assert programme.status == "paused"
    refused = signed_in(world.nurse).post(status_url, {"action": "resume"}, follow=True)
    programme.refresh_from_db()
    assert programme.status == "paused"
    assert "Only a physiotherapist may start a programme." in page_text(refused)
    signed_in(world.physio).post(status_url, {"action": "resume"})
    programme.refresh_from_db()
    assert programme.status == "active"


def test_prescribing_from_a_template_in_the_builder(world, library, programme):
    template = template_create(by=world.physio, name="Starter", programme=programme)
    patient = PatientProfileFactory.create(user__organisation=world.org)
    CareTeamMembershipFactory.create(patient=patient, member=world.physio)

    response = signed_in(world.physio).post(
        f"/console/programmes/patient/{patient.pk}/programme/from-template/",
        {"template": str(template.pk), "start_date": "2026-11-09", "activate": "on"},
    )

    assert response.status_code == 302
    prescribed = Programme.objects.get(patient=patient)
    assert prescribed.status == "active"
    assert prescribed.current_version is not None
    assert prescribed.current_version.title == "Starter"
    assert prescribed.current_version.items.count() == 3


def test_saving_the_programme_as_a_template(world, programme):
    response = signed_in(world.physio).post(
        f"/console/programmes/patient/{world.patient.pk}/programme/save-as-template/",
        {"name": "Strength after a flare", "description": ""},
    )

    template = ProgrammeTemplate.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/console/programmes/templates/{template.pk}/"
    assert len(template.content["items"]) == 3


def test_a_template_name_taken_is_shown_next_to_the_name(world, programme):
    template_create(by=world.physio, name="Taken", programme=programme)

    response = signed_in(world.physio).post(
        f"/console/programmes/patient/{world.patient.pk}/programme/save-as-template/",
        {"name": "Taken"},
    )

    assert response.status_code == 400
    assert "Already a template of your organisation." in page_text(response)
    assert ProgrammeTemplate.objects.count() == 1


# --- Templates ------------------------------------------------------------------------------


def test_templates_are_listed_for_the_organisation_only(world, programme):
    template_create(by=world.physio, name="Ours", programme=programme)

    ours = signed_in(world.nurse).get("/console/programmes/templates/")
    theirs = signed_in(world.other_org_physio).get("/console/programmes/templates/")

    assert "Ours" in page_text(ours)
    assert "Ours" not in page_text(theirs)


def test_a_template_of_another_organisation_is_404(world, programme):
    template = template_create(by=world.physio, name="Ours", programme=programme)

    response = signed_in(world.other_org_physio).get(
        f"/console/programmes/templates/{template.pk}/"
    )

    assert response.status_code == 404


def test_a_template_is_renamed_prescribed_and_archived(world, library, programme):
    template = template_create(by=world.physio, name="Ours", programme=programme)
    patient = PatientProfileFactory.create(user__organisation=world.org)
    CareTeamMembershipFactory.create(patient=patient, member=world.physio)
    client = signed_in(world.physio)
    url = f"/console/programmes/templates/{template.pk}/"

    client.post(url, {"name": "Renamed", "description": "For teenagers"})
    prescribed = client.post(
        url + "prescribe/", {"patient": str(patient.pk), "start_date": "2026-11-09"}
    )
    archived = client.post(url + "archive/")

    template.refresh_from_db()
    assert template.name == "Renamed"
    assert prescribed["Location"] == builder_url(patient)
    assert Programme.objects.get(patient=patient).status == "draft"
    assert archived.status_code == 302
    assert template.archived_at is not None


def test_a_nurse_reads_a_template_but_cannot_rename_it(world, programme):
    template = template_create(by=world.physio, name="Ours", programme=programme)

    page = signed_in(world.nurse).get(f"/console/programmes/templates/{template.pk}/")
    renamed = signed_in(world.nurse).post(
        f"/console/programmes/templates/{template.pk}/", {"name": "Mine"}
    )

    assert "Chair squat" in page_text(page)
    assert "Rename" not in page_text(page)
    assert renamed.status_code == 400
    template.refresh_from_db()
    assert template.name == "Ours"


# --- Progression proposals ------------------------------------------------------------------


def two_qualifying_sessions(programme: Programme) -> None:
    for days_ago in (3, 1):
        session_logged(
            programme,
            started_at=timezone.now() - timedelta(days=days_ago, hours=2),
            minutes=35,
            **done_as_prescribed(programme),
        )


def test_proposals_show_their_two_sessions_with_items_done(world, programme):
    two_qualifying_sessions(programme)

    response = signed_in(world.physio).get("/console/programmes/proposals/")

    text = page_text(response)
    assert response.status_code == 200
    assert "Chair squat" in text
    assert "Sun 1 Nov 2026" in text  # the older session
    assert "Tue 3 Nov 2026" in text
    assert text.count("2 sets of 10 repetitions") >= 4  # done and prescribed, both sessions
    assert AccessEvent.objects.filter(resource_type="progression_proposal").count() == 2


def test_evidence_sessions_are_dated_in_the_patients_own_time_zone(world, programme):
    world.patient.timezone = "America/Los_Angeles"
    world.patient.save(update_fields=["timezone"])
    two_qualifying_sessions(programme)

    text = page_text(signed_in(world.physio).get("/console/programmes/proposals/"))

    # The newer session began on 3 November at 08:00 UTC: midnight in Los Angeles (UTC-8).
    assert "Tue 3 Nov 2026, 00:00" in text
    assert "Tue 3 Nov 2026, 08:00" not in text


def test_accepting_a_proposal_makes_a_new_version(world, programme):
    two_qualifying_sessions(programme)
    proposal = ProgressionProposal.objects.get(change="sets")

    response = signed_in(world.physio).post(
        f"/console/programmes/proposals/{proposal.pk}/accept/", HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert "the programme is now version 2" in page_text(response)
    programme.refresh_from_db()
    assert programme.current_version is not None
    assert programme.current_version.items.get(position=1).sets == 3


def test_a_nurse_cannot_accept_and_is_told_why(world, programme):
    two_qualifying_sessions(programme)
    proposal = ProgressionProposal.objects.get(change="sets")

    response = signed_in(world.nurse).post(
        f"/console/programmes/proposals/{proposal.pk}/accept/", follow=True
    )

    assert "Only a physiotherapist may change a programme." in page_text(response)
    proposal.refresh_from_db()
    assert proposal.status == "open"


def test_dismissing_without_htmx_returns_to_the_list(world, programme):
    two_qualifying_sessions(programme)
    proposal = ProgressionProposal.objects.get(change="sets")

    response = signed_in(world.physio).post(f"/console/programmes/proposals/{proposal.pk}/dismiss/")

    assert response["Location"] == "/console/programmes/proposals/"
    proposal.refresh_from_db()
    assert proposal.status == "dismissed"


def test_another_team_cannot_decide_a_proposal(world, programme):
    two_qualifying_sessions(programme)
    proposal = ProgressionProposal.objects.get(change="sets")

    response = signed_in(world.other_team_physio).post(
        f"/console/programmes/proposals/{proposal.pk}/accept/"
    )

    assert response.status_code == 404


# --- The printable programme ----------------------------------------------------------------


def test_the_printable_programme_says_each_dose_in_words(world, library, programme):
    library["curl"].safety_notes = "Keep the weight off a calcinosis site."
    library["curl"].save()

    response = signed_in(world.physio).get(
        f"/console/programmes/patient/{world.patient.pk}/programme/print/"
    )

    text = page_text(response)
    assert response.status_code == 200
    assert "2 sets of 12 repetitions with 2 kg" in text
    assert "10 minutes" in text
    assert "Keep the weight off a calcinosis site." in text
    assert "2 to 3 sessions a week" in text
    assert "Monday, Wednesday, Friday" in text
    assert 'aria-label="Main"' not in text  # no navigation on paper


def test_no_printable_page_without_a_programme_in_force(world):
    response = signed_in(world.physio).get(
        f"/console/programmes/patient/{world.patient.pk}/programme/print/"
    )

    assert response.status_code == 404


# --- Query counts: the same for one row as for many -----------------------------------------


def _programme_of(world, library, n_items: int) -> Programme:
    extra = [make_exercise(f"Extra {i}", body_regions=["arm"]) for i in range(n_items)]
    items = [{"exercise": e.pk, "sets": 2, "reps": 8} for e in extra]
    return programme_create(
        by=world.physio,
        patient=world.patient,
        content=content(library, items=items),
        activate=True,
    ).programme


@pytest.mark.parametrize("n", [1, 8])
def test_builder_query_count(world, library, n, django_assert_num_queries):
    _programme_of(world, library, n)
    client = signed_in(world.physio)

    with django_assert_num_queries(BUILDER_QUERIES):
        client.get(builder_url(world.patient))


@pytest.mark.parametrize("n", [1, 8])
def test_print_query_count(world, library, n, django_assert_num_queries):
    _programme_of(world, library, n)
    client = signed_in(world.physio)

    with django_assert_num_queries(PRINT_QUERIES):
        client.get(f"/console/programmes/patient/{world.patient.pk}/programme/print/")


@pytest.mark.parametrize("n", [1, 8])
def test_template_list_query_count(world, library, n, django_assert_num_queries):
    programme = _programme_of(world, library, 2)
    for i in range(n):
        template_create(by=world.physio, name=f"T{i}", programme=programme)
    client = signed_in(world.physio)

    with django_assert_num_queries(TEMPLATE_LIST_QUERIES):
        client.get("/console/programmes/templates/")


@pytest.mark.parametrize("n", [1, 8])
def test_template_detail_query_count(world, library, n, django_assert_num_queries):
    template = template_create(
        by=world.physio, name="T", programme=_programme_of(world, library, n)
    )
    client = signed_in(world.physio)

    with django_assert_num_queries(TEMPLATE_DETAIL_QUERIES):
        client.get(f"/console/programmes/templates/{template.pk}/")


@pytest.mark.parametrize("n", [1, 4])
def test_proposal_list_query_count(world, library, n, django_assert_num_queries):
    for _ in range(n):
        patient = PatientProfileFactory.create(user__organisation=world.org)
        CareTeamMembershipFactory.create(patient=patient, member=world.physio)
        programme = programme_create(
            by=world.physio, patient=patient, content=content(library), activate=True
        ).programme
        two_qualifying_sessions(programme)
    client = signed_in(world.physio)

    with django_assert_num_queries(PROPOSAL_LIST_QUERIES):
        client.get("/console/programmes/proposals/")


# Pinned as measured; each page starts with the session and the signed-in user (2).
# Builder: the patient, the programme in hand, its items with their exercises, the library
# for the rows' choices, the open proposals' count, the library's search page, the audit event.
BUILDER_QUERIES = 10
# Print: the patient, the programme in force, its items with their exercises, the audit event.
PRINT_QUERIES = 6
# Template list: the templates with their authors.
TEMPLATE_LIST_QUERIES = 3
# Template detail: the template, its exercises (one query), the patients to prescribe to.
TEMPLATE_DETAIL_QUERIES = 5
# Proposals: the page of proposals with patient and item, the audit event, the evidence's
# item results (one query for the page).
PROPOSAL_LIST_QUERIES = 5
