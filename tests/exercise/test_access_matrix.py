"""What the route matrix cannot see in a status code: outsiders' batch uploads and lists.

Every (route, method, role) status of the API is declared once, in
tests/security/test_route_matrix.py. These tests look inside 200 answers: a sync batch
naming a patient the caller may not see stores nothing, and lists hold none of the
patient's rows for outsiders (while the care team does see them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from backend.exercise.models import (
    Assessment,
    Exercise,
    Programme,
    ProgrammeVersion,
    ProgressionProposal,
    SessionLog,
)
from tests.builders import (
    done_as_prescribed,
    programme_with_clinic_exercise,
    proposal_open,
    session_logged,
)
from tests.exercise.conftest import session_body

pytestmark = pytest.mark.django_db

SURNAME = "Quillfeather"  # the patient's last name: must never appear in a denied answer

OUTSIDERS = (
    "other_patient",
    "other_caregiver",
    "other_team_physio",
    "other_org_physio",
    "org_admin",
)


def _user(world, role):
    return {
        "patient": world.patient.user,
        "other_patient": world.other_patient.user,
        "caregiver": world.caregiver,
        "other_caregiver": world.other_caregiver,
        "physio": world.physio,
        "nurse": world.nurse,
        "other_team_physio": world.other_team_physio,
        "other_org_physio": world.other_org_physio,
        "org_admin": world.org_admin,
    }[role]


@dataclass
class Subjects:
    """Fresh objects about world.patient, built for one cell."""

    patient: int
    programme: Programme
    session: int
    exercise_in: int  # a global exercise in the patient's programme
    exercise_out: int  # a global exercise in no programme of the patient
    org_exercise: int  # world.org's own exercise, in the patient's programme
    proposal: int

    def ids(self) -> dict[str, int]:
        return {
            "patient": self.patient,
            "programme": self.programme.pk,
            "session": self.session,
            "exercise_in": self.exercise_in,
            "exercise_out": self.exercise_out,
            "org_exercise": self.org_exercise,
            "proposal": self.proposal,
        }


def build_subjects(world, library) -> Subjects:
    user = world.patient.user
    user.last_name = SURNAME
    user.save(update_fields=["last_name"])
    programme, org_exercise = programme_with_clinic_exercise(world, library)
    session = session_logged(
        programme,
        started_at=timezone.now() - timedelta(hours=3),
        minutes=35,
        **done_as_prescribed(programme),
    ).session
    proposal = proposal_open(programme)
    return Subjects(
        patient=world.patient.pk,
        programme=programme,
        session=session.pk,
        exercise_in=library["squat"].pk,
        exercise_out=library["balance"].pk,
        org_exercise=org_exercise.pk,
        proposal=proposal.pk,
    )


def fingerprint(world) -> tuple[Any, ...]:
    """Everything a write in the table could change about world.patient."""
    patient = world.patient
    return (
        sorted(Programme.objects.filter(patient=patient).values_list("pk", "status")),
        ProgrammeVersion.objects.filter(programme__patient=patient).count(),
        sorted(
            SessionLog.objects.filter(patient=patient).values_list(
                "pk", "deleted_at", "pain_after", "updated_at"
            )
        ),
        Assessment.objects.filter(patient=patient).count(),
        sorted(ProgressionProposal.objects.values_list("pk", "status")),
        sorted(Exercise.objects.values_list("pk", "updated_at", "safety_notes")),
    )


# --- Request bodies -------------------------------------------------------------------------


def session_post_body(s: Subjects) -> dict[str, Any]:
    return session_body(s.programme, patient=s.patient)


# --- Batch sync: a denied patient is an invalid item, never a stored log ---------------------


@pytest.mark.parametrize("role", OUTSIDERS)
def test_sync_for_an_unseen_patient_stores_nothing(world, library, client_for, role):
    subjects = build_subjects(world, library)
    client = client_for(_user(world, role))
    before = fingerprint(world)

    response = client.post(
        "/api/v1/sessions/sync/", {"logs": [session_post_body(subjects)]}, format="json"
    )

    assert response.status_code == 200, response.content[:500]
    assert response.json()["results"][0]["status"] == "invalid"
    assert response.json()["created"] == 0
    assert SURNAME not in response.content.decode()
    assert fingerprint(world) == before


# --- Lists: outsiders never get a row of the patient ----------------------------------------

LISTS = (
    "/api/v1/programmes/",
    "/api/v1/sessions/",
    "/api/v1/assessments/",
    "/api/v1/progression-proposals/",
)


def _with_assessment(world) -> None:
    Assessment.objects.create(
        patient=world.patient,
        measure="STS30",
        value=Decimal(12),
        unit="count",
        setting="home",
        measured_at=timezone.now() - timedelta(days=1),
        measured_by=world.physio,
    )


def _rows_of_patient(world, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    programmes = set(Programme.objects.filter(patient=world.patient).values_list("pk", flat=True))
    return [
        row
        for row in rows
        if row.get("patient") == world.patient.pk or row.get("programme") in programmes
    ]


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("role", OUTSIDERS)
def test_lists_hold_none_of_the_patients_rows_for_outsiders(world, library, client_for, url, role):
    # Given a programme, a log, an assessment and a proposal of world.patient
    build_subjects(world, library)
    _with_assessment(world)
    client = client_for(_user(world, role))

    # When an outsider lists, even filtering by the patient
    plain = client.get(url, {"page_size": 200})
    filtered = client.get(url, {"page_size": 200, "patient": world.patient.pk})

    # Then nothing of the patient comes back
    for response in (plain, filtered):
        assert response.status_code == 200, response.content[:500]
        assert _rows_of_patient(world, response.json()["results"]) == []
        assert SURNAME not in response.content.decode()


@pytest.mark.parametrize("url", LISTS)
def test_lists_hold_the_patients_rows_for_the_care_team(world, library, client_for, url):
    """The control for the test above: the same data is there for the physiotherapist."""
    build_subjects(world, library)
    _with_assessment(world)

    response = client_for(world.physio).get(url, {"page_size": 200})

    assert response.status_code == 200
    assert _rows_of_patient(world, response.json()["results"])
