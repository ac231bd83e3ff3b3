"""Every list endpoint runs a fixed number of queries, the same for 1 row and for 50.

Each case builds N rows the viewer may see, signs the client in beforehand, and captures the
queries of the request alone. The pinned number is per endpoint, measured on this code; a
count that grows with N is an N+1 and fails the 50-row case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.accounts.models import User
from backend.alerts.models import Notification
from backend.exercise.models import (
    Assessment,
    Exercise,
    Programme,
    ProgrammeItem,
    ProgressionProposal,
)
from backend.exercise.services.programmes import programme_create, programme_revise
from tests.builders import done_as_prescribed, proposal_on, session_logged
from tests.exercise.conftest import content
from tests.factories import (
    CaregiverLinkFactory,
    CareTeamMembershipFactory,
    PatientProfileFactory,
)

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Listing:
    viewer: User
    url: str
    count: int  # rows the response must report


def _programme(world, library, patient=None) -> Programme:
    return programme_create(
        by=world.physio,
        patient=patient or world.patient,
        content=content(library),
        activate=True,
    ).programme


def _log(world, programme: Programme, hours_ago: int, by=None) -> None:
    session_logged(
        programme,
        started_at=timezone.now() - timedelta(hours=hours_ago, minutes=50),
        minutes=35,
        completion="full" if hours_ago % 2 else "partial",
        by=by,
        **(done_as_prescribed(programme) | {"pain_after": hours_ago % 5}),
    )


def _team_patients(world, n: int) -> list[Any]:
    """n more patients on world.physio's care team (with world.nurse), each with a caregiver."""
    patients = []
    for _ in range(n):
        patient = PatientProfileFactory.create(user__organisation=world.org)
        CareTeamMembershipFactory.create(patient=patient, member=world.physio)
        CareTeamMembershipFactory.create(patient=patient, member=world.nurse, role="nurse")
        CaregiverLinkFactory.create(patient=patient)
        patients.append(patient)
    return patients


# --- One builder per list endpoint ----------------------------------------------------------


def exercises(world, library, n: int) -> Listing:
    """n exercises of world.org, besides the shipped library and the `library` fixture."""
    codes: dict[str, Any] = {  # code lists (CodeListField: the stubs type them as str)
        "body_regions": ["leg"],
        "muscle_groups": ["quadriceps"],
        "equipment": ["chair"],
    }
    Exercise.objects.bulk_create(
        Exercise(
            organisation=world.org,
            created_by=world.physio,
            name=f"Clinic exercise {i}",
            instructions="1. Slowly.",
            category="resistance",
            default_dose={"sets": 2, "reps": 10},
            **codes,
        )
        for i in range(n)
    )
    shipped = Exercise.objects.filter(organisation__isnull=True).count()
    return Listing(world.physio, "/api/v1/exercises/", shipped + n)


def programmes(world, library, n: int) -> Listing:
    """n patients of the physiotherapist, each with an active programme of 3 items."""
    for patient in _team_patients(world, n):
        _programme(world, library, patient)
    return Listing(world.physio, "/api/v1/programmes/", n)


def versions(world, library, n: int) -> Listing:
    """One programme revised until it has n versions of 3 items each."""
    programme = _programme(world, library)
    for number in range(2, n + 1):
        programme_revise(
            programme=programme,
            by=world.physio,
            content=content(library, title=f"Block {number}"),
            reason=f"Revision {number}",
        )
    return Listing(world.physio, f"/api/v1/programmes/{programme.pk}/versions/", n)


def sessions(world, library, n: int) -> Listing:
    """n logs of world.patient, each with 3 item results."""
    programme = _programme(world, library)
    for hours_ago in range(1, n + 1):
        _log(world, programme, hours_ago)
    return Listing(world.physio, "/api/v1/sessions/", n)


def assessments(world, library, n: int) -> Listing:
    """n home and clinic measures of world.patient by different people."""
    measurers = [world.physio, world.nurse, world.patient.user]
    now = timezone.now()
    Assessment.objects.bulk_create(
        Assessment(
            patient=world.patient,
            measure="STS30",
            value=Decimal(10 + i % 5),
            unit="count",
            setting="home",
            measured_at=now - timedelta(days=i + 1),
            measured_by=measurers[i % 3],
        )
        for i in range(n)
    )
    return Listing(world.physio, "/api/v1/assessments/", n)


