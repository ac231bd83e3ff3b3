"""The committed openapi.yaml describes what the API really answers: each case here is one
that schemathesis (`make fuzz`) found undocumented or mis-described."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.exercise.conftest import session_body

pytestmark = pytest.mark.django_db

SCHEMA = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())


def documented(path: str, method: str) -> set[int]:
    return {int(code) for code in SCHEMA["paths"][path][method]["responses"]}


def component(name: str) -> dict[str, Any]:
    return SCHEMA["components"]["schemas"][name]["properties"]


def test_wall_clock_times_match_their_schema(world, client_for):
    # RFC 3339 `format: time` needs an offset ("17:30:00Z"); these are local times without one.
    body = client_for(world.patient.user).get(f"/api/v1/patients/{world.patient.pk}/").json()

    for field in ("reminder_time", "quiet_hours_start", "quiet_hours_end"):
        described = component("PatientOutput")[field]
        assert described.get("format") != "time", field
        assert re.fullmatch(described["pattern"], body[field]), (field, body[field])


def test_current_programme_documents_its_400_and_404(world, programme, client_for):
    client = client_for(world.other_org_physio)

    malformed = client.get("/api/v1/programmes/current/", {"patient": 0})
    unseen = client.get("/api/v1/programmes/current/", {"patient": world.patient.pk})

    assert (malformed.status_code, unseen.status_code) == (400, 404)
    assert {400, 404} <= documented("/api/v1/programmes/current/", "get")


@pytest.mark.parametrize(
    "path", ["/api/v1/sessions/", "/api/v1/assessments/", "/api/v1/programmes/"]
)
def test_a_write_naming_an_unseen_patient_documents_its_404(world, programme, client_for, path):
    bodies = {
        "/api/v1/sessions/": session_body(programme, patient=world.patient.pk),
        "/api/v1/assessments/": {
            "patient": world.patient.pk,
            "measure": "STS30",
            "value": "12",
            "setting": "clinic",
            "measured_at": "2026-10-02T10:00:00Z",
        },
        "/api/v1/programmes/": {
            "patient": world.patient.pk,
            "title": "Block",
            "start_date": "2026-10-01",
            "items": [{"exercise": programme.current_version.items.first().exercise_id}],
        },
    }

    response = client_for(world.other_org_physio).post(path, bodies[path], format="json")

    assert response.status_code == 404, response.content[:300]
    assert 404 in documented(path, "post")


def test_a_bodiless_post_documents_the_400_of_a_malformed_idempotency_key(
    world, programme, client_for
):
    path = "/api/v1/programmes/{programme_id}/activate/"

    response = client_for(world.physio).post(
        path.format(programme_id=programme.pk), HTTP_IDEMPOTENCY_KEY="not a key: spaces"
    )

    assert response.status_code == 400, response.content[:300]
    assert 400 in documented(path, "post")
