"""The access matrix of the exercise endpoints: every (endpoint, role) cell, declared once.

Rules the table encodes:
- anonymous → 401;
- anyone who may not see the patient → 404, never 403 and never data;
- patient-side users (patient, caregiver) asking for a clinician-only action → 403;
- allowed cells answer what the spec says (200 read or action, 201 created, 204 deleted).

Each cell is its own test with fresh objects, so destructive cells never meet.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
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
from backend.exercise.services.programmes import programme_create, programme_pause
from backend.exercise.services.sessions import session_log_record
from tests.exercise.conftest import content, make_exercise, session_body

pytestmark = pytest.mark.django_db

SURNAME = "Quillfeather"  # the patient's last name: must never appear in a denied answer

ROLES = (
    "anonymous",
    "patient",
    "other_patient",
    "caregiver",
    "other_caregiver",
    "physio",
    "nurse",
    "other_team_physio",
    "other_org_physio",
    "org_admin",
)
OUTSIDERS = (
    "other_patient",
    "other_caregiver",
    "other_team_physio",
    "other_org_physio",
    "org_admin",
)

OK, NEW, GONE, AUTH, DENY, HIDE = 200, 201, 204, 401, 403, 404


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


def _session_data(programme: Programme) -> dict[str, Any]:
    """A log as the service takes it (validated values, not JSON)."""
    version = programme.current_version
    assert version is not None
    started = timezone.now() - timedelta(hours=3)
    results = [
        {"item": item.pk, "sets_done": item.sets, "reps_done": item.reps}
        if item.sets
        else {"item": item.pk, "duration_minutes_done": item.duration_minutes}
        for item in version.items.order_by("position")
    ]
    return {
        "client_id": uuid.uuid4(),
        "version": version.pk,
        "started_at": started,
        "ended_at": started + timedelta(minutes=35),
        "completion": "full",
        "effort_scale": "rpe_6_20",
        "effort_value": Decimal(11),
        "pain_before": 2,
        "pain_after": 3,
        "fatigue": 4,
        "symptoms": [],
        "note": "",
        "results": results,
    }


def build_subjects(world, library) -> Subjects:
    user = world.patient.user
    user.last_name = SURNAME
    user.save(update_fields=["last_name"])
    org_exercise = make_exercise(
        "Step-up onto a low step", organisation=world.org, created_by=world.physio
    )
    items = [
        *content(library)["items"],
        {"exercise": org_exercise.pk, "sets": 2, "reps": 8},
    ]
    programme = programme_create(
        by=world.physio,
        patient=world.patient,
        content=content(library, items=items),
        activate=True,
    ).programme
    session = session_log_record(
        by=user, patient=world.patient, data=_session_data(programme)
    ).session
    version = programme.current_version
    assert version is not None
    first = version.items.order_by("position").first()
    assert first is not None
    proposal = ProgressionProposal.objects.create(
        programme=programme,
        item=first,
        exercise_id=first.exercise_id,
        change="sets",
        current_value=Decimal(2),
        proposed_value=Decimal(3),
        evidence={"rule": {"id": "PROG-1", "version": 1}},
    )
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


def revise_body(s: Subjects) -> dict[str, Any]:
    version = s.programme.current_version
    assert version is not None
    items = [
        {"exercise": item.exercise_id, "sets": 3, "reps": item.reps}
        if item.sets
        else {"exercise": item.exercise_id, "duration_minutes": item.duration_minutes}
        for item in version.items.order_by("position")
    ]
    return {
        "title": "Strength block 1",
        "start_date": version.start_date.isoformat(),
        "items": items,
        "reason": "Three sets now",
    }


def prescribe_body(s: Subjects) -> dict[str, Any]:
    version = s.programme.current_version
    assert version is not None
    items = [{"exercise": s.exercise_in, "sets": 2, "reps": 10}]
    return {
        "patient": s.patient,
        "title": "Next block",
        "start_date": version.start_date.isoformat(),
        "items": items,
    }


def pause_body(s: Subjects) -> dict[str, Any]:
    return {"reason": "flare", "note": "Rest until the flare settles"}


def complete_body(s: Subjects) -> dict[str, Any]:
    return {"note": "Goals met"}


def session_patch_body(s: Subjects) -> dict[str, Any]:
    return {"pain_after": 4}


def exercise_patch_body(s: Subjects) -> dict[str, Any]:
    return {"safety_notes": "Avoid kneeling on a calcinosis site."}


def assessment_body(s: Subjects) -> dict[str, Any]:
    measured = timezone.now() - timedelta(hours=1)
    return {
        "patient": s.patient,
        "measure": "STS30",
        "value": "12",
        "setting": "home",
        "measured_at": measured.isoformat(),
    }


def session_post_body(s: Subjects) -> dict[str, Any]:
    return session_body(s.programme, patient=s.patient)


def pause_first(world, s: Subjects) -> None:
    """Activate needs something to activate: the programme is paused first."""
    programme_pause(programme=s.programme, by=world.physio, reason="illness")


# --- The table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    url: str
    body: Callable[[Subjects], dict[str, Any]] | None
    expect: tuple[int, ...]  # one status per role, in ROLES order
    setup: Callable[[Any, Subjects], None] | None = None


P = "/api/v1/programmes/{programme}"
# fmt: off
TABLE = (
    # One status per role, in ROLES order: anonymous, patient, other patient, caregiver,
    # other caregiver, physio (care team), nurse (care team), physio of another team,
    # physio of another organisation, org admin.
    #    anon  pat   oPat  cg    oCg   phys  nurse oTeam oOrg  admin
    Row("programme-get", "GET", P + "/", None,
        (AUTH, OK,   HIDE, OK,   HIDE, OK,   OK,   HIDE, HIDE, HIDE)),
    Row("versions-list", "GET", P + "/versions/", None,
        (AUTH, OK,   HIDE, OK,   HIDE, OK,   OK,   HIDE, HIDE, HIDE)),
    # Revising is the physiotherapist's: the nurse sees the programme but may not change it.
    Row("programme-revise", "POST", P + "/versions/", revise_body,
        (AUTH, DENY, HIDE, DENY, HIDE, NEW,  DENY, HIDE, HIDE, HIDE)),
    # Any clinician of the care team may pause (services/programmes.py: a nurse hearing of a
    # flare should not wait for the physiotherapist).
    Row("programme-pause", "POST", P + "/pause/", pause_body,
        (AUTH, DENY, HIDE, DENY, HIDE, OK,   OK,   HIDE, HIDE, HIDE)),
    Row("programme-activate", "POST", P + "/activate/", None,
        (AUTH, DENY, HIDE, DENY, HIDE, OK,   DENY, HIDE, HIDE, HIDE), setup=pause_first),
    Row("programme-complete", "POST", P + "/complete/", complete_body,
        (AUTH, DENY, HIDE, DENY, HIDE, OK,   DENY, HIDE, HIDE, HIDE)),
    Row("programme-current", "GET", "/api/v1/programmes/current/?patient={patient}", None,
        (AUTH, OK,   HIDE, OK,   HIDE, OK,   OK,   HIDE, HIDE, HIDE)),
    Row("programme-prescribe", "POST", "/api/v1/programmes/", prescribe_body,
        (AUTH, DENY, HIDE, DENY, HIDE, NEW,  DENY, HIDE, HIDE, HIDE)),
    Row("session-get", "GET", "/api/v1/sessions/{session}/", None,
        (AUTH, OK,   HIDE, OK,   HIDE, OK,   OK,   HIDE, HIDE, HIDE)),
    # The patient's own log: the patient (or their caregiver) edits it, the care team reads it.
    Row("session-patch", "PATCH", "/api/v1/sessions/{session}/", session_patch_body,
        (AUTH, OK,   HIDE, OK,   HIDE, DENY, DENY, HIDE, HIDE, HIDE)),
    Row("session-delete", "DELETE", "/api/v1/sessions/{session}/", None,
        (AUTH, GONE, HIDE, GONE, HIDE, DENY, DENY, HIDE, HIDE, HIDE)),
    Row("session-create", "POST", "/api/v1/sessions/", session_post_body,
        (AUTH, NEW,  HIDE, NEW,  HIDE, NEW,  NEW,  HIDE, HIDE, HIDE)),
    # The patient's own numbers are theirs to read too; the spec restricts only outsiders.
    Row("patient-summary", "GET", "/api/v1/patients/{patient}/summary/", None,
        (AUTH, OK,   HIDE, OK,   HIDE, OK,   OK,   HIDE, HIDE, HIDE)),
    Row("assessment-trend", "GET", "/api/v1/patients/{patient}/assessments/trend/", None,
        (AUTH, OK,   HIDE, OK,   HIDE, OK,   OK,   HIDE, HIDE, HIDE)),
    Row("assessment-create", "POST", "/api/v1/assessments/", assessment_body,
        (AUTH, NEW,  HIDE, NEW,  HIDE, NEW,  NEW,  HIDE, HIDE, HIDE)),
    # Exercises are not patient data: every clinician reads the shipped library; patient-side
    # users read only the exercises of their own programmes; an org admin is no clinician.
    Row("exercise-in-programme", "GET", "/api/v1/exercises/{exercise_in}/", None,
        (AUTH, OK,   HIDE, OK,   HIDE, OK,   OK,   OK,   OK,   HIDE)),
    Row("exercise-not-in-programme", "GET", "/api/v1/exercises/{exercise_out}/", None,
        (AUTH, HIDE, HIDE, HIDE, HIDE, OK,   OK,   OK,   OK,   HIDE)),
    # Any clinician of world.org edits world.org's exercise; the patient sees it (it is in
    # their programme) but may not edit it; another organisation does not see it at all.
    Row("org-exercise-patch", "PATCH", "/api/v1/exercises/{org_exercise}/", exercise_patch_body,
        (AUTH, DENY, HIDE, DENY, HIDE, OK,   OK,   OK,   HIDE, HIDE)),
    # Proposals are never shown to the patient side (the list is clinicians'), so for them the
    # proposal does not exist: 404, like any object the viewer cannot read.
    Row("proposal-accept", "POST", "/api/v1/progression-proposals/{proposal}/accept/", None,
        (AUTH, HIDE, HIDE, HIDE, HIDE, OK,   DENY, HIDE, HIDE, HIDE)),
    Row("proposal-dismiss", "POST", "/api/v1/progression-proposals/{proposal}/dismiss/", None,
        (AUTH, HIDE, HIDE, HIDE, HIDE, OK,   DENY, HIDE, HIDE, HIDE)),
)
# fmt: on

# Cells where the product disagrees with the table: (row name, role) → what it does instead.
KNOWN_BUGS: dict[tuple[str, str], str] = {}


def _cells() -> list[Any]:
    cells = []
    for row in TABLE:
        assert len(row.expect) == len(ROLES), row.name
        for role, expected in zip(ROLES, row.expect, strict=True):
            bug = KNOWN_BUGS.get((row.name, role))
            marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
            cells.append(pytest.param(row, role, expected, id=f"{row.name}-{role}", marks=marks))
    return cells


@pytest.mark.parametrize(("row", "role", "expected"), _cells())
def test_access_matrix(world, library, api_client, client_for, row, role, expected):
    # Given fresh objects about world.patient, and the row's own preparation
    subjects = build_subjects(world, library)
    if row.setup is not None:
        row.setup(world, subjects)
    client = api_client if role == "anonymous" else client_for(_user(world, role))
    body = row.body(subjects) if row.body is not None else None
    before = fingerprint(world)

    # When the role calls the endpoint
    call = getattr(client, row.method.lower())
    response = call(row.url.format(**subjects.ids()), body, format="json")

    # Then the status is the declared one, and a denied call shows and changes nothing
    assert response.status_code == expected, response.content[:500]
    if expected >= 400:
        assert SURNAME not in response.content.decode()
        assert fingerprint(world) == before


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
