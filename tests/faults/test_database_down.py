"""The database goes away under load (a restart, a failover): requests get 503 with the
error shape and a Retry-After, never 500; they succeed once it is back; nothing is half
stored. The API runs under gunicorn behind a TCP proxy to PostgreSQL that the test cuts
(every connection dropped, new ones refused) and restores; the shared server is untouched."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings
from django.db import connection

from backend.alerts.models import Alert
from backend.exercise.models import SessionItemResult, SessionLog
from backend.symptoms.models import SymptomReport
from tests.exercise.conftest import session_body
from tests.faults.conftest import token_for
from tests.faults.processes import LiveApp
from tests.faults.proxy import TcpProxy

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SESSIONS = "/api/v1/sessions/"


@pytest.fixture
def database_proxy() -> Any:
    db = settings.DATABASES["default"]
    proxy = TcpProxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
    proxy.start()
    yield proxy
    proxy.close()


@pytest.fixture
def app_behind_proxy(database_url, database_proxy, processes, tmp_path: Path) -> LiveApp:
    db = settings.DATABASES["default"]
    via_proxy = database_url.replace(
        f"@{db['HOST']}:{db['PORT']}/", f"@127.0.0.1:{database_proxy.port}/"
    )
    assert via_proxy != database_url
    # The broker is not what this test is about: "memory://" lets publishing always succeed.
    # Nor is the write throttle: four phones uploading without pause pass 120 a minute.
    app = LiveApp(
        tmp_path, database_url=via_proxy, broker_url="memory://", THROTTLE_WRITES="10000/min"
    )
    processes.append(app)
    app.start()
    return app


def _assert_unavailable(response: requests.Response) -> None:
    assert response.status_code == 503, response.text
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    body = response.json()
    assert body["status"] == 503
    assert body["code"] == "service_unavailable"
    assert "database" in body["detail"]
    assert body["request_id"] == response.headers["X-Request-ID"]


def test_while_the_database_is_away_requests_get_503_and_succeed_once_it_is_back(
    world, programme, app_behind_proxy: LiveApp, database_proxy: TcpProxy
):
    app, token = app_behind_proxy, token_for(world.patient.user)
    before = session_body(programme)
    assert app.request("POST", SESSIONS, token, json=before).status_code == 201

    # when the database drops every connection and refuses new ones
    database_proxy.cut()
    during = session_body(programme, symptoms=["dark_urine"])
    listing = app.request("GET", SESSIONS, token)
    upload = app.request("POST", SESSIONS, token, json=during)
    health = app.request("GET", "/health/")

    # then the API says so, in its error shape, and health names the database
    _assert_unavailable(listing)
    _assert_unavailable(upload)
    assert health.status_code == 503
    assert health.json()["database"] == "down"

    # when it is back, the phone's retry of the same upload is stored, once, with its alert
    database_proxy.restore()
    retried = app.request("POST", SESSIONS, token, json=during)
    assert retried.status_code == 201, retried.text
    assert app.request("GET", "/health/").json()["database"] == "ok"
    listed = app.request("GET", SESSIONS, token).json()["results"]
    assert {s["client_id"] for s in listed} == {before["client_id"], during["client_id"]}
    log = SessionLog.objects.get(client_id=during["client_id"])
    assert Alert.objects.filter(rule_id="SYM-2", evidence__session_id=log.pk).count() == 1


def test_uploads_during_a_database_restart_are_stored_whole_or_not_at_all(
    world, programme, app_behind_proxy: LiveApp, database_proxy: TcpProxy
):
    # given phones uploading sessions (every fifth with a red flag) without pause
    app, token = app_behind_proxy, token_for(world.patient.user)
    answers: list[tuple[dict[str, Any], int]] = []
    stop = threading.Event()

    def phone() -> None:
        try:
            while not stop.is_set():
                flag = len(answers) % 5 == 0
                body = session_body(programme, symptoms=["new_weakness"] if flag else [])
                try:
                    response = app.request("POST", SESSIONS, token, json=body, timeout=20)
                    status = response.status_code
                except requests.RequestException:
                    status = 0  # no answer at all: as bad as a 500 for the phone
                answers.append((body, status))
                if status == 503:
                    time.sleep(0.2)  # the phone waits before its next upload
        finally:
            connection.close()  # session_body read the programme in this thread

    phones = [threading.Thread(target=phone) for _ in range(4)]
    for thread in phones:
        thread.start()

    # when the database goes away for two seconds mid-load, then comes back
    time.sleep(1.5)
    database_proxy.cut()
    time.sleep(2)
    database_proxy.restore()
    time.sleep(1.5)
    stop.set()
    for thread in phones:
        thread.join(timeout=30)

    # then every answer was 201 or 503, and some of each
    statuses = Counter(status for _, status in answers)
    assert set(statuses) <= {201, 503}, statuses
    assert statuses[201] > 0, statuses
    assert statuses[503] > 0, statuses
    # and every upload answered 201 is stored whole, with its alert if it had a red flag
    for body, status in answers:
        if status == 201:
            _assert_stored_whole(body)
    # and the phones' retries of the 503s are all accepted: stored once now, whole
    for body, status in answers:
        if status == 503:
            retried = app.request("POST", SESSIONS, token, json=body)
            assert retried.status_code in {200, 201}, retried.text  # 200: it had committed
            _assert_stored_whole(body)
    # and nothing else was stored: no log, result or alert from a transaction cut short
    assert SessionLog.objects.count() == len(answers)
    assert SessionItemResult.objects.count() == sum(len(body["results"]) for body, _ in answers)
    flagged = sum(1 for body, _ in answers if body["symptoms"])
    assert SymptomReport.objects.count() == flagged
    # the same red flag again and again within half an hour: one alert that counts them all
    (alert,) = Alert.objects.all()
    assert (alert.rule_id, alert.occurrences) == ("SYM-2", flagged)


def _assert_stored_whole(body: dict[str, Any]) -> None:
    log = SessionLog.objects.get(client_id=uuid.UUID(body["client_id"]))
    assert log.results.count() == len(body["results"])
    reports = SymptomReport.objects.filter(session=log).count()
    assert reports == (1 if body["symptoms"] else 0)
