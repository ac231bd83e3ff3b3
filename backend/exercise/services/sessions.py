"""Session logs from phones that are often offline: idempotent by the phone's client_id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Exists, Prefetch
from django.utils import timezone

from backend.accounts.models import PatientProfile, Role, User
from backend.alerts.services.decline import decline_check_request
from backend.core.errors import DomainError
from backend.exercise.codes import SCALE_RANGES
from backend.exercise.models import (
    ProgrammeItem,
    ProgrammeVersion,
    SessionItemResult,
    SessionLog,
    SessionLogRevision,
)
from backend.exercise.services.common import ANY_CLINICIAN, require_not_future
from backend.exercise.services.progression import progression_evaluate
from backend.exercise.services.session_insert import session_log_insert
from backend.symptoms.models import ReportSource
from backend.symptoms.services import (
    ReportOutcome,
    reported_from,
    symptom_report_record,
)

EDIT_WINDOW = timedelta(hours=24)
# A phone clock a few minutes fast must not cost a log: a log ending up to this far in the
# future is stored as sent, with how far ahead it was (issue: time tolerance).
FUTURE_TOLERANCE = timedelta(minutes=15)
SESSION_FIELDS = (
    "started_at",
    "ended_at",
    "completion",
    "effort_scale",
    "effort_value",
    "pain_before",
    "pain_after",
    "fatigue",
    "symptoms",
    "note",
)
RESULT_FIELDS = (
    "sets_done",
    "reps_done",
    "load_value",
    "load_unit",
    "duration_minutes_done",
    "skipped",
    "skip_reason",
)


@dataclass(frozen=True)
class Recorded:
    session: SessionLog
    created: bool
    symptoms: ReportOutcome | None = None  # what this request's symptoms stored and raised


def _check(
    data: dict[str, Any],
    patient: PatientProfile,
    version: ProgrammeVersion,
    items: dict[int, ProgrammeItem],
) -> None:
    errors: dict[str, Any] = {}
    started, ended = data["started_at"], data["ended_at"]
    now = timezone.now()
    for name in ("started_at", "ended_at"):
        try:
            require_not_future(data[name], name, now=now, tolerance=FUTURE_TOLERANCE)
        except DomainError as error:
            errors.update(error.errors or {})
    if ended <= started:
        errors["ended_at"] = ["Must be after started_at."]
    elif ended - started > timedelta(hours=12):
        errors["ended_at"] = ["A session cannot last more than 12 hours."]
    local_start = timezone.localtime(started, ZoneInfo(patient.timezone)).date()
    if local_start < version.start_date:
        errors["started_at"] = [f"Before the programme started ({version.start_date})."]
    scale, effort = data.get("effort_scale") or "", data.get("effort_value")
    if bool(scale) != (effort is not None):
        errors["effort_value"] = ["effort_scale and effort_value go together."]
    elif scale and effort is not None:
        low, high = SCALE_RANGES[scale]
        if not low <= effort <= high:
            errors["effort_value"] = [f"Must be within {low}–{high} on {scale}."]
    result_errors: dict[str, list[str]] = {}
    seen: set[int] = set()
    for index, result in enumerate(data.get("results", [])):
        item_id = result["item"]
        if item_id not in items:
            result_errors[str(index)] = [f"Item {item_id} is not part of version {version.number}."]
        elif item_id in seen:
            result_errors[str(index)] = [f"Item {item_id} appears twice."]
        seen.add(item_id)
    if result_errors:
        errors["results"] = result_errors
    if errors:
        raise DomainError("The session log is not valid.", errors=errors)


def _prescribed_unless_stored(
    patient: PatientProfile, data: dict[str, Any]
) -> SessionLog | tuple[ProgrammeVersion, dict[int, ProgrammeItem]]:
    """The log already stored under the upload's client_id (a replay), or else the patient's
    version the log is for and its items. One query for a new log whose version has items
    (always, when prescribed through the API): each item row also says whether the
    client_id is stored, so a new log needs no read of its own for that."""
    stored = SessionLog.objects.filter(patient=patient, client_id=data["client_id"])
    items = list(
        ProgrammeItem.objects.select_related("version__programme")
        .filter(version_id=data["version"], version__programme__patient=patient)
        .annotate(client_id_stored=Exists(stored))
    )
    if not items or items[0].client_id_stored:
        existing = _stored(patient, data["client_id"])
        if existing is not None:
            return existing
    if items:
        return items[0].version, {item.pk: item for item in items}
    version = (
        ProgrammeVersion.objects.select_related("programme")
        .filter(pk=data["version"], programme__patient=patient)
        .first()
    )
    if version is None:
        raise DomainError(
            "That programme version is not one of this patient's.",
            errors={"version": ["Not a version of this patient's programmes."]},
        )
    return version, {}


def _results_of(
    session: SessionLog, results: list[dict[str, Any]], items: dict[int, ProgrammeItem]
) -> list[SessionItemResult]:
    return [
        SessionItemResult(
            session=session,
            item=items[result["item"]],
            exercise_id=items[result["item"]].exercise_id,
            **{name: result[name] for name in RESULT_FIELDS if result.get(name) is not None},
        )
        for result in results
    ]


def _write_results(
    session: SessionLog, results: list[dict[str, Any]], items: dict[int, ProgrammeItem]
) -> None:
    written = SessionItemResult.objects.bulk_create(_results_of(session, results, items))
    _remember_results(session, sorted(written, key=lambda result: result.item.position))


def _remember_results(session: SessionLog, results: list[SessionItemResult]) -> None:
    """Makes `session.results.all()` answer from the rows just written, as a prefetch would
    (Django's own prefetch fills the same cache), so the response needs no re-read."""
    cached = session.results.all()
    cached._result_cache = results
    cached._prefetch_done = True  # type: ignore[attr-defined]
    session._prefetched_objects_cache = {"results": cached}  # type: ignore[attr-defined]


def session_log_record(*, by: User, patient: PatientProfile, data: dict[str, Any]) -> Recorded:
    """Stores a log once. A replay with a known client_id returns the stored log unchanged,
    also when two uploads race (the unique constraint decides, the loser reads the winner)."""
    prescribed = _prescribed_unless_stored(patient, data)
    if isinstance(prescribed, SessionLog):
        return _replayed(by, patient, prescribed, data)
    version, items = prescribed
    _check(data, patient, version, items)
    ahead = (data["ended_at"] - timezone.now()).total_seconds()
    session = SessionLog(
        patient=patient,
        client_id=data["client_id"],
        programme=version.programme,
        version=version,
        programme_status_at_log=version.programme.status,
        recorded_by=by,
        supervised=by.role in ANY_CLINICIAN,
        clock_ahead_seconds=round(ahead) if ahead > 0 else None,
        **{name: data[name] for name in SESSION_FIELDS if data.get(name) is not None},
    )
    results = _results_of(session, data.get("results", []), items)
    with transaction.atomic(savepoint=False):  # all or nothing, in the caller's transaction
        if session_log_insert(session, results):
            _remember_results(session, sorted(results, key=lambda result: result.item.position))
            symptoms = _report_symptoms(by, patient, session, data, ReportSource.SESSION)
            progression_evaluate(session=session, items=items)
            decline_check_request(patient_id=session.patient_id)
            return Recorded(session, created=True, symptoms=symptoms)
    # The same client_id raced in and its upload committed first (the INSERT waited for it):
    # this upload is a replay of that one.
    existing = _stored(patient, data["client_id"])
    if existing is None:  # the INSERT saw a row this read cannot: never under READ COMMITTED
        raise DomainError(
            "This upload collided with another; retry it.", code="conflict", status=409
        )
    return _replayed(by, patient, existing, data)


def _report_symptoms(
    by: User, patient: PatientProfile, session: SessionLog, data: dict[str, Any], source: str
) -> ReportOutcome | None:
    """Red flags first: the report and its alerts exist before the response is sent, and
    before progression is weighed (DOMAIN.md 5 and 7)."""
    reported = reported_from({**data, "note": data.get("note") or ""})
    if not reported.anything:
        return None
    return symptom_report_record(
        by=by,
        patient=patient,
        reported=reported,
        source=source,
        session=session,
        log_client_id=session.client_id,
        reported_at=session.ended_at,
    )


def _replayed(
    by: User, patient: PatientProfile, existing: SessionLog, data: dict[str, Any]
) -> Recorded:
    """A replay returns the stored log unchanged, but symptoms it adds are stored and alerted
    (the phone may have ticked them after the first upload got lost). A plain retry, the
    common case, costs no query for this."""
    same = all(data.get(name) == getattr(existing, name) for name in ("pain_before", "pain_after"))
    if same and set(data.get("symptoms") or []) <= set(existing.symptoms):
        return Recorded(existing, created=False)
    symptoms = _report_symptoms(by, patient, existing, data, ReportSource.FOLLOW_UP)
    return Recorded(existing, created=False, symptoms=symptoms)


def _stored(patient: PatientProfile, client_id: Any) -> SessionLog | None:
    """The log already stored under this client_id (even a deleted one), with what its
    response shows: a replay answers with exactly what the first upload got."""
    return (
        SessionLog.objects.select_related("version")
        # The results with their items in one query, not two.
        .prefetch_related(Prefetch("results", SessionItemResult.objects.select_related("item")))
        .filter(patient=patient, client_id=client_id)
        .first()
    )


def _snapshot(session: SessionLog) -> dict[str, Any]:
    values = {name: getattr(session, name) for name in SESSION_FIELDS}
    values["results"] = [
        {"item": result.item_id, **{name: getattr(result, name) for name in RESULT_FIELDS}}
        for result in session.results.all()
    ]
    return _jsonable(values)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)  # Decimal


