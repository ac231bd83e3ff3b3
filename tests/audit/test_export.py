"""GET /api/v1/me/export/: the patient's right of access. Everything PhysioTrack holds about
the calling patient, as one JSON document, and nothing about anyone else."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.exercise.services.programmes import programme_create
from tests.audit.conftest import events, log_session, raise_alert
from tests.exercise.conftest import as_json, content

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/me/export/"


def _history(world, client_for, programme, library, *, extra: int = 0) -> dict[str, Any]:
    """The patient's year in the app: a revision, logs (one edited, one deleted), a clinic
    measure, an alert, a push device, and the care team reading the record."""
    physio, patient = client_for(world.physio), client_for(world.patient.user)
    physio.post(
        f"/api/v1/programmes/{programme.pk}/versions/",
        as_json(content(library, title="Block 2")) | {"reason": "Progressing well"},
        format="json",
    )
    kept = log_session(programme, hours_ago=3).session
    gone = log_session(programme, hours_ago=2).session
    for hours in range(extra):
        log_session(programme, hours_ago=10 + hours)
    patient.patch(f"/api/v1/sessions/{kept.pk}/", {"note": "Knee ached"}, format="json")
    patient.delete(f"/api/v1/sessions/{gone.pk}/")
    assessment = physio.post(
        "/api/v1/assessments/",
        {
            "patient": world.patient.pk,
            "measure": "GRIP",
            "value": "11.0",
            "setting": "clinic",
            "measured_at": timezone.now().isoformat(),
        },
        format="json",
    ).json()
    for n in range(1 + extra):
        raise_alert(world.patient, key=f"mine-{extra}-{n}")
    patient.post(
        "/api/v1/devices/", {"platform": "android", "token": f"my-phone-{extra}"}, format="json"
    )
    physio.get(f"/api/v1/patients/{world.patient.pk}/summary/")
    return {"kept": kept, "gone": gone, "assessment": assessment}


def _someone_elses(world, library) -> dict[str, Any]:
    """Another patient of the same clinic with data of every kind."""
    world.other_patient.user.last_name = "Zwischenzug"
    world.other_patient.user.save()
    programme = programme_create(
        by=world.other_team_physio,
        patient=world.other_patient,
        content=content(library, title="Someone else's block"),
        activate=True,
    ).programme
    session = log_session(programme).session
    alert = raise_alert(world.other_patient, key="theirs")
    return {"programme": programme, "session": session, "alert": alert}


def test_the_export_holds_the_patients_whole_record(world, client_for, programme, library):
    mine = _history(world, client_for, programme, library)

    response = client_for(world.patient.user).get(EXPORT)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["profile"]["id"] == world.patient.pk
    assert {m["member"]["id"] for m in body["profile"]["care_team"]} == {
        world.physio.pk,
        world.nurse.pk,
    }
    assert body["consent"] == {"notifications": world.patient.notifications_consent}
    (exported,) = body["programmes"]
    assert [v["title"] for v in exported["versions"]] == ["Strength block 1", "Block 2"]
    assert all(len(v["items"]) == 3 for v in exported["versions"])
    assert [e["status"] for e in exported["status_history"]] == ["active"]
    sessions = {s["id"]: s for s in body["sessions"]}
    assert set(sessions) == {mine["kept"].pk, mine["gone"].pk}
    assert len(sessions[mine["kept"].pk]["results"]) == 3
    assert [r["action"] for r in sessions[mine["kept"].pk]["revisions"]] == ["edit"]
    assert sessions[mine["kept"].pk]["revisions"][0]["previous"]["note"] == "Felt fine"
    assert sessions[mine["gone"].pk]["deleted_at"] is not None
    assert [a["id"] for a in body["assessments"]] == [mine["assessment"]["id"]]
    assert [a["rule_id"] for a in body["alerts"]] == ["SYM-3"]
    assert {n["kind"] for n in body["notifications"]} >= {"programme_changed"}
    assert [d["token"] for d in body["devices"]] == ["my-phone-0"]
    assert {(e["actor_name"], e["action"]) for e in body["access_log"]} >= {
        (world.physio.display_name, "read"),
        (world.physio.display_name, "create"),
    }
    assert body["generated_at"]


def test_the_export_holds_nothing_of_another_patient(world, client_for, programme, library):
    _history(world, client_for, programme, library)
    theirs = _someone_elses(world, library)

    body = client_for(world.patient.user).get(EXPORT).json()

    text = json.dumps(body)
    assert "Zwischenzug" not in text
    assert "Someone else's block" not in text
    assert theirs["programme"].pk not in [p["id"] for p in body["programmes"]]
    assert theirs["session"].pk not in [s["id"] for s in body["sessions"]]
    assert theirs["alert"].pk not in [a["id"] for a in body["alerts"]]
    assert {a["patient"] for a in body["alerts"]} == {world.patient.pk}
    assert {n["patient"] for n in body["notifications"]} <= {world.patient.pk, None}
    assert {e["patient"] for e in body["access_log"]} == {world.patient.pk}


def test_the_export_is_recorded_in_the_audit_trail(world, client_for):
    client_for(world.patient.user).get(EXPORT)

    (event,) = events()
    assert (event.actor_id, event.action, event.patient_id) == (
        world.patient.user.pk,
        "export",
        world.patient.pk,
    )


@pytest.mark.parametrize("who", ["caregiver", "physio", "nurse", "org_admin"])
def test_only_the_patient_can_export(world, client_for, who):
    response = client_for(getattr(world, who)).get(EXPORT)

    assert response.status_code == 403
    assert events() == []


def test_anonymous_is_401(api_client):
    assert api_client.get(EXPORT).status_code == 401


def test_the_export_runs_a_fixed_number_of_queries(world, client_for, programme, library):
    def queries() -> int:
        client = client_for(world.patient.user)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(EXPORT).status_code == 200
        return len(captured)

    _history(world, client_for, programme, library)
    few = queries()
    _history(world, client_for, programme, library, extra=5)

    assert queries() == few
