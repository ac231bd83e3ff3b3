"""The main path end to end through the API: prescribe, read, log, replay."""

from __future__ import annotations

import pytest

from backend.exercise.models import SessionLog
from tests.exercise.conftest import as_json, content, session_body

pytestmark = pytest.mark.django_db


def test_prescribe_read_log_and_replay(world, library, client_for):
    physio = client_for(world.physio)
    created = physio.post(
        "/api/v1/programmes/",
        {**as_json(content(library)), "patient": world.patient.pk, "activate": True},
        format="json",
    )
    assert created.status_code == 201, created.json()
    patient = client_for(world.patient.user)

    current = patient.get("/api/v1/programmes/current/")
    assert current.status_code == 200, current.json()
    assert current.json()["version"]["items"][0]["exercise"]["name"] == "Chair squat"

    from backend.exercise.models import Programme

    programme = Programme.objects.get(pk=created.json()["programme"]["id"])
    body = session_body(programme)
    first = patient.post("/api/v1/sessions/", body, format="json")
    again = patient.post("/api/v1/sessions/", body, format="json")
    assert first.status_code == 201, first.json()
    assert again.status_code == 200
    assert again.json() == first.json()
    assert SessionLog.objects.count() == 1
