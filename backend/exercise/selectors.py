"""Reads of exercise data, always scoped to the viewer through `patients_visible_to`."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.db.models import (
    Count,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    prefetch_related_objects,
)
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from backend.accounts.models import PatientProfile, Role, User
from backend.accounts.selectors import of_visible_patients, patients_visible_to
from backend.alerts.selectors import open_alert_counts
from backend.exercise.codes import Completion
from backend.exercise.models import (
    Assessment,
    Exercise,
    Programme,
    ProgrammeEvent,
    ProgrammeItem,
    ProgrammeStatus,
    ProgrammeTemplate,
    ProgrammeVersion,
    ProgressionProposal,
    SessionItemResult,
    SessionLog,
    SessionLogRevision,
)

PATIENT_SIDE = {Role.PATIENT, Role.CAREGIVER}
SESSION_WEIGHT: dict[str, Decimal] = {
    Completion.FULL: Decimal(1),
    Completion.PARTIAL: Decimal("0.5"),
}


# --- Library --------------------------------------------------------------------------------


def exercises_visible_to(viewer: User) -> QuerySet[Exercise]:
    """Clinicians: the shipped library and their organisation's. Patients and caregivers:
    only the exercises of programmes prescribed to them."""
    if viewer.role in PATIENT_SIDE:
        prescribed = ProgrammeItem.objects.filter(
            version__programme__patient__in=patients_visible_to(viewer),
            version__programme__ever_active=True,
        ).values("exercise_id")
        return Exercise.objects.filter(pk__in=prescribed)
    if viewer.is_clinician:
        return Exercise.objects.filter(
            Q(organisation__isnull=True) | Q(organisation_id=viewer.organisation_id)
        )
    return Exercise.objects.none()


# --- Programmes -----------------------------------------------------------------------------


def _items_prefetch(prefix: str = "") -> Prefetch:
    return Prefetch(
        f"{prefix}items",
        queryset=ProgrammeItem.objects.select_related("exercise").order_by("position"),
    )


def programmes_visible_to(viewer: User) -> QuerySet[Programme]:
    """Patients and caregivers do not see drafts: a draft is the physiotherapist's notepad."""
    programmes = Programme.objects.filter(patient__in=patients_visible_to(viewer))
    if viewer.role in PATIENT_SIDE:
        programmes = programmes.filter(ever_active=True)
    return programmes.select_related("current_version", "patient__user").prefetch_related(
        _items_prefetch("current_version__")
    )


def programme_get(*, viewer: User, programme_id: int, with_items: bool = True) -> Programme:
    programmes = programmes_visible_to(viewer)
    if not with_items:
        programmes = programmes.prefetch_related(None)
    return get_object_or_404(programmes, pk=programme_id)


def programme_current(*, viewer: User, patient_id: int | None) -> Programme:
    """The patient's programme in force (active, else paused), or 404. Without its items
    (`programme_items_load` adds them): a conditional GET needs only `exercises_changed_at`,
    the newest edit to any exercise of the version in force."""
    exercises_changed_at = (
        ProgrammeItem.objects.filter(version_id=OuterRef("current_version_id"))
        .order_by()
        .values("version_id")
        .annotate(newest=Max("exercise__updated_at"))
        .values("newest")
    )
    programmes = (
        programmes_visible_to(viewer)
        .filter(status__in=[ProgrammeStatus.ACTIVE, ProgrammeStatus.PAUSED])
        .select_related(None)
        .select_related("current_version")
        .prefetch_related(None)
        .annotate(exercises_changed_at=Subquery(exercises_changed_at))
    )
    if patient_id is not None:
        programmes = programmes.filter(patient_id=patient_id)
    elif viewer.role == Role.PATIENT:
        programmes = programmes.filter(patient__user=viewer)
    else:
        programmes = programmes.none()
    # Active before paused; a patient has at most one active (a database constraint).
    found = sorted(programmes, key=lambda p: (p.status != ProgrammeStatus.ACTIVE, -p.pk))
    if not found:
        raise Http404("No programme in force.")
    return found[0]


