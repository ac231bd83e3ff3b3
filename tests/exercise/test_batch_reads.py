"""The weekly job's read of each patient's last session before its window (A-3's gap): one
query for a batch, each patient's newest earlier log, deleted logs ignored."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.accounts.models import PatientProfile
from backend.exercise.models import Programme, SessionLog
from backend.exercise.selectors import last_session_before
from backend.exercise.services.programmes import programme_create
from tests.conftest import World
from tests.exercise.conftest import content
from tests.factories import CareTeamMembershipFactory, PatientProfileFactory

pytestmark = pytest.mark.django_db

BOUND = datetime(2026, 11, 1, tzinfo=UTC)


def _log(programme: Programme, started_at: datetime, *, deleted: bool = False) -> None:
    assert programme.current_version is not None
    SessionLog.objects.create(
        patient=programme.patient,
        client_id=uuid.uuid4(),
        programme=programme,
        version=programme.current_version,
        programme_status_at_log=programme.status,
        recorded_by=programme.patient.user,
        started_at=started_at,
        ended_at=started_at + timedelta(minutes=30),
        completion="full",
        deleted_at=started_at + timedelta(hours=1) if deleted else None,
    )


def _patient_with_programme(world: World, library: dict) -> Programme:
    patient = PatientProfileFactory.create(user__organisation=world.org)
    CareTeamMembershipFactory.create(patient=patient, member=world.physio)
    return programme_create(
        by=world.physio, patient=patient, content=content(library), activate=True
    ).programme


def test_each_patients_newest_log_before_the_bound_in_one_query(world, library, programme):
    regular = programme  # the world's patient
    _log(regular, BOUND - timedelta(days=30))
    _log(regular, BOUND - timedelta(days=3))  # the newest before the bound
    _log(regular, BOUND)  # at the bound: not before it
    _log(regular, BOUND + timedelta(days=2))
    deleted_last = _patient_with_programme(world, library)
    _log(deleted_last, BOUND - timedelta(days=20))
    _log(deleted_last, BOUND - timedelta(days=1), deleted=True)  # a deleted log never counts
    only_later = _patient_with_programme(world, library)
    _log(only_later, BOUND + timedelta(days=1))
    never: PatientProfile = PatientProfileFactory.create(user__organisation=world.org)
    ids = [regular.patient_id, deleted_last.patient_id, only_later.patient_id, never.pk]

    with CaptureQueriesContext(connection) as queries:
        found = last_session_before(ids, before=BOUND)

    assert found == {
        regular.patient_id: BOUND - timedelta(days=3),
        deleted_last.patient_id: BOUND - timedelta(days=20),
    }
    assert len(queries) == 1
    # Each patient's newest log is one step down session_patient_newest (LIMIT 1), not a MAX
    # over the whole history of the batch (115 ms for 500 patients with two years of logs,
    # docs/explain.md).
    (sql,) = (query["sql"] for query in queries.captured_queries)
    assert "LIMIT 1" in sql
    assert "MAX(" not in sql.upper()