def _require_editable(session: SessionLog, by: User) -> None:
    if session.deleted_at is not None:
        raise DomainError("This session log was deleted.", code="conflict", status=409)
    if session.supervised:
        # A clinician's record of a supervised session: the patient side may not rewrite it.
        on_team = by.role in ANY_CLINICIAN and session.patient.care_team.filter(member=by).exists()
        if by.pk != session.recorded_by_id and not on_team:
            raise DomainError(
                "A supervised session is changed only by its recorder or the care team.",
                code="permission_denied",
                status=403,
            )
    elif (
        by.pk not in {session.recorded_by_id, session.patient.user_id} and by.role != Role.CAREGIVER
    ):
        raise DomainError(
            "Only the person who logged this session may change it.",
            code="permission_denied",
            status=403,
        )
    if timezone.now() - session.created_at > EDIT_WINDOW:
        raise DomainError(
            "Session logs can be changed for 24 hours; this one is now read-only.",
            code="edit_window_closed",
            status=409,
        )


@transaction.atomic
def session_log_update(*, session: SessionLog, by: User, changes: dict[str, Any]) -> SessionLog:
    session = (
        SessionLog.objects.select_for_update()
        .select_related("version__programme__patient", "patient")
        .get(pk=session.pk)
    )
    _require_editable(session, by)
    previous = _snapshot(session)
    items = {item.pk: item for item in session.version.items.all()}
    merged = {**previous, **{name: getattr(session, name) for name in SESSION_FIELDS}, **changes}
    merged.setdefault("results", previous["results"])
    _check(merged, session.patient, session.version, items)
    SessionLogRevision.objects.create(
        session=session, previous=previous, revised_by=by, action="edit"
    )
    # A symptom added in a correction is as urgent as one in a new log; only new ones alert
    # (compared with the log as it was, so this runs before the changes are applied).
    _report_symptoms(by, session.patient, session, {**merged, **changes}, ReportSource.FOLLOW_UP)
    for name in SESSION_FIELDS:
        if name in changes:
            setattr(session, name, changes[name])
    session.save()
    if "results" in changes:
        session.results.all().delete()
        _write_results(session, changes["results"], items)
    decline_check_request(patient_id=session.patient_id)
    return session


@transaction.atomic
def session_log_delete(*, session: SessionLog, by: User) -> None:
    """Marks the log deleted (kept, so a late replay of its upload cannot bring it back)."""
    session = SessionLog.objects.select_for_update().select_related("patient").get(pk=session.pk)
    _require_editable(session, by)
    SessionLogRevision.objects.create(
        session=session, previous=_snapshot(session), revised_by=by, action="delete"
    )
    session.deleted_at = timezone.now()
    session.save(update_fields=["deleted_at", "updated_at"])
