"""A patient's record to export, built through the services production uses: a programme of
two revisions, session logs (one supervised), assessments and an acknowledged alert.

Call inside frozen time (`NOW`): everything is dated from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from backend.alerts.models import Alert
from backend.alerts.services.alerting import Audience, alert_acknowledge
from backend.exercise.models import Assessment, Exercise, Programme, SessionLog
from backend.exercise.services.assessments import assessment_record
from backend.exercise.services.programmes import programme_create, programme_revise
from tests.builders import alert_raised, done_as_prescribed, session_logged
from tests.conftest import World
from tests.exercise.conftest import content, make_exercise

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday
TWO_YEARS = timedelta(days=730)


@dataclass
class Record:
    programme: Programme
    sessions: list[SessionLog] = field(default_factory=list)
    supervised: SessionLog | None = None
    assessments: dict[str, Assessment] = field(default_factory=dict)
    alert: Alert | None = None


def library() -> dict[str, Exercise]:
    return {
        "squat": make_exercise("Chair squat", body_regions=["leg", "hip"]),
        "curl": make_exercise(
            "Biceps curl", body_regions=["arm"], muscle_groups=["biceps_brachii"]
        ),
        "bike": make_exercise(
            "Stationary cycling", "aerobic", body_regions=["whole_body"], muscle_groups=[]
        ),
    }


def record_of(world: World, *, sessions: int = 3, history: timedelta = TWO_YEARS) -> Record:
    """world.patient's record: a programme started `history` ago with `sessions` self-reported
    logs spread evenly over it, then revised today (version 2) and one supervised log of the
    new version; a CMAS and an eGFR by the physiotherapist, an STS30 by the patient; an urgent
    alert whose evidence names the newest self-reported log, acknowledged."""
    exercises = library()
    start = (NOW - history).date()
    programme = programme_create(
        by=world.physio,
        patient=world.patient,
        content=content(exercises, start_date=start, review_date=None),
        activate=True,
    ).programme
    record = Record(programme=programme)
    step = history / max(sessions, 1)
    for n in range(sessions):
        began = NOW - history + step * n + timedelta(hours=17)
        record.sessions.append(
            session_logged(programme, started_at=began, **done_as_prescribed(programme)).session
        )
    programme_revise(
        programme=programme,
        by=world.physio,
        content=content(exercises, start_date=NOW.date(), review_date=None),
        reason="Three sets now",
    )
    programme.refresh_from_db()
    record.supervised = session_logged(
        programme,
        started_at=NOW - timedelta(hours=2),
        minutes=40,
        by=world.physio,
        supervised=True,
        **done_as_prescribed(programme),
    ).session
    for measure, value, setting, by in (
        ("CMAS", Decimal(38), "clinic", world.physio),
        ("EGFR", Decimal(95), "clinic", world.physio),
        ("STS30", Decimal(12), "home", world.patient.user),
    ):
        record.assessments[measure] = assessment_record(
            by=by,
            patient=world.patient,
            data={
                "measure": measure,
                "value": value,
                "setting": setting,
                "measured_at": NOW - timedelta(days=1),
            },
        )
    if record.sessions:
        alert = alert_raised(
            world.patient,
            key="export",
            rule_id="FD-4",
            urgency="urgent",
            reason="Pain after sessions rose above the 14-day median.",
            evidence={"entries": [{"session_id": record.sessions[-1].pk, "pain_after": 3}]},
            audience=Audience.TEAM,
        )
        record.alert = alert_acknowledge(alert=alert, by=world.physio)
    return record


def valid_bundle(body: dict[str, Any]) -> Bundle:
    """The Bundle as fhir.resources' R4B models parse it, each entry by its own type too: a
    resource that does not parse fails the test."""
    bundle = Bundle.model_validate(body)
    for entry in body.get("entry", []):
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return bundle


def resources_of(body: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [
        entry["resource"]
        for entry in body.get("entry", [])
        if entry["resource"]["resourceType"] == resource_type
    ]
