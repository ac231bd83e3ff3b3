"""Builders for the records tests set up again and again: an alert a rule raised, an open
progression proposal, a session log recorded through the service, audit events.

tests/factories.py holds the factory_boy factories of people and organisations; these build
clinical records through the same services production uses (alerts_raise,
session_log_record), so a test's setup takes the path real data takes. Each takes the values
tests vary as keywords and defaults the rest.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from backend.accounts.models import PatientProfile, User
from backend.alerts.models import Alert
from backend.alerts.services.alerting import Audience, Finding, alerts_raise
from backend.audit.models import AccessEvent
from backend.exercise.models import Exercise, Programme, ProgrammeItem, ProgressionProposal
from backend.exercise.services.programmes import programme_create
from backend.exercise.services.sessions import Recorded, session_log_record
from tests.conftest import World
from tests.exercise.conftest import content, make_exercise

PROGRESSION_EVIDENCE = {"rule": {"id": "PROG-1", "version": 1}}


# --- Alerts ----------------------------------------------------------------------------------


def finding(
    patient: PatientProfile,
    *,
    key: str,
    rule_id: str = "FD-1",
    urgency: str = "routine",
    reason: str = "test",
    evidence: dict[str, Any] | None = None,
    period: tuple[date, date] | None = None,
    audience: str = Audience.PHYSIO,
) -> Finding:
    """What a rule reports about the patient; `key` makes it distinct (its period key), and the
    period is today unless given."""
    today = timezone.localdate()
    start, end = period or (today, today)
    return Finding(
        patient_id=patient.pk,
        rule_id=rule_id,
        urgency=urgency,
        reason=reason,
        evidence={} if evidence is None else evidence,
        period_start=start,
        period_end=end,
        period_key=key,
        audience=audience,
    )


def alert_raised(patient: PatientProfile, *, key: str, **finding_fields: Any) -> Alert:
    """One alert raised as the rules raise it (notifications and their deliveries included)."""
    (alert,) = alerts_raise([finding(patient, key=key, **finding_fields)])
    return alert


# --- Programmes and logs ---------------------------------------------------------------------


def programme_with_clinic_exercise(
    world: World, library: dict[str, Exercise]
) -> tuple[Programme, Exercise]:
    """world.patient's active programme, by world.physio: the library's usual content and
    then an exercise of world.org's own (2 × 8), returned too."""
    clinic_exercise = make_exercise(
        "Step-up onto a low step", organisation=world.org, created_by=world.physio
    )
    items = [*content(library)["items"], {"exercise": clinic_exercise.pk, "sets": 2, "reps": 8}]
    programme = programme_create(
        by=world.physio,
        patient=world.patient,
        content=content(library, items=items),
        activate=True,
    ).programme
    return programme, clinic_exercise


def proposal_on(
    item: ProgrammeItem, *, evidence: dict[str, Any] = PROGRESSION_EVIDENCE
) -> ProgressionProposal:
    """An open proposal (not saved yet) to raise the item's sets from 2 to 3."""
    return ProgressionProposal(
        programme_id=item.version.programme_id,
        item=item,
        exercise_id=item.exercise_id,
        change="sets",
        current_value=Decimal(2),
        proposed_value=Decimal(3),
        evidence=evidence,
    )


def proposal_open(
    programme: Programme, *, evidence: dict[str, Any] = PROGRESSION_EVIDENCE
) -> ProgressionProposal:
    """An open proposal, stored, to raise the sets of the programme's first item."""
    version = programme.current_version
    assert version is not None
    item = version.items.order_by("position").first()
    assert item is not None
    proposal = proposal_on(item, evidence=evidence)
    proposal.save()
    return proposal


def done_as_prescribed(programme: Programme) -> dict[str, Any]:
    """The detail of a full log (validated values, not JSON): every item of the current
    version done as prescribed, moderate effort, mild pain and fatigue, no symptoms."""
    version = programme.current_version
    assert version is not None
    return {
        "effort_scale": "rpe_6_20",
        "effort_value": Decimal(11),
        "pain_before": 2,
        "pain_after": 3,
        "fatigue": 4,
        "symptoms": [],
        "note": "",
        "results": [
            {"item": item.pk, "sets_done": item.sets, "reps_done": item.reps}
            if item.sets
            else {"item": item.pk, "duration_minutes_done": item.duration_minutes}
            for item in version.items.order_by("position")
        ],
    }


def session_logged(
    programme: Programme,
    *,
    started_at: datetime,
    minutes: int = 30,
    completion: str = "full",
    by: User | None = None,
    **fields: Any,
) -> Recorded:
    """A log of the programme's current version recorded through session_log_record, as the
    API does after validation; by the programme's patient unless `by` says who. `fields` add
    to (or replace) the minimal log: pain, results, a fixed client_id…"""
    return session_log_record(
        by=by or programme.patient.user,
        patient=programme.patient,
        data={
            "client_id": uuid.uuid4(),
            "version": programme.current_version_id,
            "started_at": started_at,
            "ended_at": started_at + timedelta(minutes=minutes),
            "completion": completion,
            **fields,
        },
    )


# --- Audit -----------------------------------------------------------------------------------


def access_event(
    actor: User,
    patient: PatientProfile | None,
    *,
    action: str = "read",
    resource: str = "patient",
    at: datetime | None = None,
    **extra: Any,
) -> AccessEvent:
    """An audit event stored directly (not through a request): the actor's role and
    organisation at the time, about the patient's record unless `resource_id` says otherwise."""
    fields: dict[str, Any] = {
        "resource_id": patient.pk if patient else None,
        **extra,
    }
    return AccessEvent.objects.create(
        occurred_at=at or timezone.now(),
        actor=actor,
        actor_role=actor.role,
        organisation_id=actor.organisation_id,
        patient=patient,
        action=action,
        resource_type=resource,
        **fields,
    )


def session_reads(
    patient: PatientProfile, readers: Sequence[User], n: int, start: datetime
) -> None:
    """n reads of the patient's sessions, a minute apart, by the readers in turn (all recorded
    as a physiotherapist's: what matters is how many rows, not who)."""
    AccessEvent.objects.bulk_create(
        AccessEvent(
            occurred_at=start + timedelta(minutes=i),
            actor=readers[i % len(readers)],
            actor_role="physiotherapist",
            organisation_id=patient.user.organisation_id,
            patient=patient,
            action="read",
            resource_type="session",
            resource_id=i,
        )
        for i in range(n)
    )