def proposals(world, library, n: int) -> Listing:
    """n open proposals on n items of world.patient's programme."""
    programme = _programme(world, library)
    exercises_ = list(library.values())
    items = ProgrammeItem.objects.bulk_create(
        ProgrammeItem(
            version=programme.current_version,
            position=100 + i,
            exercise=exercises_[i % len(exercises_)],
            sets=2,
            reps=10,
        )
        for i in range(n)
    )
    ProgressionProposal.objects.bulk_create(proposal_on(item) for item in items)
    return Listing(world.physio, "/api/v1/progression-proposals/", n)


def notifications(world, library, n: int) -> Listing:
    """n notifications in the patient's inbox."""
    Notification.objects.bulk_create(
        Notification(
            recipient=world.patient.user,
            patient=world.patient,
            kind="programme_changed",
            title="Your exercise programme has changed",
            body="More sets.",
            subject_type="programme",
            subject_id=i + 1,
            dedup_key=f"test:{i}",
        )
        for i in range(n)
    )
    return Listing(world.patient.user, "/api/v1/notifications/", n)


def patients(world, library, n: int) -> Listing:
    """n patients with a programme, logs this week and a caregiver; world.patient is the +1."""
    for patient in _team_patients(world, n):
        programme = _programme(world, library, patient)
        _log(world, programme, 1)
        _log(world, programme, 3, by=world.physio)
    return Listing(world.physio, "/api/v1/patients/", n + 1)


# Queries per request, whatever N (pinned as measured). Every list starts with
#   1. JWT authentication loads the user,
# and pages with the paginator's COUNT(*) over the viewer-scoped queryset, then the page.
# A list of patient records read by a clinician ends with AUDIT: one INSERT of the page's
# audit events (backend.audit), whatever the page holds.
AUDIT = 1
QUERIES: dict[str, tuple[Callable[..., Listing], int]] = {
    # 2. COUNT; 3. the page of exercises.
    "exercises": (exercises, 3),
    # 2. COUNT; 3. the page of programmes joined to their current version and patient user;
    # 4. the current versions' items joined to their exercises (prefetch).
    "programmes": (programmes, 4 + AUDIT),
    # 2. the programme (scoped) joined to its current version; 3. COUNT of the versions;
    # 4. the page of versions joined to their author; 5. their items joined to their
    # exercises (prefetch).
    "versions": (versions, 5 + AUDIT),
    # 2. COUNT; 3. the page of logs joined to their version;
    # 4. the logs' item results joined to their items (prefetch).
    "sessions": (sessions, 4 + AUDIT),
    # 2. COUNT; 3. the page of assessments joined to who measured them.
    "assessments": (assessments, 3 + AUDIT),
    # 2. COUNT; 3. the page of proposals joined to their exercise, programme and item.
    "proposals": (proposals, 3 + AUDIT),
    # 2. COUNT; 3. the page of notifications.
    "notifications": (notifications, 3),
    # 2. COUNT; 3. the page of patients joined to user and organisation; 4. their care teams
    # with the members (prefetch); 5. their caregiver links with the caregivers (prefetch);
    # 6. programmes in force with their current versions; 7. each patient's last session time
    # and last pain (two subqueries in one query); 8. the logs of the last eight days;
    # 9. open alert counts per patient.
    "patients": (patients, 9 + AUDIT),
}


@pytest.mark.parametrize("n", [1, 50])
@pytest.mark.parametrize("endpoint", list(QUERIES))
def test_list_runs_a_fixed_number_of_queries(world, library, client_for, endpoint, n):
    # Given N rows the viewer may see, and a client signed in beforehand
    build, expected_queries = QUERIES[endpoint]
    listing = build(world, library, n)
    client = client_for(listing.viewer)

    # When the viewer lists them (one page holds them all)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(listing.url, {"page_size": 200})

    # Then every row is there, and the query count is the endpoint's constant
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert body["count"] == listing.count
    assert len(body["results"]) == listing.count
    assert len(queries) == expected_queries, "\n".join(q["sql"] for q in queries.captured_queries)
