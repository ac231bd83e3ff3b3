"""Twenty identical requests at once against the API under gunicorn (three processes of four
threads, as in production): one stored log, one alert, one notification per person, one
acknowledgement. tests/exercise/test_sessions.py and tests/alerts/test_symptoms_and_alerts.py
race the same requests inside one process; here they also race across processes."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from backend.alerts.models import Alert, Notification
from backend.exercise.models import SessionLog
from tests.concurrency import all_at_once
from tests.exercise.conftest import session_body
from tests.faults.conftest import token_for
from tests.faults.processes import LiveApp

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

COUNT = 20


def test_twenty_identical_uploads_and_acknowledgements_across_processes_count_once(
    world, programme, database_url, processes, tmp_path: Path
):
    app = LiveApp(tmp_path, database_url=database_url, broker_url="memory://", workers=3, threads=4)
    processes.append(app)
    app.start()
    patient, physio, nurse = (token_for(u) for u in (world.patient.user, world.physio, world.nurse))

    # when the phone's upload of a log with an emergency symptom arrives twenty times at once
    body = session_body(programme, symptoms=["fainting"])
    uploads = all_at_once(
        COUNT, lambda n: app.request("POST", "/api/v1/sessions/", patient, json=body)
    )

    # then one log is stored; one answer is 201 and the others 200, all showing that log
    assert all(not isinstance(a, Exception) for a in uploads), uploads
    assert Counter(a.status_code for a in uploads) == {201: 1, 200: COUNT - 1}, [
        a.text for a in uploads if a.status_code >= 300
    ]
    assert len({a.json()["id"] for a in uploads}) == 1
    assert SessionLog.objects.filter(client_id=body["client_id"]).count() == 1
    # and one alert, one notification to each member of the care team
    (alert,) = Alert.objects.filter(patient=world.patient)
    assert Counter(
        Notification.objects.filter(subject_type="alert").values_list("recipient_id", flat=True)
    ) == {world.physio.pk: 1, world.nurse.pk: 1}

    # when the physiotherapist and the nurse tap "acknowledge" twenty times at once
    taps = all_at_once(
        COUNT,
        lambda n: app.request(
            "POST", f"/api/v1/alerts/{alert.pk}/acknowledge/", physio if n % 2 else nurse
        ),
    )

    # then every tap is answered 200 with the one acknowledgement that was recorded
    assert all(not isinstance(t, Exception) for t in taps), taps
    assert [t.status_code for t in taps] == [200] * COUNT, [t.text for t in taps]
    shown = {
        (t.json()["acknowledged_by"]["id"], datetime.fromisoformat(t.json()["acknowledged_at"]))
        for t in taps
    }
    alert.refresh_from_db()
    assert shown == {(alert.acknowledged_by_id, alert.acknowledged_at)}
    assert alert.status == "acknowledged"
