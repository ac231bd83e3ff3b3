"""Search by patient and date: the window, the pages, and refusals of what does not parse."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from fhir.resources.R4B.operationoutcome import OperationOutcome
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests.fhir.export_record import NOW, record_of, valid_bundle


@pytest.fixture(autouse=True)
def _at_now() -> Iterator[None]:
    """Everything, the world of people included, is made and read at NOW (CI also runs the
    suite with the clock 400 days ahead)."""
    with time_machine.travel(NOW):
        yield


def _search(user, resource_type, **query):
    """A search at NOW by a client signed in at NOW (a token is no older than the clock)."""
    with time_machine.travel(NOW):
        return signed_in(user).get(f"/fhir/{resource_type}", query)


def signed_in(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def _ids(response):
    return [entry["resource"]["id"] for entry in response.json().get("entry", [])]


@pytest.fixture
def record(world):
    # 8 self-reported logs 10 days apart (the newest 10 days ago), the supervised one today,
    # three assessments yesterday.
    with time_machine.travel(NOW):
        return record_of(world, sessions=8, history=timedelta(days=80))


def test_date_bounds_the_observations_in_the_patients_local_days(world, record):
    client = world.physio
    first = record.sessions[0].started_at  # 80 days ago at 17:00 UTC
    day = first.date().isoformat()

    on_the_day = _search(client, "Observation", patient=world.patient.pk, date=day)
    since = _search(
        client,
        "Observation",
        patient=world.patient.pk,
        date=f"ge{(NOW - timedelta(days=2)).date()}",
    )
    between = _search(
        client,
        "Observation",
        patient=world.patient.pk,
        date=[f"gt{day}", f"lt{(NOW - timedelta(days=40)).date()}"],
    )

    assert _ids(on_the_day) == [f"session-{record.sessions[0].pk}"]
    assessments = {f"assessment-{a.pk}" for a in record.assessments.values()}
    assert set(_ids(since)) == {f"session-{record.supervised.pk}", *assessments}
    assert _ids(between) == [f"session-{s.pk}" for s in reversed(record.sessions[1:4])]


def test_a_date_time_with_its_offset_is_exact(world, record):
    started = record.sessions[2].started_at

    response = _search(
        world.physio,
        "Observation",
        patient=world.patient.pk,
        date=[f"ge{started.isoformat()}", f"le{started.isoformat()}"],
    )

    assert _ids(response) == [f"session-{record.sessions[2].pk}"]


def test_pages_follow_next_links_newest_first_without_gaps_or_repeats(world, record):
    client = world.physio
    seen, pages = [], 0
    response = _search(client, "Observation", patient=world.patient.pk, _count=3)
    while True:
        pages += 1
        body = response.json()
        valid_bundle(body)
        seen += _ids(response)
        following = [link["url"] for link in body["link"] if link["relation"] == "next"]
        if not following:
            break
        with time_machine.travel(NOW):
            response = signed_in(client).get(following[0])

    everything = _search(client, "Observation", patient=world.patient.pk, _count=200)
    assert seen == _ids(everything)
    assert len(seen) == 8 + 1 + 3
    assert len(set(seen)) == len(seen)
    assert pages == 4


def test_careplans_and_service_requests_page_the_same_way(world, record):
    client = world.physio

    plans = _search(client, "CarePlan", patient=world.patient.pk, _count=1)
    rest = _search(client, "CarePlan", patient=world.patient.pk, _count=200)
    requests = _search(client, "ServiceRequest", patient=world.patient.pk, _count=4)

    version = record.programme.current_version
    assert _ids(plans) == [str(version.pk)]
    assert len(_ids(rest)) == 2
    assert len(_ids(requests)) == 4
    assert any(link["relation"] == "next" for link in requests.json()["link"])


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({}, "patient"),
        ({"patient": "Practitioner/3"}, "patient"),
        ({"patient": "1", "date": "yesterday"}, "date"),
        ({"patient": "1", "date": "ge2026-13-01"}, "date"),
        ({"patient": "1", "date": "ge2026-01-01T10:00"}, "date"),  # no offset
        ({"patient": "1", "date": "sa2026-01-01"}, "date"),
        ({"patient": "1", "_count": "0"}, "_count"),
        ({"patient": "1", "_count": "201"}, "_count"),
        ({"patient": "1", "_cursor": "next-please"}, "_cursor"),
        ({"patient": "1", "_sort": "date"}, "_sort"),
    ],
)
def test_a_search_that_does_not_parse_is_a_400_naming_the_parameter(world, query, parameter):
    response = _search(world.physio, "Observation", **query)

    assert response.status_code == 400
    outcome = OperationOutcome.model_validate(response.json())
    assert outcome.issue[0].code == "invalid"
    assert outcome.issue[0].expression == [parameter]


def test_everything_refuses_parameters_it_does_not_take(world):
    with time_machine.travel(NOW):
        response = signed_in(world.physio).get(
            f"/fhir/Patient/{world.patient.pk}/$everything", {"_since": "2026-01-01"}
        )

    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["_since"]
