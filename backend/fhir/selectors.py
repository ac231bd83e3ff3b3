"""What the FHIR export reads, always through the API's own selectors (one access rule:
`patients_visible_to` and the *_visible_to built on it), with the joins the mapping needs so
that every read is a fixed number of queries whatever the history."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from django.db.models import Prefetch, Q, QuerySet

from backend.accounts.models import PatientProfile, User
from backend.alerts.models import Alert
from backend.alerts.selectors import alerts_visible_to
from backend.exercise.models import (
    Assessment,
    Programme,
    ProgrammeItem,
    ProgrammeVersion,
    SessionLog,
)
from backend.exercise.selectors import (
    assessments_visible_to,
    programmes_visible_to,
    sessions_visible_to,
)


@dataclass(frozen=True)
class Window:
    """A half-open interval of time [since, until) from the `date` search parameter."""

    since: datetime | None = None
    until: datetime | None = None

    def condition(self, field: str) -> Q:
        found = Q()
        if self.since is not None:
            found &= Q(**{f"{field}__gte": self.since})
        if self.until is not None:
            found &= Q(**{f"{field}__lt": self.until})
        return found


@dataclass(frozen=True)
class Cursor:
    """Where the previous page ended, newest first: the last row's time, its kind (rank) and
    its id. A page is the rows strictly after it in (time, rank, id) descending order."""

    at: datetime
    rank: int
    pk: int

    def after(self, field: str, rank: int) -> Q:
        if rank < self.rank:
            return Q(**{f"{field}__lte": self.at})
        if rank > self.rank:
            return Q(**{f"{field}__lt": self.at})
        return Q(**{f"{field}__lt": self.at}) | Q(**{field: self.at, "pk__lt": self.pk})


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a search, newest first, and where the next one starts (None: the last)."""

    rows: list[T]
    next_cursor: Cursor | None


def paged(rows: list[T], size: int, order: Any) -> Page[T]:
    """The first `size` of the `size + 1` rows read, with the cursor after them if there are
    more; `order(row)` is the row's (time, rank, id)."""
    if len(rows) <= size:
        return Page(rows, None)
    shown = rows[:size]
    return Page(shown, Cursor(*order(shown[-1])))


def page_of(
    rows: QuerySet[Any], *, field: str, rank: int, window: Window, cursor: Cursor | None, size: int
) -> list[Any]:
    """Up to `size` rows of one kind in the window after the cursor, newest first: one query,
    reading the first rows of an index range (patient, time, id)."""
    rows = rows.filter(window.condition(field))
    if cursor is not None:
        rows = rows.filter(cursor.after(field, rank))
    return list(rows.order_by(f"-{field}", "-pk")[:size])


# --- Programmes -------------------------------------------------------------------------------


def _of_patient_programmes(viewer: User, patient: PatientProfile) -> QuerySet[Programme]:
    """The patient's programmes the viewer may see (the patient side sees no drafts)."""
    return programmes_visible_to(viewer).filter(patient=patient).select_related(None)


def versions_of_patient(viewer: User, patient: PatientProfile) -> QuerySet[ProgrammeVersion]:
    """Every version of the patient's visible programmes, with the programme, the author and
    the items (their exercises): three queries."""
    return (
        ProgrammeVersion.objects.filter(programme__in=_of_patient_programmes(viewer, patient))
        .select_related("programme", "author")
        .prefetch_related(
            Prefetch(
                "items",
                queryset=ProgrammeItem.objects.select_related("exercise").order_by("position"),
            )
        )
    )


def items_of_patient(viewer: User, patient: PatientProfile) -> QuerySet[ProgrammeItem]:
    return ProgrammeItem.objects.filter(
        version__programme__in=_of_patient_programmes(viewer, patient)
    ).select_related("exercise", "version__programme", "version__author")


@dataclass(frozen=True)
class RevisionLinks:
    previous_id: int | None  # the version this one replaces
    next_start: date | None  # when the version that replaced it started


def revision_links(versions: Iterable[ProgrammeVersion]) -> dict[int, RevisionLinks]:
    """Each version's neighbours within its programme, from the versions given (all of the
    programme's: `revision_links_of` reads them for a page)."""
    by_programme: dict[int, list[ProgrammeVersion]] = {}
    for version in versions:
        by_programme.setdefault(version.programme_id, []).append(version)
    links: dict[int, RevisionLinks] = {}
    for chain in by_programme.values():
        chain.sort(key=lambda v: v.number)
        for index, version in enumerate(chain):
            links[version.pk] = RevisionLinks(
                previous_id=chain[index - 1].pk if index else None,
                next_start=chain[index + 1].start_date if index + 1 < len(chain) else None,
            )
    return links


def revision_links_of(page: list[ProgrammeVersion]) -> dict[int, RevisionLinks]:
    """The neighbours of a page of versions: one query for all versions of their programmes."""
    if not page:
        return {}
    siblings = ProgrammeVersion.objects.filter(
        programme_id__in={v.programme_id for v in page}
    ).only("pk", "programme_id", "number", "start_date")
    return revision_links(siblings)


# --- Sessions, assessments, alerts ------------------------------------------------------------


def sessions_of_patient(viewer: User, patient: PatientProfile) -> QuerySet[SessionLog]:
    """The patient's logs (not the deleted ones) with who recorded them and the items they
    report: two queries."""
    return sessions_visible_to(viewer).filter(patient=patient).select_related("recorded_by")


SESSION_RANK, ASSESSMENT_RANK = 0, 1


def observation_order(row: SessionLog | Assessment) -> tuple[datetime, int, int]:
    """Sessions and assessments in one order: time, then kind, then id (the cursor's)."""
    if isinstance(row, SessionLog):
        return row.started_at, SESSION_RANK, row.pk
    return row.measured_at, ASSESSMENT_RANK, row.pk


def observations_page(
    viewer: User, patient: PatientProfile, *, window: Window, cursor: Cursor | None, size: int
) -> Page[SessionLog | Assessment]:
    """A page of the patient's logs and assessments together, newest first: `size + 1` of
    each kind read (four queries), merged, cut."""
    sessions = page_of(
        sessions_of_patient(viewer, patient),
        field="started_at",
        rank=SESSION_RANK,
        window=window,
        cursor=cursor,
        size=size + 1,
    )
    assessments = page_of(
        assessments_of_patient(viewer, patient),
        field="measured_at",
        rank=ASSESSMENT_RANK,
        window=window,
        cursor=cursor,
        size=size + 1,
    )
    merged: list[SessionLog | Assessment] = sorted(
        [*sessions, *assessments], key=observation_order, reverse=True
    )
    return paged(merged, size, observation_order)


def assessments_of_patient(viewer: User, patient: PatientProfile) -> QuerySet[Assessment]:
    return assessments_visible_to(viewer).filter(patient=patient).select_related("measured_by")


def alerts_of_patient(viewer: User, patient: PatientProfile) -> QuerySet[Alert]:
    """Only the care team's clinicians see alerts: nothing for the patient side."""
    return alerts_visible_to(viewer).filter(patient=patient)
