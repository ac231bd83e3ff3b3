"""The exercise library through the API: what clinicians and patients see, the filters, and
who may add or edit which exercise (issue 3, "Exercise library")."""

from __future__ import annotations

from typing import Any

import pytest

from backend.exercise.library_data import STARTER_EXERCISES
from backend.exercise.models import Exercise
from backend.exercise.services.programmes import programme_create
from tests.exercise.conftest import content, make_exercise

pytestmark = pytest.mark.django_db

EXERCISES = "/api/v1/exercises/"


def detail(exercise_id: int) -> str:
    return f"{EXERCISES}{exercise_id}/"


def listed(client, **query: Any) -> list[dict[str, Any]]:
    response = client.get(EXERCISES, {"page_size": 200, **query})
    assert response.status_code == 200, response.json()
    assert response.json()["next"] is None  # everything fits on the page
    return response.json()["results"]


def names(rows: list[dict[str, Any]]) -> set[str]:
    return {row["name"] for row in rows}


def own(rows: list[dict[str, Any]]) -> set[str]:
    """The names of the organisation's own exercises among the rows."""
    return {row["name"] for row in rows if not row["is_global"]}


def new_exercise(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "Wobbleboard heel raise",
        "instructions": "1. Stand on the board holding the wall.\n2. Rise onto your toes.",
        "category": "balance",
        "body_regions": ["ankle", "leg"],
        "muscle_groups": ["ankle_dorsiflexors"],
        "equipment": ["wall"],
        "video_url": "https://videos.example.org/heel-raise.mp4",
        "default_dose": {
            "sets": 2,
            "reps": 8,
            "load_value": "1.50",
            "load_unit": "kg",
            "rest_seconds": 45,
            "intensity_scale": "cr10",
            "intensity_target": "3.0",
        },
        "safety_notes": "Avoid if a calcinosis nodule sits on the sole of the foot.",
    }
    return {**base, **overrides}


@pytest.fixture
def org_exercises(world) -> dict[str, Exercise]:
    """world.org's own exercises with unusual names, and one of the other organisation."""
    exercises = {
        "band": make_exercise(
            "Zephyr band row",
            body_regions=["shoulder", "arm"],
            muscle_groups=["deltoid_middle"],
            equipment=["band"],
            organisation=world.org,
            created_by=world.physio,
        ),
        "ball": make_exercise(
            "Zephyr ball bridge",
            "functional",
            body_regions=["hip", "trunk"],
            muscle_groups=["gluteus_maximus"],
            equipment=["ball", "mat"],
            organisation=world.org,
            created_by=world.physio,
        ),
        "walk": make_exercise(
            "Zephyr corridor walk",
            "aerobic",
            body_regions=["whole_body"],
            muscle_groups=[],
            equipment=["none"],
            organisation=world.org,
            created_by=world.physio,
        ),
        "foreign": make_exercise(
            "Zephyr foreign lunge",
            body_regions=["leg"],
            equipment=["dumbbell"],
            organisation=world.other_org,
            created_by=world.other_org_physio,
        ),
    }
    ball = exercises["ball"]
    ball.instructions = "Lie on the mat, heels on the BALL, and lift the hips like a quokka."
    ball.save(update_fields=["instructions"])
    return exercises


# --- What clinicians see ------------------------------------------------------------------------


def test_clinician_sees_the_global_library_and_their_organisations_exercises(
    world, library, org_exercises, client_for
):
    # when
    rows = listed(client_for(world.physio))

    # then
    starters = {exercise["name"] for exercise in STARTER_EXERCISES}
    fixture_library = {exercise.name for exercise in library.values()}
    assert names(rows) == starters | fixture_library | {
        "Zephyr band row",
        "Zephyr ball bridge",
        "Zephyr corridor walk",
    }
    assert own(rows) == {"Zephyr band row", "Zephyr ball bridge", "Zephyr corridor walk"}
    assert all(row["is_global"] for row in rows if row["name"] in starters)


