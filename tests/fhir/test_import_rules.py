"""An imported result runs the decline and kidney rules exactly as a manual entry does
(shared/DOMAIN.md 2 and 6; tests/alerts/test_decline_rules.py): the same check is asked for
after commit, and the alert raised is the one a clinician's entry of the value raises."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from backend.accounts.models import PatientProfile, User
from backend.alerts.models import Alert, DeclineCheck
from backend.exercise.services.assessments import assessment_record
from tests.conftest import World
from tests.factories import CareTeamMembershipFactory, ClinicianFactory
from tests.fhir.importing import (
    NOW,
    OBSERVATION_URL,
    egfr,
    frozen_now,
    lab,
    lab_client,
    measure,
    post,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]
__all__ = ["frozen_now", "lab", "lab_client"]  # fixtures


@pytest.fixture
def tasks_run_inline() -> Iterator[None]:
    """Celery runs each published task at once in this process, as a worker would."""
    from config.celery import app

    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


@pytest.fixture
def physicians(world: World) -> dict[int, User]:
    """A physician on each of the two patients' teams (KID rules alert the whole team)."""
    doctors = {}
    for patient in (world.patient, world.other_patient):
        doctor = ClinicianFactory.create(organisation=world.org, role="physician")
        CareTeamMembershipFactory.create(patient=patient, member=doctor, role="physician")
        doctors[patient.pk] = doctor
    return doctors


def _manual(world: World, patient: PatientProfile, value: int, days_ago: int) -> None:
    physio = world.physio if patient == world.patient else world.other_team_physio
    assessment_record(
        by=physio,
        patient=patient,
        data={
            "measure": "EGFR",
            "value": Decimal(value),
            "setting": "clinic",
            "measured_at": NOW - timedelta(days=days_ago),
        },
    )


def _comparable(alert: Alert) -> dict[str, Any]:
    """What a clinician reads: everything but the ids of the records involved."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "assessment_id"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return {
        "rule_id": alert.rule_id,
        "urgency": alert.urgency,
        "reason": alert.reason,
        "evidence": strip(alert.evidence),
    }


def _alerts(patient: PatientProfile) -> list[Alert]:
    return list(Alert.objects.filter(patient=patient).order_by("rule_id"))


def test_an_import_asks_for_the_patients_rule_check_after_commit(
    world: World,
    lab_client: APIClient,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(lab_client, OBSERVATION_URL, egfr(world.patient.pk, 59))

    assert response.status_code == 201
    assert list(DeclineCheck.objects.values_list("patient_id", flat=True)) == [world.patient.pk]
    assert len(callbacks) == 1


@pytest.mark.usefixtures("tasks_run_inline", "physicians")
@pytest.mark.parametrize(
    ("earlier", "latest", "rule_id"),
    [
        (None, 59, "KID-1"),  # eGFR below 60
        (100, 75, "KID-2"),  # a fall of 25 % from the last value
    ],
)
def test_an_imported_egfr_raises_the_alert_a_manual_entry_raises(
    world: World,
    lab_client: APIClient,
    django_capture_on_commit_callbacks: Callable[..., Any],
    earlier: int | None,
    latest: int,
    rule_id: str,
) -> None:
    # given the same history for two patients, entered by hand
    if earlier is not None:
        _manual(world, world.patient, earlier, days_ago=90)
        _manual(world, world.other_patient, earlier, days_ago=90)

    # when the latest value is imported for one and entered by hand for the other
    with django_capture_on_commit_callbacks(execute=True):
        response = post(lab_client, OBSERVATION_URL, egfr(world.patient.pk, latest))
    with django_capture_on_commit_callbacks(execute=True):
        _manual(world, world.other_patient, latest, days_ago=1)

    # then both raise the same alert
    assert response.status_code == 201
    imported_alerts, manual_alerts = _alerts(world.patient), _alerts(world.other_patient)
    assert [a.rule_id for a in imported_alerts] == [rule_id]
    assert [_comparable(a) for a in imported_alerts] == [_comparable(a) for a in manual_alerts]


@pytest.mark.usefixtures("tasks_run_inline")
def test_an_imported_egfr_of_60_raises_nothing(
    world: World,
    lab_client: APIClient,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        post(lab_client, OBSERVATION_URL, egfr(world.patient.pk, 60))

    assert _alerts(world.patient) == []


@pytest.mark.usefixtures("tasks_run_inline")
def test_an_imported_cmas_drop_raises_fd1_like_a_manual_one(
    world: World,
    lab_client: APIClient,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    for patient in (world.patient, world.other_patient):
        physio = world.physio if patient == world.patient else world.other_team_physio
        assessment_record(
            by=physio,
            patient=patient,
            data={
                "measure": "CMAS",
                "value": Decimal(46),
                "setting": "clinic",
                "measured_at": NOW - timedelta(days=60),
            },
        )

    with django_capture_on_commit_callbacks(execute=True):
        post(
            lab_client,
            OBSERVATION_URL,
            measure(world.patient.pk, "CMAS", 42, "{score}", identifier="c-1"),
        )
    with django_capture_on_commit_callbacks(execute=True):
        assessment_record(
            by=world.other_team_physio,
            patient=world.other_patient,
            data={
                "measure": "CMAS",
                "value": Decimal(42),
                "setting": "clinic",
                "measured_at": NOW - timedelta(days=1),
            },
        )

    imported_alerts, manual_alerts = _alerts(world.patient), _alerts(world.other_patient)
    assert [a.rule_id for a in imported_alerts] == ["FD-1"]
    assert [_comparable(a) for a in imported_alerts] == [_comparable(a) for a in manual_alerts]
