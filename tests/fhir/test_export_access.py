"""Who may read what through /fhir/: the API's rule (care team, the patient, their caregiver;
404 for anyone else, as an OperationOutcome), and every read by someone else audited."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from fhir.resources.R4B.operationoutcome import OperationOutcome
from rest_framework.test import APIClient

from backend.audit.models import AccessEvent
from tests.fhir.export_record import NOW, record_of, resources_of, valid_bundle


@pytest.fixture(autouse=True)
def _at_now() -> Iterator[None]:
    """Everything, the world of people included, is made and read at NOW (CI also runs the
    suite with the clock 400 days ahead)."""
    with time_machine.travel(NOW):
        yield


CARE_TEAM_ONLY = {"DetectedIssue", "Flag"}


def _get(client_for, user, url, **query):
    """A request at NOW by a client signed in at NOW (a token is no older than the clock)."""
    with time_machine.travel(NOW):
        client = client_for(user) if user is not None else APIClient()
        return client.get(url, query)


@pytest.fixture
def record(world):
    with time_machine.travel(NOW):
        return record_of(world, sessions=2)


@pytest.mark.parametrize(
    "who", ["other_team_physio", "other_org_physio", "org_admin", "other_patient"]
)
def test_anyone_outside_the_patients_circle_gets_a_not_found_outcome(
    world, record, client_for, who
):
    viewer = world.other_patient.user if who == "other_patient" else getattr(world, who)

    answers = [
        _get(client_for, viewer, f"/fhir/Patient/{world.patient.pk}"),
        _get(client_for, viewer, f"/fhir/Patient/{world.patient.pk}/$everything"),
        _get(client_for, viewer, "/fhir/Observation", patient=world.patient.pk),
        _get(client_for, viewer, "/fhir/CarePlan", patient=f"Patient/{world.patient.pk}"),
    ]

    for response in answers:
        assert response.status_code == 404
        outcome = OperationOutcome.model_validate(response.json())
        assert outcome.issue[0].code == "not-found"
        assert world.patient.user.last_name not in response.content.decode()


def test_an_unknown_or_malformed_patient_id_is_the_same_not_found(world, client_for):
    unknown = _get(client_for, world.physio, "/fhir/Patient/987654")
    malformed = _get(client_for, world.physio, "/fhir/Patient/abc/$everything")

    assert unknown.status_code == malformed.status_code == 404
    assert unknown.json()["issue"][0]["code"] == "not-found"
    assert malformed.json()["resourceType"] == "OperationOutcome"


def test_without_a_token_the_answer_is_401_as_an_outcome(world, client_for):
    response = _get(client_for, None, f"/fhir/Patient/{world.patient.pk}")

    assert response.status_code == 401
    assert response.json()["issue"][0]["code"] == "login"
    assert response.has_header("WWW-Authenticate")


def test_the_patient_reads_their_own_record_without_the_care_teams_alerts(
    world, record, client_for
):
    response = _get(client_for, world.patient.user, f"/fhir/Patient/{world.patient.pk}/$everything")

    body = response.json()
    assert response.status_code == 200
    valid_bundle(body)
    types = {entry["resource"]["resourceType"] for entry in body["entry"]}
    assert "Observation" in types
    assert "CarePlan" in types
    assert not types & CARE_TEAM_ONLY
    # their own reads are no access to audit; an export of the record is, as GET /me/export/
    events = AccessEvent.objects.filter(actor=world.patient.user)
    assert [(e.action, e.resource_type) for e in events] == [("export", "patient")]


def test_the_caregiver_reads_the_record_and_a_search_of_alerts_is_empty(world, record, client_for):
    everything = _get(client_for, world.caregiver, f"/fhir/Patient/{world.patient.pk}/$everything")
    issues = _get(client_for, world.caregiver, "/fhir/DetectedIssue", patient=world.patient.pk)

    assert everything.status_code == 200
    assert resources_of(everything.json(), "Observation")
    assert issues.status_code == 200
    assert "entry" not in valid_bundle(issues.json()).model_dump()


def test_plain_json_is_served_on_request(world, record, client_for):
    with time_machine.travel(NOW):
        response = client_for(world.physio).get(
            f"/fhir/Patient/{world.patient.pk}", HTTP_ACCEPT="application/json"
        )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["resourceType"] == "Patient"


def test_every_read_by_the_care_team_is_audited(world, record, client_for):
    nurse = world.nurse

    _get(client_for, nurse, f"/fhir/Patient/{world.patient.pk}")
    _get(client_for, nurse, f"/fhir/Patient/{world.patient.pk}/$everything")
    observations = _get(
        client_for, nurse, "/fhir/Observation", patient=world.patient.pk, _count=2
    ).json()
    _get(client_for, nurse, "/fhir/DetectedIssue", patient=world.patient.pk)

    events = AccessEvent.objects.filter(actor=world.nurse).order_by("id")
    assert all(event.patient_id == world.patient.pk for event in events)
    summary = [(e.action, e.resource_type) for e in events]
    assert summary[:2] == [("read", "patient"), ("export", "patient")]
    shown = [e["resource"]["id"] for e in observations["entry"]]
    read_rows = {
        f"{'session' if e.resource_type == 'session' else 'assessment'}-{e.resource_id}"
        for e in events
        if e.resource_type in {"session", "assessment"}
    }
    assert read_rows == set(shown)
    assert ("read", "alert") in summary
