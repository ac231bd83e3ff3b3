"""Reads are a fixed number of queries whatever the history: $everything for a patient with
one log and for one with two years of logs (two a week), and a page of each search."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine

from tests.fhir.export_record import NOW, TWO_YEARS, record_of, resources_of


@pytest.fixture(autouse=True)
def _at_now() -> Iterator[None]:
    """Everything, the world of people included, is made and read at NOW (CI also runs the
    suite with the clock 400 days ahead)."""
    with time_machine.travel(NOW):
        yield


# Authentication (the user with their profile); the patient with organisation, care team and
# caregivers (3); programme versions and their items (2); logs and their item results (2);
# assessments; alerts; the audit event.
EVERYTHING_QUERIES = 11
# Authentication; the patient (3); the page's rows of each kind (1 each, 2 for a log's item
# results, 2 for versions' items); what the page needs besides; the audit INSERT per kind.
SEARCH_QUERIES = {
    "Observation": 9,  # logs + their results, assessments; an INSERT each for logs, assessments
    "CarePlan": 8,  # versions + items, the versions of their programmes (revision links)
    "ServiceRequest": 6,
    "DetectedIssue": 6,
    "Flag": 6,
}


def _two_sessions_a_week(history: timedelta) -> int:
    return int(history / timedelta(weeks=1)) * 2


@pytest.mark.parametrize(
    ("sessions", "history"),
    [(1, timedelta(days=7)), (_two_sessions_a_week(TWO_YEARS), TWO_YEARS)],
    ids=["one-log", "two-years"],
)
def test_everything_is_a_fixed_number_of_queries(
    world, client_for, django_assert_num_queries, sessions, history
):
    with time_machine.travel(NOW):
        record_of(world, sessions=sessions, history=history)
        client = client_for(world.physio)
        with django_assert_num_queries(EVERYTHING_QUERIES):
            response = client.get(f"/fhir/Patient/{world.patient.pk}/$everything")

    assert response.status_code == 200
    assert len(resources_of(response.json(), "Observation")) == sessions + 1 + 3


@pytest.mark.parametrize("resource_type", sorted(SEARCH_QUERIES))
@pytest.mark.parametrize("sessions", [1, 30], ids=["one-log", "thirty-logs"])
def test_a_search_page_is_a_fixed_number_of_queries(
    world, client_for, django_assert_num_queries, resource_type, sessions
):
    with time_machine.travel(NOW):
        record_of(world, sessions=sessions, history=timedelta(days=120))
        client = client_for(world.physio)
        with django_assert_num_queries(SEARCH_QUERIES[resource_type]):
            response = client.get(
                f"/fhir/{resource_type}", {"patient": world.patient.pk, "_count": 200}
            )

    assert response.status_code == 200
    assert response.json()["entry"]
