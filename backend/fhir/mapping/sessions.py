"""Session logs → Observation (LOINC 73985-4 exercise activity) and its Provenance."""

from __future__ import annotations

from typing import Any

from backend.accounts.models import User
from backend.exercise.codes import IntensityScale
from backend.exercise.models import SessionLog
from backend.fhir import codes
from backend.fhir.mapping.common import (
    instant,
    patient_reference,
    person_reference,
    quantity,
    reference,
)

# The session's own measures without a LOINC code, in codes.SESSION_MEASURES.
EFFORT_CODES: dict[str, tuple[str, str]] = {
    IntensityScale.RPE: ("effort-borg-rpe-6-20", "Perceived exertion, Borg RPE 6–20"),
    IntensityScale.CR10: ("effort-borg-cr10", "Perceived exertion, Borg CR10 0–10"),
}


def observation_id(session: SessionLog) -> str:
    return f"session-{session.pk}"


def _pain(when: str, value: int) -> dict[str, Any]:
    code = codes.concept(codes.LOINC, *codes.PAIN_SEVERITY)
    code["coding"].append(codes.coding(codes.SESSION_MEASURES, f"pain-{when}", f"Pain {when}"))
    code["text"] = f"Pain {when} the session (0–10)"
    return {"code": code, "valueInteger": value}


def _components(session: SessionLog) -> list[dict[str, Any]]:
    minutes = round((session.ended_at - session.started_at).total_seconds() / 60)
    found: list[dict[str, Any]] = [
        {
            "code": codes.concept(codes.LOINC, *codes.EXERCISE_DURATION),
            "valueQuantity": quantity(minutes, "min", "min"),
        },
        {
            "code": codes.concept(codes.SESSION_MEASURES, "completion", "Completion"),
            "valueCodeableConcept": codes.concept(
                codes.SESSION_MEASURES, session.completion, session.get_completion_display()
            ),
        },
    ]
    if session.pain_before is not None:
        found.append(_pain("before", session.pain_before))
    if session.pain_after is not None:
        found.append(_pain("after", session.pain_after))
    if session.fatigue is not None:
        found.append(
            {
                "code": codes.concept(codes.SESSION_MEASURES, "fatigue", "Fatigue (0–10)"),
                "valueInteger": session.fatigue,
            }
        )
    if session.effort_scale and session.effort_value is not None:
        code, display = EFFORT_CODES[session.effort_scale]
        found.append(
            {
                "code": codes.concept(codes.SESSION_MEASURES, code, display),
                "valueQuantity": quantity(
                    session.effort_value, session.get_effort_scale_display(), "{score}"
                ),
            }
        )
    return found


def session_to_fhir(session: SessionLog, *, patient_user_id: int) -> dict[str, Any]:
    """One log (session.recorded_by and session.results loaded): the activity performed, based
    on the ServiceRequests of the items it reports and on the revision it performed. A
    supervised session names the clinician who recorded it among the performers."""
    performers = [patient_reference(session.patient_id)]
    recorder: User = session.recorded_by
    if session.supervised and recorder.pk != patient_user_id and recorder.is_clinician:
        performers.append(
            person_reference(
                recorder, patient_id=session.patient_id, patient_user_id=patient_user_id
            )
        )
    based_on = [reference("CarePlan", session.version_id)] + [
        reference("ServiceRequest", result.item_id) for result in session.results.all()
    ]
    value = codes.concept(codes.SNOMED, *codes.EXERCISE_THERAPY)
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": observation_id(session),
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{session.client_id}"}],
        "basedOn": based_on,
        "status": "final",
        "category": [codes.physical_activity_category()],
        "code": codes.concept(codes.LOINC, *codes.EXERCISE_ACTIVITY),
        "subject": patient_reference(session.patient_id),
        "effectivePeriod": {"start": instant(session.started_at), "end": instant(session.ended_at)},
        "issued": instant(session.created_at),
        "performer": performers,
        "valueCodeableConcept": value,
        "component": _components(session),
    }
    notes = [session.note] if session.note else []
    if session.symptoms:
        notes.append("Symptoms reported: " + ", ".join(session.symptoms))
    if notes:
        resource["note"] = [{"text": text} for text in notes]
    return resource


def provenance_to_fhir(session: SessionLog, *, patient_user_id: int) -> dict[str, Any]:
    """Who recorded the log, and whether it was supervised (a clinician present: the record
    is theirs) or self-reported (the patient or a caregiver entered it)."""
    recorder = person_reference(
        session.recorded_by, patient_id=session.patient_id, patient_user_id=patient_user_id
    )
    how = "supervised" if session.supervised else "self-reported"
    return {
        "resourceType": "Provenance",
        "id": observation_id(session),
        "target": [reference("Observation", observation_id(session))],
        "recorded": instant(session.created_at),
        "activity": codes.concept(codes.DATA_OPERATION, "CREATE", "create"),
        "reason": [codes.concept(codes.SESSION_MEASURES, how, how.capitalize())],
        "agent": [
            {
                "type": codes.concept(codes.PROVENANCE_PARTICIPANT, "author", "Author"),
                "who": recorder,
            }
        ],
    }
