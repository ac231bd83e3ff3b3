"""Programme templates: saved by physiotherapists, read by the organisation's clinicians,
prescribed through the programme's own rules."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.exercise.models import Programme, ProgrammeTemplate
from backend.exercise.services.templates import template_create
from tests.exercise.conftest import content, make_exercise

pytestmark = pytest.mark.django_db

TODAY = "2026-11-02T09:00:00+00:00"


def template_body(library, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Early strength, JDM",
        "description": "Low start for a child after a flare.",
        "content": {
            "goals": "Climb stairs",
            "sessions_per_week_min": 2,
            "sessions_per_week_max": 3,
            "training_weekdays": [1, 4],
            "items": [
                {"exercise": library["squat"].pk, "sets": 2, "reps": 8},
                {
                    "exercise": library["curl"].pk,
                    "sets": 2,
                    "reps": 10,
                    "load_unit": "kg",
                    "load_value": "1.50",
                },
                {
                    "exercise": library["bike"].pk,
                    "duration_minutes": 10,
                    "intensity_scale": "rpe_6_20",
                    "intensity_target": "11.0",
                },
            ],
        },
    }
    return {**body, **overrides}


def stored_template(world, library, name: str = "Early strength, JDM") -> ProgrammeTemplate:
    body = template_body(library)
    items = body["content"]["items"]
    return template_create(by=world.physio, name=name, content={**body["content"], "items": items})


def test_a_physiotherapist_saves_a_template_the_nurse_then_reads(world, library, client_for):
    created = client_for(world.physio).post(
        "/api/v1/programme-templates/", template_body(library), format="json"
    )

    listed = client_for(world.nurse).get("/api/v1/programme-templates/").json()["results"]
    assert created.status_code == 201, created.content
    assert [t["name"] for t in listed] == ["Early strength, JDM"]
    item = listed[0]["content"]["items"][1]
    assert (item["exercise"], item["sets"], item["load_value"], item["load_unit"]) == (
        library["curl"].pk,
        2,
        "1.50",
        "kg",
    )
    assert item["duration_minutes"] is None
    assert listed[0]["content"]["training_weekdays"] == [1, 4]
    assert listed[0]["created_by"]["id"] == world.physio.pk


def test_another_organisation_neither_lists_nor_reads_it(world, library, client_for):
    template = stored_template(world, library)
    client = client_for(world.other_org_physio)

    assert client.get("/api/v1/programme-templates/").json()["results"] == []
    assert client.get(f"/api/v1/programme-templates/{template.pk}/").status_code == 404


def test_patient_side_sees_no_template(world, library, client_for):
    template = stored_template(world, library)

    for user in (world.patient.user, world.caregiver):
        client = client_for(user)
        assert client.get("/api/v1/programme-templates/").json()["results"] == []
        assert client.get(f"/api/v1/programme-templates/{template.pk}/").status_code == 404


def test_a_nurse_may_not_write_templates(world, library, client_for):
    response = client_for(world.nurse).post(
        "/api/v1/programme-templates/", template_body(library), format="json"
    )

    assert response.status_code == 403
    assert not ProgrammeTemplate.objects.exists()


def test_a_dose_the_programme_rules_refuse_is_refused_with_the_items_error(
    world, library, client_for
):
    body = template_body(library)
    body["content"]["items"][2] = {"exercise": library["bike"].pk, "sets": 2}  # no duration

    response = client_for(world.physio).post("/api/v1/programme-templates/", body, format="json")

    assert response.status_code == 400
    assert "duration_minutes" in response.json()["errors"]["items"]["2"][0]
    assert not ProgrammeTemplate.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"colour": "blue"}, "colour"),
        ({"content": {"items": []}}, "content"),
    ],
)
def test_malformed_bodies_are_400_with_the_field(world, library, client_for, change, field):
    response = client_for(world.physio).post(
        "/api/v1/programme-templates/", template_body(library, **change), format="json"
    )

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_name_is_once_per_organisation_until_archived(world, library, client_for):
    template = stored_template(world, library)
    client = client_for(world.physio)

    again = client.post("/api/v1/programme-templates/", template_body(library), format="json")
    archived = client.delete(f"/api/v1/programme-templates/{template.pk}/")
    reused = client.post("/api/v1/programme-templates/", template_body(library), format="json")

    assert again.status_code == 409
    assert "name" in again.json()["errors"]
    assert archived.status_code == 204
    assert client.get(f"/api/v1/programme-templates/{template.pk}/").status_code == 404
    assert reused.status_code == 201


def test_a_patch_renames_and_a_bad_content_changes_nothing(world, library, client_for):
    template = stored_template(world, library)
    client = client_for(world.physio)
    url = f"/api/v1/programme-templates/{template.pk}/"

    renamed = client.patch(url, {"name": "Block A"}, format="json")
    bad = client.patch(
        url,
        {"name": "Block B", "content": {"items": [{"exercise": library["bike"].pk}]}},
        format="json",
    )

    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Block A"
    assert bad.status_code == 400
    template.refresh_from_db()
    assert template.name == "Block A"
    assert len(template.content["items"]) == 3


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ({}, "content.items"),  # content is whole when sent, never a part of it
        ({"items": [{"sets": 3}]}, "content.items.0.exercise"),  # an item without exercise
    ],
)
def test_a_patch_with_partial_content_is_400_naming_the_field(
    world, library, client_for, content, field
):
    template = stored_template(world, library)
    url = f"/api/v1/programme-templates/{template.pk}/"

    response = client_for(world.physio).patch(url, {"content": content}, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["detail"].startswith(f"{field}: This field is required.")
    template.refresh_from_db()
    assert len(template.content["items"]) == 3


def test_a_physiotherapist_of_the_team_prescribes_from_it(world, library, client_for):
    template = stored_template(world, library)

    with time_machine.travel(TODAY, tick=False):
        response = client_for(world.physio).post(
            f"/api/v1/programme-templates/{template.pk}/prescribe/",
            {"patient": world.patient.pk, "activate": True},
            format="json",
        )

    assert response.status_code == 201, response.content
    version = response.json()["programme"]["version"]
    assert response.json()["programme"]["status"] == "active"
    assert (version["title"], version["start_date"], version["training_weekdays"]) == (
        "Early strength, JDM",
        "2026-11-02",
        [1, 4],
    )
    doses = [(i["exercise"]["id"], i["sets"], i["load_value"]) for i in version["items"]]
    assert doses == [
        (library["squat"].pk, 2, None),
        (library["curl"].pk, 2, "1.50"),
        (library["bike"].pk, None, None),
    ]
    assert version["items"][2]["intensity_target"] == "11.0"


@pytest.mark.parametrize(
    ("who", "status"),
    [("nurse", 403), ("other_team_physio", 404), ("other_org_physio", 404), ("caregiver", 404)],
)
def test_who_may_not_prescribe_from_it(world, library, client_for, who, status):
    template = stored_template(world, library)

    response = client_for(getattr(world, who)).post(
        f"/api/v1/programme-templates/{template.pk}/prescribe/",
        {"patient": world.patient.pk},
        format="json",
    )

    assert response.status_code == status
    assert not Programme.objects.exists()


def test_prescribing_more_than_four_exercises_warns(world, library, client_for):
    items = [{"exercise": e.pk, "sets": 2, "reps": 8} for e in library.values()]
    items[2] = {"exercise": library["bike"].pk, "duration_minutes": 10}
    items[3] = {"exercise": library["stretch"].pk, "sets": 2, "hold_seconds": 20}
    template = template_create(by=world.physio, name="Five", content={"items": items})

    response = client_for(world.physio).post(
        f"/api/v1/programme-templates/{template.pk}/prescribe/",
        {"patient": world.patient.pk},
        format="json",
    )

    assert response.status_code == 201
    assert "5 exercises prescribed" in response.json()["warnings"][0]


def test_a_programme_is_saved_as_a_template_of_its_version_in_force(
    world, library, programme, client_for
):
    response = client_for(world.physio).post(
        f"/api/v1/programmes/{programme.pk}/save-as-template/",
        {"name": "From Sam's block"},
        format="json",
    )

    assert response.status_code == 201, response.content
    saved = response.json()["content"]
    expected = content(library)
    assert saved["training_weekdays"] == expected["training_weekdays"]
    assert [(i["exercise"], i["sets"], i["reps"]) for i in saved["items"]] == [
        (i["exercise"], i.get("sets"), i.get("reps")) for i in expected["items"]
    ]
    assert saved["items"][0]["intensity_target"] == "11.0"


@pytest.mark.parametrize(("who", "status"), [("patient", 403), ("other_team_physio", 404)])
def test_who_may_not_save_a_programme_as_template(world, programme, client_for, who, status):
    user = world.patient.user if who == "patient" else getattr(world, who)

    response = client_for(user).post(
        f"/api/v1/programmes/{programme.pk}/save-as-template/", {"name": "Mine"}, format="json"
    )

    assert response.status_code == status
    assert not ProgrammeTemplate.objects.exists()


def test_an_organisation_exercise_of_another_organisation_cannot_be_in_a_template(
    world, library, client_for
):
    foreign = make_exercise("Their step-up", organisation=world.other_org)
    body = template_body(library)
    body["content"]["items"] = [{"exercise": foreign.pk, "sets": 2, "reps": 8}]

    response = client_for(world.physio).post("/api/v1/programme-templates/", body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"]["items"]["0"] == ["No such exercise in your library."]


@pytest.mark.parametrize("n", [1, 12])
def test_the_list_runs_a_fixed_number_of_queries(world, library, client_for, n):
    for i in range(n):
        stored_template(world, library, name=f"Template {i}")
    client = client_for(world.nurse)

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/programme-templates/")

    assert response.json()["count"] == n
    # the user (JWT), the count, the page with its authors
    assert len(queries) == 3, [q["sql"] for q in queries]