def programme_items_load(programme: Programme) -> None:
    """The items of the version in force, with their exercises, as programmes_visible_to has."""
    prefetch_related_objects([programme], _items_prefetch("current_version__"))


def versions_of(programme: Programme) -> QuerySet[ProgrammeVersion]:
    return programme.versions.select_related("author").prefetch_related(_items_prefetch())


def proposals_visible_to(viewer: User) -> QuerySet[ProgressionProposal]:
    if not viewer.is_clinician:
        return ProgressionProposal.objects.none()
    return ProgressionProposal.objects.filter(
        programme__patient__in=patients_visible_to(viewer)
    ).select_related("exercise", "programme", "item")


def programme_in_hand(*, viewer: User, patient_id: int) -> Programme | None:
    """The programme a physiotherapist works on for the patient: the active one, else the
    paused one, else the newest draft (completed ones are history). With its items."""
    found = sorted(
        programmes_visible_to(viewer)
        .filter(patient_id=patient_id)
        .exclude(status=ProgrammeStatus.COMPLETED),
        key=lambda p: (
            [ProgrammeStatus.ACTIVE, ProgrammeStatus.PAUSED, ProgrammeStatus.DRAFT].index(
                ProgrammeStatus(p.status)
            ),
            -p.pk,
        ),
    )
    return found[0] if found else None


def proposal_evidence_results(
    viewer: User, proposals: Iterable[ProgressionProposal]
) -> dict[tuple[int, int], SessionItemResult]:
    """What was done of each proposal's item in its evidence sessions, keyed by (session id,
    item id): one query for a page of proposals."""
    wanted = {
        (session["session_id"], proposal.item_id)
        for proposal in proposals
        for session in proposal.evidence.get("sessions", [])
    }
    if not wanted:
        return {}
    results = SessionItemResult.objects.filter(
        of_visible_patients(viewer, "session__patient"),
        session_id__in={session_id for session_id, _ in wanted},
        item_id__in={item_id for _, item_id in wanted},
    )
    return {(r.session_id, r.item_id): r for r in results}


def templates_visible_to(viewer: User) -> QuerySet[ProgrammeTemplate]:
    """The organisation's templates in force, for its clinicians; nobody else sees any
    (a template is no patient data, but it is the care team's working material)."""
    if not viewer.is_clinician or viewer.organisation_id is None:
        return ProgrammeTemplate.objects.none()
    return ProgrammeTemplate.objects.filter(
        organisation_id=viewer.organisation_id, archived_at__isnull=True
    ).select_related("created_by")


# --- Sessions -------------------------------------------------------------------------------


def sessions_visible_to(viewer: User, *, include_deleted: bool = False) -> QuerySet[SessionLog]:
    """Deleted logs only on request: an app syncing with `updated_since` must learn of them."""
    sessions = SessionLog.objects.filter(of_visible_patients(viewer))
    if not include_deleted:
        sessions = sessions.filter(deleted_at__isnull=True)
    return sessions.select_related("version").prefetch_related(
        Prefetch(
            "results",
            queryset=SessionItemResult.objects.select_related("item").order_by("item__position"),
        )
    )


def session_get(*, viewer: User, session_id: int) -> SessionLog:
    return get_object_or_404(sessions_visible_to(viewer), pk=session_id)


# --- Assessments ----------------------------------------------------------------------------


def assessments_visible_to(viewer: User) -> QuerySet[Assessment]:
    return Assessment.objects.filter(of_visible_patients(viewer))


@dataclass(frozen=True)
class Series:
    measure: str
    setting: str
    unit: str
    baseline: Decimal | None
    points: list[tuple[datetime, Decimal]]