def test_clinician_never_sees_another_organisations_exercise(world, org_exercises, client_for):
    # when
    rows = listed(client_for(world.physio))
    foreign = client_for(world.physio).get(detail(org_exercises["foreign"].pk))
    their_own = listed(client_for(world.other_org_physio), q="zephyr")

    # then
    assert "Zephyr foreign lunge" not in names(rows)
    assert foreign.status_code == 404
    assert names(their_own) == {"Zephyr foreign lunge"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"category": "functional"}, {"Zephyr ball bridge"}),
        ({"category": "aerobic"}, {"Zephyr corridor walk"}),
        ({"region": "shoulder"}, {"Zephyr band row"}),
        ({"region": "hip"}, {"Zephyr ball bridge"}),
        ({"muscle_group": "deltoid_middle"}, {"Zephyr band row"}),
        ({"muscle_group": "gluteus_maximus"}, {"Zephyr ball bridge"}),
        ({"equipment": "band"}, {"Zephyr band row"}),
        ({"equipment": "mat"}, {"Zephyr ball bridge"}),
        ({"q": "zEpHyR"}, {"Zephyr band row", "Zephyr ball bridge", "Zephyr corridor walk"}),
        ({"q": "QUOKKA"}, {"Zephyr ball bridge"}),
        ({"q": "corridor"}, {"Zephyr corridor walk"}),
    ],
)
def test_a_filter_narrows_the_library(world, org_exercises, client_for, query, expected):
    # when
    rows = listed(client_for(world.physio), **query)

    # then: among the organisation's own exercises exactly the expected ones
    assert own(rows) == expected
    # and every row shown matches the filter
    for row in rows:
        if "category" in query:
            assert row["category"] == query["category"]
        if "region" in query:
            assert query["region"] in row["body_regions"]
        if "muscle_group" in query:
            assert query["muscle_group"] in row["muscle_groups"]
        if "equipment" in query:
            assert query["equipment"] in row["equipment"]
        if "q" in query:
            text = f"{row['name']} {row['instructions']}".lower()
            assert query["q"].lower() in text


def test_filters_combine(world, org_exercises, client_for):
    # when
    rows = listed(client_for(world.physio), q="zephyr", category="resistance", equipment="band")

    # then
    assert names(rows) == {"Zephyr band row"}


def test_text_search_finds_global_exercises_too(world, client_for):
    # given
    starter = STARTER_EXERCISES[0]["name"]

    # when
    rows = listed(client_for(world.physio), q=starter.upper())

    # then
    assert starter in names(rows)
    assert all(row["is_global"] for row in rows)


# --- What patients see --------------------------------------------------------------------------


def test_patient_sees_only_the_exercises_of_their_programme(
    world, library, programme, org_exercises, client_for
):
    # when
    rows = listed(client_for(world.patient.user))

    # then
    assert names(rows) == {"Chair squat", "Biceps curl", "Stationary cycling"}


def test_patient_cannot_open_an_exercise_outside_their_programme(
    world, library, programme, org_exercises, client_for
):
    # given
    patient = client_for(world.patient.user)
    starter = Exercise.objects.get(name=STARTER_EXERCISES[0]["name"])

    # when
    inside = patient.get(detail(library["squat"].pk))
    outside = [
        patient.get(detail(exercise.pk)).status_code
        for exercise in (library["stretch"], starter, org_exercises["band"])
    ]

    # then
    assert inside.status_code == 200
    assert inside.json()["name"] == "Chair squat"
    assert outside == [404, 404, 404]


def test_caregiver_sees_the_exercises_of_the_patients_programme(
    world, library, programme, client_for
):
    # when
    rows = listed(client_for(world.caregiver))

    # then
    assert names(rows) == {"Chair squat", "Biceps curl", "Stationary cycling"}


def test_patient_with_only_a_draft_programme_sees_no_exercise(world, library, client_for):
    # given
    programme_create(by=world.physio, patient=world.patient, content=content(library))

    # when
    rows = listed(client_for(world.patient.user))
    opened = client_for(world.patient.user).get(detail(library["squat"].pk))

    # then
    assert rows == []
    assert opened.status_code == 404


def test_patient_does_not_see_another_patients_programme_exercises(
    world, library, programme, client_for
):
    # when
    rows = listed(client_for(world.other_patient.user))

    # then
    assert rows == []


# --- Adding and editing -------------------------------------------------------------------------


