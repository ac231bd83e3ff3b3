"""Every per-patient list reads a page down an index in the list's exact order, with no Sort,
for the patient's own view and for a clinician's `?patient=` (issue #12).

A page that sorts has read all the patient's rows first, so it slows as the history grows;
one that walks an index in order stops at the page's last row. The plans are PostgreSQL's
own (EXPLAIN of the SQL the request sent) on a patient with 3,000 rows of each kind beside
a second patient's 3,000, after ANALYZE, as on a clinic's tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.exercise.services.programmes import programme_create
from bench.history import fill_history
from tests.conftest import World
from tests.exercise.conftest import content
from tests.factories import CareTeamMembershipFactory, PatientProfileFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

ROWS = 3_000

# (list, table, the index its page must walk, who asks: "patient" or "clinician")
CASES = [
    ("sessions", "exercise_sessionlog", "session_patient_newest", "patient"),
    ("sessions", "exercise_sessionlog", "session_patient_newest", "clinician"),
    ("assessments", "exercise_assessment", "assessment_patient_newest", "patient"),
    ("assessments", "exercise_assessment", "assessment_patient_newest", "clinician"),
    ("symptoms", "symptoms_symptomreport", "symptom_report_patient_newest", "patient"),
    ("symptoms", "symptoms_symptomreport", "symptom_report_patient_newest", "clinician"),
    ("alerts", "alerts_alert", "alert_patient_triage", "clinician"),  # the care team's only
    ("notifications", "alerts_notification", "notification_inbox_newest", "patient"),
]


@pytest.fixture
def long_histories(world: World, library: Any) -> World:
    """world.patient and a second patient of world.physio, each with ROWS of every kind."""
    other = PatientProfileFactory.create(user__organisation=world.org)
    CareTeamMembershipFactory.create(patient=other, member=world.physio)
    for patient in (world.patient, other):
        programme_create(by=world.physio, patient=patient, content=content(library), activate=True)
        fill_history(patient, ROWS)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return world


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _page_plan(client: Any, url: str, table: str) -> list[dict[str, Any]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    pages = [
        q["sql"]
        for q in captured.captured_queries
        if f'FROM "{table}"' in q["sql"] and "LIMIT" in q["sql"] and "COUNT(" not in q["sql"]
    ]
    assert len(pages) == 1, pages
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {pages[0]}")
        (row,) = cursor.fetchall()
    plan = row[0] if isinstance(row[0], list) else json.loads(row[0])
    return list(_nodes(plan[0]["Plan"]))


def test_each_page_walks_its_list_index_without_sorting(
    long_histories: World, client_for: Any
) -> None:
    # Given a patient with a long history of every kind of row
    world = long_histories
    wrong = {}
    for name, table, index, who in CASES:
        if who == "patient":
            client, url = client_for(world.patient.user), f"/api/v1/{name}/?page_size=20"
        else:
            client, url = client_for(world.physio), f"/api/v1/{name}/?patient={world.patient.pk}"

        # When each list's page is planned
        nodes = _page_plan(client, url, table)

        # Then the listed table is read through the list's own index, in order, and nothing
        # sorts
        scans = [
            (n["Node Type"], n.get("Index Name")) for n in nodes if n.get("Relation Name") == table
        ]
        sorts = [n["Node Type"] for n in nodes if "Sort" in n["Node Type"]]
        if scans != [("Index Scan", index)] or sorts:
            wrong[f"{name}, {who}"] = {"scans": scans, "sorts": sorts}
    assert not wrong, wrong
