"""A red flag end to end, with a real Celery worker on Redis and PostgreSQL (CI)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from backend.accounts.models import PushDevice
from tests.exercise.conftest import session_body
from tests.worker import celery_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_tier_one_symptom_reaches_the_physios_phone_within_ten_seconds(
    world, programme, client_for, tmp_path: Path
):
    PushDevice.objects.create(user=world.physio, platform="android", token="physio-phone")
    record = tmp_path / "pushes.jsonl"
    record.touch()

    with celery_worker(PUSH_SENDER="tests.fakes.RecordingPushSender", PUSH_RECORD_FILE=str(record)):
        response = client_for(world.patient.user).post(
            "/api/v1/sessions/", session_body(programme, symptoms=["chest_pain"])
        )
        alerts = client_for(world.physio).get("/api/v1/alerts/").json()["results"]
        started = time.monotonic()
        pushes: list[dict] = []
        while time.monotonic() - started < 10 and not pushes:
            pushes = [json.loads(line) for line in record.read_text().splitlines()]
            time.sleep(0.1)

    assert response.status_code == 201
    assert "emergency" in response.json()["safety_message"]
    assert [(a["rule_id"], a["urgency"]) for a in alerts] == [("SYM-1", "emergency")]
    assert pushes, "no push within 10 seconds"
    assert pushes[0]["token"] == "physio-phone"
    assert pushes[0]["data"]["subject_type"] == "alert"
    assert pushes[0]["data"]["subject_id"] == str(alerts[0]["id"])