def test_clinician_adds_an_exercise_to_their_organisation(world, client_for):
    # given
    data = new_exercise()

    # when
    response = client_for(world.physio).post(EXERCISES, data, format="json")

    # then
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["is_global"] is False
    assert created["name"] == data["name"]
    assert created["body_regions"] == ["ankle", "leg"]
    assert created["safety_notes"] == data["safety_notes"]
    assert created["default_dose"]["load_value"] == "1.50"
    assert created["default_dose"]["load_unit"] == "kg"
    assert created["default_dose"]["sets"] == 2
    assert created["default_dose"]["intensity_scale"] == "cr10"
    assert Exercise.objects.get(pk=created["id"]).organisation == world.org
    # and it comes back the same when read again
    again = client_for(world.nurse).get(detail(created["id"]))
    assert again.status_code == 200
    assert again.json()["default_dose"] == created["default_dose"]


def test_a_second_exercise_with_the_same_name_in_one_organisation_conflicts(world, client_for):
    # given
    assert (
        client_for(world.physio).post(EXERCISES, new_exercise(), format="json").status_code == 201
    )

    # when
    response = client_for(world.nurse).post(EXERCISES, new_exercise(), format="json")

    # then
    assert response.status_code == 409
    assert "name" in response.json()["errors"]
    assert Exercise.objects.filter(name=new_exercise()["name"]).count() == 1


def test_the_same_name_in_another_organisation_is_fine(world, client_for):
    # given
    assert (
        client_for(world.physio).post(EXERCISES, new_exercise(), format="json").status_code == 201
    )

    # when
    response = client_for(world.other_org_physio).post(EXERCISES, new_exercise(), format="json")

    # then
    assert response.status_code == 201, response.json()
    assert Exercise.objects.filter(name=new_exercise()["name"]).count() == 2


def test_an_unknown_body_region_is_refused(world, client_for):
    # when
    response = client_for(world.physio).post(
        EXERCISES, new_exercise(body_regions=["elbow"]), format="json"
    )

    # then
    assert response.status_code == 400
    assert "body_regions" in response.json()["errors"]
    assert not Exercise.objects.filter(name=new_exercise()["name"]).exists()


def test_patient_cannot_add_an_exercise(world, client_for):
    # when
    response = client_for(world.patient.user).post(EXERCISES, new_exercise(), format="json")

    # then
    assert response.status_code == 403
    assert not Exercise.objects.filter(name=new_exercise()["name"]).exists()


def test_clinician_edits_their_organisations_exercise(world, org_exercises, client_for):
    # given
    exercise = org_exercises["band"]

    # when
    response = client_for(world.physio).patch(
        detail(exercise.pk),
        {
            "safety_notes": "Keep the band away from elbow calcinosis.",
            "equipment": ["band", "wall"],
        },
        format="json",
    )

    # then
    assert response.status_code == 200, response.json()
    assert response.json()["safety_notes"] == "Keep the band away from elbow calcinosis."
    assert response.json()["equipment"] == ["band", "wall"]
    assert response.json()["name"] == "Zephyr band row"
    exercise.refresh_from_db()
    assert exercise.equipment == ["band", "wall"]


def test_renaming_onto_another_exercise_of_the_organisation_conflicts(
    world, org_exercises, client_for
):
    # when
    response = client_for(world.physio).patch(
        detail(org_exercises["walk"].pk), {"name": "Zephyr band row"}, format="json"
    )

    # then
    assert response.status_code == 409
    assert "name" in response.json()["errors"]
    org_exercises["walk"].refresh_from_db()
    assert org_exercises["walk"].name == "Zephyr corridor walk"


def test_global_exercise_cannot_be_edited(world, client_for):
    # given
    starter = Exercise.objects.get(name=STARTER_EXERCISES[0]["name"])

    # when
    response = client_for(world.physio).patch(
        detail(starter.pk), {"safety_notes": "Changed."}, format="json"
    )

    # then
    assert response.status_code == 403
    starter.refresh_from_db()
    assert starter.safety_notes == STARTER_EXERCISES[0]["safety_notes"]


def test_another_organisations_exercise_cannot_be_edited(world, org_exercises, client_for):
    # given
    foreign = org_exercises["foreign"]

    # when
    response = client_for(world.physio).patch(
        detail(foreign.pk), {"name": "Taken over"}, format="json"
    )

    # then
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.name == "Zephyr foreign lunge"
