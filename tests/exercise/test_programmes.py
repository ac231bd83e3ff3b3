"""Prescribing: validation, one active programme, immutable versions, status, ETag."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection

from backend.alerts.models import Notification
from backend.exercise.models import Programme, ProgrammeVersion, SessionLog
from tests.exercise.conftest import as_json, content, make_exercise, session_body

pytestmark = pytest.mark.django_db


def _prescribe(client, world, body, **extra):
    return client.post(
        "/api/v1/programmes/", {**as_json(body), "patient": world.patient.pk, **extra}
    )


def test_a_physio_prescribes_a_draft_the_patient_cannot_see_yet(world, library, client_for):
    created = _prescribe(client_for(world.physio), world, content(library))

    assert created.status_code == 201, created.json()
    programme = created.json()["programme"]
    assert programme["status"] == "draft"
    assert programme["version"]["number"] == 1
    assert [item["position"] for item in programme["version"]["items"]] == [1, 2, 3]
    assert created.json()["warnings"] == []
    patient_view = client_for(world.patient.user).get(f"/api/v1/programmes/{programme['id']}/")
    assert patient_view.status_code == 404


def test_more_than_four_exercises_warns_but_prescribes(world, library, client_for):
    items = [
        {"exercise": exercise.pk, "sets": 1, "reps": 8, "hold_seconds": None}
        for exercise in library.values()
        if exercise.category != "aerobic"
    ]
    items.append({"exercise": library["bike"].pk, "duration_minutes": 10})

    created = _prescribe(client_for(world.physio), world, content(library, items=items))

    assert created.status_code == 201, created.json()
    assert "5 exercises" in created.json()["warnings"][0]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sessions_per_week_min": 4, "sessions_per_week_max": 3}, "sessions_per_week_min"),
        ({"sessions_per_week_max": 8}, "sessions_per_week_max"),
        ({"sessions_per_week_min": 0}, "sessions_per_week_min"),
        ({"review_date": "2026-09-01"}, "review_date"),
        ({"items": []}, "items"),
        ({"training_weekdays": [9]}, "training_weekdays"),
    ],
)
def test_invalid_programmes_are_refused_per_field(world, library, client_for, change, field):
    response = _prescribe(client_for(world.physio), world, {**content(library), **change})

    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert not Programme.objects.exists()


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"sets": 2}, "reps or hold_seconds"),
        ({"reps": 10}, "needs sets"),
        ({"sets": 2, "reps": 10, "load_unit": "kg"}, "load_value"),
        ({"sets": 2, "reps": 10, "load_unit": "band"}, "band_colour"),
        ({"sets": 2, "reps": 10, "intensity_scale": "cr10", "intensity_target": 15}, "0–10"),
        ({"sets": 2, "reps": 10, "intensity_target": 12}, "go together"),
    ],
)
def test_a_dose_must_fit_its_exercise(world, library, client_for, item, message):
    items = [{"exercise": library["squat"].pk, **item}]

    response = _prescribe(client_for(world.physio), world, content(library, items=items))

    assert response.status_code == 400
    assert message in " ".join(response.json()["errors"]["items"]["0"])


def test_an_aerobic_item_needs_a_duration(world, library, client_for):
    items = [{"exercise": library["bike"].pk, "sets": 2}]

    response = _prescribe(client_for(world.physio), world, content(library, items=items))

    assert "duration_minutes" in response.json()["errors"]["items"]["0"][0]


def test_another_organisations_exercise_cannot_be_prescribed(world, library, client_for):
    foreign = make_exercise("Their secret squat", organisation=world.other_org)
    items = [{"exercise": foreign.pk, "sets": 2, "reps": 8}]

    response = _prescribe(client_for(world.physio), world, content(library, items=items))

    assert response.status_code == 400
    assert response.json()["errors"]["items"]["0"] == ["No such exercise in your library."]


@pytest.mark.parametrize("who", ["nurse", "caregiver", "patient"])
def test_only_the_care_team_physio_prescribes(world, library, client_for, who):
    user = {"nurse": world.nurse, "caregiver": world.caregiver, "patient": world.patient.user}[who]

    response = _prescribe(client_for(user), world, content(library))

    assert response.status_code == 403
    assert not Programme.objects.exists()


def test_a_physio_of_another_team_gets_404_for_the_patient(world, library, client_for):
    response = _prescribe(client_for(world.other_team_physio), world, content(library))

    assert response.status_code == 404


def test_a_patient_has_at_most_one_active_programme(world, library, client_for, programme):
    client = client_for(world.physio)
    second = _prescribe(client, world, content(library, title="Second")).json()["programme"]

    response = client.post(f"/api/v1/programmes/{second['id']}/activate/")

    assert response.status_code == 409
    assert response.json()["code"] == "active_programme_exists"
    assert Programme.objects.filter(patient=world.patient, status="active").count() == 1


def test_revising_an_active_programme_makes_a_new_version_and_keeps_the_old(
    world, library, client_for, programme
):
    client = client_for(world.physio)
    patient = client_for(world.patient.user)
    old_version = programme.current_version
    logged = patient.post("/api/v1/sessions/", session_body(programme)).json()
    revised = content(library, title="Strength block 1 (harder)")
    revised["items"][0]["reps"] = 12

    without_reason = client.post(f"/api/v1/programmes/{programme.pk}/versions/", as_json(revised))
    response = client.post(
        f"/api/v1/programmes/{programme.pk}/versions/",
        {**as_json(revised), "reason": "Managing 10 reps easily"},
    )

    assert without_reason.status_code == 400
    assert "reason" in without_reason.json()["errors"]
    assert response.status_code == 201, response.json()
    assert response.json()["programme"]["version"]["number"] == 2
    versions = client.get(f"/api/v1/programmes/{programme.pk}/versions/").json()["results"]
    assert [v["number"] for v in versions] == [1, 2]
    assert versions[0]["items"][0]["reps"] == 10
    assert versions[1]["items"][0]["reps"] == 12
    assert versions[1]["reason"] == "Managing 10 reps easily"
    assert versions[1]["author"]["id"] == world.physio.pk
    # The log still points at what was done.
    assert SessionLog.objects.get(pk=logged["id"]).version_id == old_version.pk
    assert patient.get(f"/api/v1/sessions/{logged['id']}/").json()["version_number"] == 1


def test_the_patient_and_caregiver_are_told_when_the_programme_changes(
    world, library, client_for, programme
):
    revised = content(library)
    revised["items"][1]["load_value"] = 3
    client_for(world.physio).post(
        f"/api/v1/programmes/{programme.pk}/versions/", {**as_json(revised), "reason": "Heavier"}
    )

    inbox = client_for(world.patient.user).get("/api/v1/notifications/").json()["results"]

    changed = [n for n in inbox if n["kind"] == "programme_changed"]
    assert len(changed) == 1
    assert changed[0]["subject_type"] == "programme"
    assert changed[0]["subject_id"] == programme.pk
    assert "Heavier" in changed[0]["body"]
    assert (
        Notification.objects.filter(recipient=world.caregiver, kind="programme_changed").count()
        == 1
    )


def test_a_draft_is_edited_in_place(world, library, client_for):
    client = client_for(world.physio)
    draft = _prescribe(client, world, content(library)).json()["programme"]

    client.post(
        f"/api/v1/programmes/{draft['id']}/versions/",
        as_json(content(library, title="Renamed draft")),
    )

    assert ProgrammeVersion.objects.filter(programme_id=draft["id"]).count() == 1
    assert ProgrammeVersion.objects.get(programme_id=draft["id"]).title == "Renamed draft"
    assert not Notification.objects.filter(kind="programme_changed").exists()


def test_pause_resume_complete(world, client_for, programme):
    physio, nurse = client_for(world.physio), client_for(world.nurse)
    url = f"/api/v1/programmes/{programme.pk}"

    paused = nurse.post(f"{url}/pause/", {"reason": "flare", "note": "Rash and fatigue"})
    paused_again = nurse.post(f"{url}/pause/", {"reason": "flare"})
    no_reason = physio.post(f"{url}/pause/", {})
    resumed = physio.post(f"{url}/activate/")
    completed = physio.post(f"{url}/complete/", {"note": "Block finished"})
    revived = physio.post(f"{url}/activate/")

    assert paused.status_code == 200
    assert paused.json()["status"] == "paused"
    assert paused.json()["pause_reason"] == "flare"
    assert paused_again.status_code == 200
    assert no_reason.status_code == 400
    assert "reason" in no_reason.json()["errors"]
    assert resumed.json()["status"] == "active"
    assert resumed.json()["pause_reason"] == ""
    assert completed.json()["status"] == "completed"
    assert revived.status_code == 409
    statuses = list(programme.events.values_list("status", flat=True))
    assert statuses == ["active", "paused", "active", "completed"]


def test_a_nurse_may_pause_but_not_complete(world, client_for, programme):
    response = client_for(world.nurse).post(f"/api/v1/programmes/{programme.pk}/complete/", {})

    assert response.status_code == 403


def test_the_current_programme_is_one_self_contained_response_with_an_etag(
    world, library, client_for, programme
):
    patient = client_for(world.patient.user)

    first = patient.get("/api/v1/programmes/current/")
    cached = patient.get("/api/v1/programmes/current/", HTTP_IF_NONE_MATCH=first["ETag"])

    assert first.status_code == 200
    item = first.json()["version"]["items"][1]
    assert item["exercise"]["name"] == "Biceps curl"
    assert item["exercise"]["safety_notes"] == ""
    assert item["load_value"] == "2.00"
    assert cached.status_code == 304
    assert cached["ETag"] == first["ETag"]

    revised = content(library)
    revised["items"][0]["reps"] = 14
    client_for(world.physio).post(
        f"/api/v1/programmes/{programme.pk}/versions/", {**as_json(revised), "reason": "More reps"}
    )
    changed = patient.get("/api/v1/programmes/current/", HTTP_IF_NONE_MATCH=first["ETag"])

    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]
    assert changed.json()["version"]["items"][0]["reps"] == 14


def test_a_caregiver_reads_the_current_programme_by_patient(world, client_for, programme):
    client = client_for(world.caregiver)

    named = client.get(f"/api/v1/programmes/current/?patient={world.patient.pk}")
    unnamed = client.get("/api/v1/programmes/current/")
    foreign = client.get(f"/api/v1/programmes/current/?patient={world.other_patient.pk}")

    assert named.status_code == 200
    assert named.json()["id"] == programme.pk
    assert unnamed.status_code == 404
    assert foreign.status_code == 404


def test_updated_since_returns_only_what_changed(world, library, client_for, programme):
    client = client_for(world.patient.user)
    stamp = (programme.updated_at + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")

    before = client.get(f"/api/v1/programmes/?updated_since={stamp}").json()["count"]
    revised = content(library)
    revised["items"][0]["reps"] = 11
    with time_machine.travel(programme.updated_at + timedelta(minutes=5)):
        client_for(world.physio).post(
            f"/api/v1/programmes/{programme.pk}/versions/", {**as_json(revised), "reason": "x"}
        )
    after = client.get(f"/api/v1/programmes/?updated_since={stamp}").json()["count"]

    assert (before, after) == (0, 1)


def test_an_edit_to_a_prescribed_exercise_changes_the_etag(world, library, client_for, programme):
    patient = client_for(world.patient.user)
    first = patient.get("/api/v1/programmes/current/")
    curl = library["curl"]
    curl.organisation = world.org  # an organisation's own exercise, editable by its clinicians
    curl.save()

    client_for(world.physio).patch(
        f"/api/v1/exercises/{curl.pk}/", {"safety_notes": "Keep the elbow away from the nodule"}
    )
    again = patient.get("/api/v1/programmes/current/", HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 200
    assert again.json()["version"]["items"][1]["exercise"]["safety_notes"].startswith("Keep")


def test_a_repeat_read_is_served_without_reading_the_items_again(world, client_for, programme):
    patient = client_for(world.patient.user)
    first = patient.get("/api/v1/programmes/current/")

    repeat_queries: list[str] = []

    def record(run, sql, *args):
        repeat_queries.append(sql)
        return run(sql, *args)

    with connection.execute_wrapper(record):
        repeat = patient.get("/api/v1/programmes/current/")
    client_for(world.physio).post(f"/api/v1/programmes/{programme.pk}/pause/", {"reason": "flare"})
    paused = patient.get("/api/v1/programmes/current/")

    assert repeat.json() == first.json()
    # the user, the programme with its ETag inputs; no items, no exercises
    assert len(repeat_queries) == 2, repeat_queries
    assert paused.json()["status"] == "paused"
    assert paused["ETag"] != first["ETag"]
    assert paused.json()["version"] == first.json()["version"]