def assessment_trend(patient: PatientProfile) -> list[Series]:
    """Each measure's series per setting (home and clinic are never compared), with a baseline:
    the median of the first three values (DOMAIN.md FD-6)."""
    grouped: dict[tuple[str, str], list[Assessment]] = defaultdict(list)
    for assessment in Assessment.objects.filter(patient=patient).order_by("measured_at", "id"):
        grouped[(assessment.measure, assessment.setting)].append(assessment)
    return [
        Series(
            measure=measure,
            setting=setting,
            unit=values[0].unit,
            baseline=statistics.median(a.value for a in values[:3]),
            points=[(a.measured_at, a.value) for a in values],
        )
        for (measure, setting), values in sorted(grouped.items())
    ]


# --- Weeks in the patient's own time zone ---------------------------------------------------


def week_monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def local_week_start(moment: datetime, zone: ZoneInfo) -> date:
    return week_monday(timezone.localtime(moment, zone).date())


def week_bounds(monday: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC instants of Monday 00:00 and the next Monday 00:00, local time (DST-safe)."""
    start = datetime.combine(monday, time.min, tzinfo=zone)
    end = datetime.combine(monday + timedelta(days=7), time.min, tzinfo=zone)
    return start, end


def weighted_count(completions: list[str]) -> Decimal:
    return sum((SESSION_WEIGHT.get(c, Decimal(0)) for c in completions), Decimal(0))


# --- Clinician overview ---------------------------------------------------------------------


def programmes_in_force(patient_ids: list[int]) -> dict[int, Programme]:
    """Each patient's programme in force (active, else paused) with its version: one query."""
    held: dict[int, Programme] = {}
    for programme in Programme.objects.filter(
        patient_id__in=patient_ids, status__in=[ProgrammeStatus.ACTIVE, ProgrammeStatus.PAUSED]
    ).select_related("current_version"):
        current = held.get(programme.patient_id)
        if current is None or current.status != ProgrammeStatus.ACTIVE:
            held[programme.patient_id] = programme  # the active one wins over a paused one
    return held


@dataclass(frozen=True)
class PatientActivity:
    active_programme: Programme | None
    sessions_this_week: Decimal
    last_session_at: datetime | None
    last_pain: int | None
    open_alerts: int | None  # None: the viewer sees no clinical alerts


def patient_activity(
    patients: list[PatientProfile], *, now: datetime, with_alerts: bool = True
) -> dict[int, PatientActivity]:
    """For a page of patients, in four queries whatever its length."""
    ids = [p.pk for p in patients]
    programmes = programmes_in_force(ids)
    latest = SessionLog.objects.filter(patient_id=OuterRef("pk"), deleted_at__isnull=True).order_by(
        "-started_at"
    )
    last = {
        row["pk"]: row
        for row in PatientProfile.objects.filter(pk__in=ids)
        .annotate(
            last_at=Subquery(latest.values("started_at")[:1]),
            last_pain=Subquery(latest.exclude(pain_after__isnull=True).values("pain_after")[:1]),
        )
        .values("pk", "last_at", "last_pain")
    }
    this_week = _sessions_this_local_week(patients, now=now)
    open_alerts = open_alert_counts(ids) if with_alerts else {}
    activity = {}
    for patient in patients:
        activity[patient.pk] = PatientActivity(
            active_programme=programmes.get(patient.pk),
            sessions_this_week=this_week.get(patient.pk, Decimal(0)),
            last_session_at=last[patient.pk]["last_at"],
            last_pain=last[patient.pk]["last_pain"],
            open_alerts=open_alerts.get(patient.pk, 0) if with_alerts else None,
        )
    return activity


def _sessions_this_local_week(
    patients: list[PatientProfile], *, now: datetime
) -> dict[int, Decimal]:
    """Weighted sessions in each patient's current local week, counted by the database: one
    query with a condition per time zone on the page, a few rows per patient however many
    logs there are."""
    in_zone: dict[str, list[int]] = defaultdict(list)
    for patient in patients:
        in_zone[patient.timezone].append(patient.pk)
    this_week = Q()
    for name, patient_ids in in_zone.items():
        zone = ZoneInfo(name)
        start, end = week_bounds(local_week_start(now, zone), zone)
        this_week |= Q(patient_id__in=patient_ids, started_at__gte=start, started_at__lt=end)
    counts: dict[int, Decimal] = defaultdict(Decimal)
    if not in_zone:
        return counts
    rows = (
        SessionLog.objects.filter(this_week, deleted_at__isnull=True)
        .order_by()
        .values("patient_id", "completion")
        .annotate(logs=Count("id"))
    )
    for row in rows:
        counts[row["patient_id"]] += SESSION_WEIGHT.get(row["completion"], Decimal(0)) * row["logs"]
    return counts


@dataclass(frozen=True)
class WeekCount:
    week_start: date
    sessions: Decimal
    target_min: int | None
    target_max: int | None


def weekly_counts(patient: PatientProfile, *, now: datetime, weeks: int = 12) -> list[WeekCount]:
    zone = ZoneInfo(patient.timezone)
    this_week = local_week_start(now, zone)
    first = this_week - timedelta(weeks=weeks - 1)
    since, _ = week_bounds(first, zone)
    by_week: dict[date, list[str]] = defaultdict(list)
    for started_at, completion in SessionLog.objects.filter(
        patient=patient, deleted_at__isnull=True, started_at__gte=since
    ).values_list("started_at", "completion"):
        by_week[local_week_start(started_at, zone)].append(completion)
    programme = (
        Programme.objects.filter(patient=patient, ever_active=True)
        .select_related("current_version")
        .order_by("-updated_at")
        .first()
    )
    version = programme.current_version if programme else None
    return [
        WeekCount(
            week_start=monday,
            sessions=weighted_count(by_week.get(monday, [])),
            target_min=version.sessions_per_week_min if version else None,
            target_max=version.sessions_per_week_max if version else None,
        )
        for monday in (first + timedelta(weeks=n) for n in range(weeks))
    ]


def session_trend(
    patient: PatientProfile, *, now: datetime, days: int = 84
) -> QuerySet[SessionLog]:
    return (
        SessionLog.objects.filter(
            patient=patient, deleted_at__isnull=True, started_at__gte=now - timedelta(days=days)
        )
        .order_by("started_at")
        .only(
            "id",
            "started_at",
            "completion",
            "pain_before",
            "pain_after",
            "fatigue",
            "effort_scale",
            "effort_value",
        )
    )


# --- Batch reads for the alert engine's jobs --------------------------------------------------
# System jobs (no viewer) read a batch of patients at once; each is one query for the batch.


def session_completions(
    patient_ids: Iterable[int], *, since: datetime, until: datetime | None = None
) -> dict[int, list[tuple[datetime, str]]]:
    sessions = SessionLog.objects.filter(
        patient_id__in=patient_ids, deleted_at__isnull=True, started_at__gte=since
    )
    if until is not None:
        sessions = sessions.filter(started_at__lt=until)
    found: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for patient_id, started_at, completion in sessions.values_list(
        "patient_id", "started_at", "completion"
    ):
        found[patient_id].append((started_at, completion))
    return found


def last_session_before(patient_ids: Iterable[int], *, before: datetime) -> dict[int, datetime]:
    """Still one query, but each patient's newest log is one step down session_patient_newest
    (a LIMIT 1 subquery): a MAX per patient read every earlier log of the batch, two years of
    history being ~100,000 rows per 500 patients (docs/explain.md)."""
    newest = (
        SessionLog.objects.filter(
            patient_id=OuterRef("pk"), deleted_at__isnull=True, started_at__lt=before
        )
        .order_by("-started_at")
        .values("started_at")[:1]
    )
    rows = (
        PatientProfile.objects.filter(pk__in=list(patient_ids))
        .order_by()
        .annotate(last=Subquery(newest))
        .values_list("pk", "last")
    )
    return {patient_id: last for patient_id, last in rows if last is not None}


def programme_starts(
    programme_ids: Iterable[int], *, before: datetime
) -> dict[int, list[datetime]]:
    """When each programme was started or resumed."""
    starts: dict[int, list[datetime]] = defaultdict(list)
    for programme_id, at in ProgrammeEvent.objects.filter(
        programme_id__in=programme_ids, status=ProgrammeStatus.ACTIVE, at__lt=before
    ).values_list("programme_id", "at"):
        starts[programme_id].append(at)
    return starts


def weekly_targets_in_force(patient_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """Sessions a week (min, max) of each patient's active programme that has a version;
    patients without one (paused, completed, none) are absent. Plain values: the reminder
    sweep asks for hundreds of patients per chunk."""
    return {
        patient_id: (low, high)
        for patient_id, low, high in Programme.objects.filter(
            patient_id__in=patient_ids,
            status=ProgrammeStatus.ACTIVE,
            current_version__isnull=False,
        ).values_list(
            "patient_id",
            "current_version__sessions_per_week_min",
            "current_version__sessions_per_week_max",
        )
    }


def assessments_in_order(
    patient_ids: Iterable[int], *, measures: Iterable[str], until: datetime | None = None
) -> QuerySet[Assessment]:
    assessments = Assessment.objects.filter(patient_id__in=patient_ids, measure__in=measures)
    if until is not None:
        assessments = assessments.filter(measured_at__lte=until)
    return assessments.order_by("measured_at", "id")


class SessionScore(NamedTuple):
    """What the decline rules read of a log: plain tuples, since a batch reads thousands."""

    pk: int
    patient_id: int
    started_at: datetime
    pain_after: int | None
    fatigue: int | None


def session_scores(
    patient_ids: Iterable[int], *, since: datetime, until: datetime
) -> dict[int, list[SessionScore]]:
    """Pain and fatigue of each patient's logs in the window, oldest first."""
    found: dict[int, list[SessionScore]] = defaultdict(list)
    for pk, patient_id, started_at, pain_after, fatigue in (
        SessionLog.objects.filter(
            patient_id__in=patient_ids,
            deleted_at__isnull=True,
            started_at__gte=since,
            started_at__lte=until,
        )
        .order_by("started_at", "id")
        .values_list("id", "patient_id", "started_at", "pain_after", "fatigue")
    ):
        found[patient_id].append(SessionScore(pk, patient_id, started_at, pain_after, fatigue))
    return found


# --- The patient's own copy of their record (GET /me/export/) --------------------------------


def programmes_for_export(patient: PatientProfile) -> QuerySet[Programme]:
    """Every programme of the patient, drafts included (the right of access covers them),
    with all versions, their items and the status history: four queries."""
    return (
        Programme.objects.filter(patient=patient)
        .order_by("created_at", "id")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=ProgrammeVersion.objects.select_related("author")
                .prefetch_related(_items_prefetch())
                .order_by("number"),
            ),
            Prefetch(
                "events",
                queryset=ProgrammeEvent.objects.select_related("by").order_by("at", "id"),
            ),
        )
    )


def sessions_for_export(patient: PatientProfile) -> QuerySet[SessionLog]:
    """Every log, deleted ones included, with item results and the values before each edit."""
    return (
        SessionLog.objects.filter(patient=patient)
        .select_related("version")
        .order_by("started_at", "id")
        .prefetch_related(
            Prefetch(
                "results",
                queryset=SessionItemResult.objects.select_related("item").order_by(
                    "item__position"
                ),
            ),
            Prefetch(
                "revisions",
                queryset=SessionLogRevision.objects.select_related("revised_by").order_by(
                    "revised_at", "id"
                ),
            ),
        )
    )


def assessments_for_export(patient: PatientProfile) -> QuerySet[Assessment]:
    return (
        Assessment.objects.filter(patient=patient)
        .select_related("measured_by")
        .order_by("measured_at", "id")
    )
