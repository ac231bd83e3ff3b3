"""PROG-1: after two qualifying sessions an item gets one proposed change, never applied."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from backend.exercise.models import ProgressionProposal
from backend.exercise.services.progression import progression_evaluate
from tests.exercise.conftest import session_body

pytestmark = pytest.mark.django_db


def _log(client, programme, days_ago, **overrides):
    started = timezone.now() - timedelta(days=days_ago, hours=1)
    response = client.post(
        "/api/v1/sessions/", session_body(programme, started_at=started, **overrides)
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_two_easy_full_sessions_propose_one_change_per_item(world, client_for, programme):
    patient = client_for(world.patient.user)
    _log(patient, programme, 3)
    assert not ProgressionProposal.objects.exists()  # one session is not enough

    _log(patient, programme, 1)

    proposals = {p.item.position: p for p in ProgressionProposal.objects.select_related("item")}
    assert set(proposals) == {1, 2}  # cycling has no sets, reps or kg: nothing to propose
    squat, curl = proposals[1], proposals[2]
    assert (squat.change, squat.current_value, squat.proposed_value) == ("sets", 2, 3)
    assert (curl.change, curl.current_value, curl.proposed_value) == (
        "load",
        Decimal("2.00"),
        Decimal("2.50"),
    )
    assert curl.evidence["rule"] == {"id": "PROG-1", "version": 1}
    assert len(curl.evidence["sessions"]) == 2
    programme.refresh_from_db()
    assert programme.current_version.number == 1  # proposed, not applied


@pytest.mark.parametrize(
    "spoiler",
    [
        {"effort_value": 13},  # RPE above 12
        {"effort_scale": "cr10", "effort_value": 4},  # CR10 above 3
        {"pain_before": 2, "pain_after": 4},  # a rise of 2
        {"completion": "partial"},
        {"effort_scale": "", "effort_value": None},  # effort not recorded: no evidence
    ],
)
def test_one_unqualified_session_prevents_a_proposal(world, client_for, programme, spoiler):
    patient = client_for(world.patient.user)
    _log(patient, programme, 3)

    _log(patient, programme, 1, **spoiler)

    assert not ProgressionProposal.objects.exists()


def test_reps_short_of_the_prescription_prevent_a_proposal_for_that_item(
    world, client_for, programme
):
    patient = client_for(world.patient.user)
    _log(patient, programme, 3)
    body = session_body(programme, started_at=timezone.now() - timedelta(days=1))
    body["results"][0]["reps_done"] = 7

    patient.post("/api/v1/sessions/", body)

    assert list(ProgressionProposal.objects.values_list("item__position", flat=True)) == [2]


def test_evaluating_again_proposes_nothing_new(world, client_for, programme):
    patient = client_for(world.patient.user)
    _log(patient, programme, 3)
    second = _log(patient, programme, 1)
    from backend.exercise.models import SessionLog

    again = progression_evaluate(session=SessionLog.objects.get(pk=second["id"]))
    _log(patient, programme, 0)

    assert again == []
    assert ProgressionProposal.objects.count() == 2


def test_the_physio_is_told_and_accepting_makes_a_new_version(world, client_for, programme):
    patient, physio = client_for(world.patient.user), client_for(world.physio)
    _log(patient, programme, 3)
    _log(patient, programme, 1)
    inbox = physio.get("/api/v1/notifications/?kind=progression_proposed").json()["results"]
    curl = ProgressionProposal.objects.get(change="load")

    listed = physio.get("/api/v1/progression-proposals/?status=open").json()
    accepted = physio.post(f"/api/v1/progression-proposals/{curl.pk}/accept/")
    again = physio.post(f"/api/v1/progression-proposals/{curl.pk}/accept/")

    assert len(inbox) == 1
    assert listed["count"] == 2
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["status"] == "accepted"
    assert again.status_code == 200
    current = patient.get("/api/v1/programmes/current/").json()["version"]
    assert current["number"] == 2
    assert current["items"][1]["load_value"] == "2.50"
    assert "Progression accepted" in current["reason"]


def test_a_proposal_on_an_outdated_version_cannot_be_accepted(world, client_for, programme):
    patient, physio = client_for(world.patient.user), client_for(world.physio)
    _log(patient, programme, 3)
    _log(patient, programme, 1)
    squat, curl = ProgressionProposal.objects.order_by("item__position")
    physio.post(f"/api/v1/progression-proposals/{curl.pk}/accept/")

    response = physio.post(f"/api/v1/progression-proposals/{squat.pk}/accept/")

    assert response.status_code == 409
    assert response.json()["code"] == "proposal_outdated"


def test_dismissing_and_who_may_decide(world, client_for, programme):
    patient = client_for(world.patient.user)
    _log(patient, programme, 3)
    _log(patient, programme, 1)
    proposal = ProgressionProposal.objects.earliest("id")
    url = f"/api/v1/progression-proposals/{proposal.pk}"

    by_patient = patient.post(f"{url}/accept/")
    by_nurse = client_for(world.nurse).post(f"{url}/dismiss/")
    by_outsider = client_for(world.other_team_physio).post(f"{url}/dismiss/")
    dismissed = client_for(world.physio).post(f"{url}/dismiss/")
    accept_after = client_for(world.physio).post(f"{url}/accept/")

    assert by_patient.status_code == 404  # patients see no proposals
    assert by_nurse.status_code == 403
    assert by_outsider.status_code == 404
    assert dismissed.json()["status"] == "dismissed"
    assert accept_after.status_code == 409
