"""The hottest write, a phone uploading a session log, runs a fixed, small number of queries
whatever the patient's history; its offline retry runs fewer and writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.exercise.conftest import session_body

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/sessions/"
# user with profile; the version's items, each saying whether the client_id is stored; the
# log with its results (one statement on PostgreSQL, a data-modifying WITH; SQLite has none
# and takes two); decline check; the audit event (backend.audit: every write is recorded)
LOG_WITH_RESULTS = 1 if connection.vendor == "postgresql" else 2
AUDIT = 1
NEW_LOG_QUERIES = 3 + LOG_WITH_RESULTS + AUDIT
# user with profile; the version's items saying the client_id is stored; the stored log with
# its version; its results with their items
REPLAY_QUERIES = 4


def _statements(captured: CaptureQueriesContext) -> list[str]:
    # Savepoints come from the test's own transaction, not from the request's work.
    return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]


@pytest.mark.parametrize("history", [0, 30])
@pytest.mark.parametrize(
    ("effort", "expected"),
    [
        (15, NEW_LOG_QUERIES),  # too hard to count towards progression: no progression query
        (11, NEW_LOG_QUERIES + 2),  # + the items' two newest results, + proposals made
    ],
)
def test_a_new_log_costs_the_same_queries_whatever_the_history(
    world, programme, client_for, history, effort, expected
):
    patient = client_for(world.patient.user)
    for days in range(1, history + 1):
        earlier = session_body(programme, started_at=timezone.now() - timedelta(days=days))
        assert patient.post(SESSIONS, earlier, format="json").status_code == 201

    body = session_body(programme, effort_value=effort)

    with CaptureQueriesContext(connection) as captured:
        response = patient.post(SESSIONS, body, format="json")

    assert response.status_code == 201, response.json()
    assert len(_statements(captured)) == expected, _statements(captured)


def test_a_replay_reads_the_stored_log_and_writes_nothing(world, programme, client_for):
    patient = client_for(world.patient.user)
    body = session_body(programme)
    first = patient.post(SESSIONS, body, format="json")

    with CaptureQueriesContext(connection) as captured:
        again = patient.post(SESSIONS, body, format="json")

    assert again.status_code == 200
    assert again.json() == first.json()
    statements = _statements(captured)
    assert len(statements) == REPLAY_QUERIES, statements
    assert not [sql for sql in statements if not sql.startswith("SELECT")]


# Every statement of the request, the transaction's own included (no test transaction around
# it). No savepoint: the log's INSERT skips a client_id already stored (ON CONFLICT DO
# NOTHING) instead of failing, so a lost race needs nothing to roll back to.
NEW_LOG_ROUND_TRIPS = [
    "SELECT",  # the user with their profile (authentication)
    "BEGIN",
    "SELECT",  # the version's items (with the version), and a log stored under this client_id?
    "WITH",  # the log and its results, one statement
    "INSERT",  # the decline check
    "INSERT",  # the audit event
    "COMMIT",
]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_new_log_with_pain_scores_takes_seven_round_trips(world, programme, client_for):
    patient = client_for(world.patient.user)
    body = session_body(programme, effort_value=15, pain_before=2, pain_after=3)

    with CaptureQueriesContext(connection) as captured:
        response = patient.post(SESSIONS, body, format="json")

    assert response.status_code == 201, response.json()
    kinds = [q["sql"].split()[0] for q in captured.captured_queries]
    assert kinds == NEW_LOG_ROUND_TRIPS, [q["sql"][:80] for q in captured.captured_queries]
    # The answer was built without reading the log back: it is what was stored.
    answer = {key: value for key, value in response.json().items() if key != "symptom_report"}
    assert patient.get(f"{SESSIONS}{answer['id']}/").json() == answer
    assert len(answer["results"]) == len(body["results"]) > 1
