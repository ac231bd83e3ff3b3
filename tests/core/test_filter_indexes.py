"""Every filter the API offers is served by a database index, or is listed in EXCEPTIONS with
the reason it needs none.

The test walks every view of the URL conf, takes its FilterSet and, for each filter, the
column it compares (following relations: `patient_id`, `user__is_active`, ...). A filter is
served when its lookup is one a B-tree answers (=, IN, <, <=, >, >=, IS NULL; not
`icontains`, nor the code lists' `has`, which is LIKE '%,x,%') and either

1. LEADING: an index of the filter's table starts with the filter's column: a ForeignKey's
   own index, `db_index=True`, `unique=True`, a `Meta.indexes` entry or a `UniqueConstraint`.
   A composite counts for its first column only. Partial indexes and constraints do not
   count: they serve only queries that imply their condition.
2. SCOPED: the view is listed in SCOPES with the column its queryset is always restricted by,
   and an index starts with that column FOLLOWED BY the filter's column. Most lists are
   `patient_id IN (patients_visible_to(viewer)) AND <filter>`, so PostgreSQL reads, for each
   visible patient, the range (patient_id = p, started_at >= t) of such an index: a few rows
   per patient however large the table (docs/explain.md shows the plans).
   `test_declared_scopes_are_applied` proves each declared restriction is really in the
   view's query, so a composite is never credited for a query that lacks it.

Everything else must be in EXCEPTIONS with why no index is needed. Method filters (`method=`)
always are, saying what they query. A new filter with neither fails here.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, models
from django.db.models.constants import LOOKUP_SEP
from django.urls import URLPattern, URLResolver, get_resolver
from django_filters import rest_framework as filters
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from backend.alerts.apis import AlertListApi, NotificationListApi
from backend.audit.apis import AccessLogApi, AuditEventListApi
from backend.exercise.apis.assessments import AssessmentListCreateApi
from backend.exercise.apis.programmes import ProgrammeListCreateApi
from backend.exercise.apis.sessions import SessionFilter, SessionListCreateApi
from backend.exercise.models import SessionLog
from backend.symptoms.apis import SymptomReportListCreateApi
from tests.conftest import World

# Lookups a B-tree index can answer (`iexact` compares UPPER(column): it would need an index
# on the expression).
BTREE_LOOKUPS = {"exact", "in", "gt", "gte", "lt", "lte", "range", "isnull"}


@dataclass(frozen=True)
class Scope:
    field: str  # the view's model field its queryset is always restricted by
    viewers: tuple[str, ...]  # World attributes: users for whom the restriction is checked


# The restriction each list's queryset always carries (patients_visible_to for patient data).
SCOPES: dict[type[Any], Scope] = {
    SessionListCreateApi: Scope("patient", ("physio", "caregiver", "patient.user")),
    ProgrammeListCreateApi: Scope("patient", ("physio", "caregiver", "patient.user")),
    AssessmentListCreateApi: Scope("patient", ("physio", "caregiver", "patient.user")),
    AlertListApi: Scope("patient", ("physio", "nurse")),
    AuditEventListApi: Scope("organisation", ("org_admin",)),
    AccessLogApi: Scope("patient", ("caregiver", "patient.user")),
    NotificationListApi: Scope("recipient", ("physio", "patient.user")),
    SymptomReportListCreateApi: Scope("patient", ("physio", "caregiver", "patient.user")),
}

# "<FilterSet>.<filter>": why no index serves it, and why none is needed.
LIBRARY = (
    "the exercise library is the shipped exercises plus the organisation's own (tens to a few "
    "hundred rows), read whole in well under a millisecond"
)
EXCEPTIONS: dict[str, str] = {
    "ExerciseFilter.region": (
        f"`body_regions LIKE '%,code,%'` (a code list in one column): no B-tree serves a "
        f"substring, and {LIBRARY}."
    ),
    "ExerciseFilter.muscle_group": f"`muscle_groups LIKE '%,code,%'`, as region; {LIBRARY}.",
    "ExerciseFilter.equipment": f"`equipment LIKE '%,code,%'`, as region; {LIBRARY}.",
    "ExerciseFilter.q": (
        "method `search`: `name` or `instructions` contains the text (UPPER(...) LIKE "
        f"'%TEXT%'); a substring search would need a trigram index, and {LIBRARY}."
    ),
    "PatientFilter.q": (
        "method `search`: the user's first name, last name or username contains the text "
        "(UPPER(...) LIKE '%TEXT%'), among the viewer's patients only: patients_visible_to "
        "finds them through the care-team member index (a few hundred rows); a substring "
        "match cannot use a B-tree."
    ),
    "PatientFilter.activated": (
        "`accounts_user.is_active` of the viewer's patients (found through the care-team "
        "member index, a few hundred rows); a boolean true for nearly everyone is not "
        "selective enough for an index to pay."
    ),
    "ProposalFilter.status": (
        "at most one proposal per programme item (one_proposal_per_item): the viewer's "
        "programmes' proposals, found through the programme_id index, are a handful per "
        "programme, and the status is checked on those rows."
    ),
    "AssessmentFilter.setting": (
        "two values (home, clinic), half the rows each; within the viewer's patients it is "
        "checked inside assessment_series (patient, measure, setting, measured_at) as an "
        "index condition, over a patient's ~50 entries per 12 weeks."
    ),
    "NotificationFilter.unread": (
        "`read_at IS NULL` within one recipient's inbox, read newest first through "
        "notification_inbox_newest (recipient, -created_at, -id): a page stops at 50 matches "
        "and an inbox holds hundreds to a few thousand rows a year (0.05 ms, docs/explain.md). "
        "Notifications are the most written table (the reminder sweep writes one per due "
        "patient), so it gets no index of its own."
    ),
    "NotificationFilter.kind": (
        "as unread: checked on one recipient's inbox read through notification_inbox_newest "
        "(0.05 ms, docs/explain.md); no index on the most written table for it."
    ),
}


# --- What the API offers ----------------------------------------------------------------------


def api_views() -> list[type[Any]]:
    """Every class-based view reachable from the root URL conf, includes followed."""
    found: list[type[Any]] = []

    def walk(patterns: list[Any]) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                view = getattr(pattern.callback, "cls", None) or getattr(
                    pattern.callback, "view_class", None
                )
                if view is not None and view not in found:
                    found.append(view)

    walk(get_resolver().url_patterns)
    return found


@dataclass(frozen=True)
class OfferedFilter:
    view: type[Any]
    filterset: type[filters.FilterSet]
    name: str
    filter: Any

    @property
    def key(self) -> str:
        return f"{self.filterset.__name__}.{self.name}"


def offered_filters() -> Iterator[OfferedFilter]:
    for view in api_views():
        filterset = getattr(view, "filterset_class", None)
        if filterset is None:
            continue
        for name, each in filterset.base_filters.items():
            yield OfferedFilter(view, filterset, name, each)


# --- What the database has --------------------------------------------------------------------


def index_columns(model: type[models.Model]) -> list[tuple[str, ...]]:
    """The column lists of the model's indexes, partial ones left out."""
    meta: Any = model._meta

    def columns(names: Any) -> tuple[str, ...]:
        return tuple(meta.get_field(name.lstrip("-")).column for name in names)

    found: list[tuple[str, ...]] = [
        (field.column,)
        for field in meta.concrete_fields
        if field.primary_key or field.unique or field.db_index
    ]
    found += [columns(index.fields) for index in meta.indexes if index.condition is None]
    found += [
        columns(constraint.fields)
        for constraint in meta.constraints
        if isinstance(constraint, models.UniqueConstraint)
        and constraint.fields
        and constraint.condition is None
    ]
    found += [columns(together) for together in meta.unique_together]
    return [each for each in found if each]


def compared_field(
    filterset: type[filters.FilterSet], field_name: str
) -> tuple[type[models.Model], Any]:
    """The model and field a filter compares, following relations."""
    model: Any = filterset._meta.model
    *path, last = field_name.split(LOOKUP_SEP)
    for part in path:
        model = model._meta.get_field(part).related_model
    return model, model._meta.get_field(last)


@dataclass(frozen=True)
class Served:
    rule: str  # "leading" or "scoped"
    table: str
    columns: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.rule}: {self.table} ({', '.join(self.columns)})"


def served_by(offered: OfferedFilter, scopes: dict[type[Any], Scope]) -> Served | None:
    """The index that serves the filter, and by which rule; None when none does."""
    each = offered.filter
    if each.method is not None or each.lookup_expr not in BTREE_LOOKUPS:
        return None
    model, field = compared_field(offered.filterset, each.field_name)
    table, indexes = model._meta.db_table, index_columns(model)
    for columns in indexes:
        if columns[0] == field.column:
            return Served("leading", table, columns)
    scope = scopes.get(offered.view)
    if scope is None or model is not offered.filterset._meta.model:
        return None
    scope_column = compared_field(offered.filterset, scope.field)[1].column
    for columns in indexes:
        if columns[:2] == (scope_column, field.column):
            return Served("scoped", table, columns)
    return None


# --- The tests --------------------------------------------------------------------------------


def test_every_filter_is_indexed_or_an_exception_says_why() -> None:
    offered = list(offered_filters())
    assert len({o.key for o in offered}) >= 30  # the walk found the API's filter sets
    unserved = [
        f"{o.key} ({o.filter.field_name}__{o.filter.lookup_expr})"
        for o in offered
        if served_by(o, SCOPES) is None and o.key not in EXCEPTIONS
    ]
    assert not unserved, (
        "These filters have no index whose first column is theirs (or (scope, column) for a "
        "view in SCOPES): add one in Meta.indexes, or an entry in EXCEPTIONS saying why none "
        f"is needed: {unserved}"
    )


def test_every_exception_names_an_offered_filter_that_no_index_serves() -> None:
    offered = {o.key: o for o in offered_filters()}
    unknown = sorted(set(EXCEPTIONS) - set(offered))
    assert not unknown, f"exceptions for filters the API no longer offers: {unknown}"
    indexed = {key: served_by(offered[key], SCOPES) for key in EXCEPTIONS}
    stale = {key: str(how) for key, how in indexed.items() if how is not None}
    assert not stale, f"now served by an index, remove the exception: {stale}"


def test_method_filters_are_exceptions_that_say_what_they_query() -> None:
    methods = [o for o in offered_filters() if o.filter.method is not None]
    assert methods  # the library's and the patient list's text search
    for each in methods:
        assert f"method `{each.filter.method}`" in EXCEPTIONS.get(each.key, ""), each.key


def test_only_filtersets_filter() -> None:
    """Filters declared any other way (filterset_fields, a SearchFilter or OrderingFilter
    backend) would escape the walk above."""
    for view in api_views():
        assert not getattr(view, "filterset_fields", None), view
        backends = getattr(view, "filter_backends", [])
        assert all(b is filters.DjangoFilterBackend for b in backends), view


class _SessionNoteFilter(filters.FilterSet):
    """Made-up filters to show what the check accepts and refuses."""

    note = filters.CharFilter()
    started_after = filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    text = filters.CharFilter(field_name="note", lookup_expr="icontains")
    patient = filters.NumberFilter(field_name="patient_id")

    class Meta:
        model = SessionLog
        fields = ["note", "started_after", "text", "patient"]


def _made_up(name: str) -> OfferedFilter:
    return OfferedFilter(
        SessionListCreateApi, _SessionNoteFilter, name, _SessionNoteFilter.base_filters[name]
    )


def test_the_check_refuses_unindexed_filters_and_credits_composites_only_in_scope() -> None:
    assert served_by(_made_up("note"), SCOPES) is None  # no index on note
    assert served_by(_made_up("text"), SCOPES) is None  # a substring, whatever the index
    by_patient_then_time = ("patient_id", "started_at", "id")
    assert served_by(_made_up("patient"), {}) == Served(
        "leading", "exercise_sessionlog", by_patient_then_time
    )
    # (patient_id, started_at, id) serves started_after only where the query is per patient.
    assert served_by(_made_up("started_after"), {}) is None
    assert served_by(_made_up("started_after"), SCOPES) == Served(
        "scoped", "exercise_sessionlog", by_patient_then_time
    )
    assert SessionFilter.base_filters["started_after"].field_name == "started_at"


@pytest.mark.django_db
def test_the_database_has_every_index_the_check_credits() -> None:
    """The check reads the models; the migrations must have built what they declare."""
    credited = {served for o in offered_filters() if (served := served_by(o, SCOPES))}
    with connection.cursor() as cursor:
        for served in credited:
            found = connection.introspection.get_constraints(cursor, served.table).values()
            assert any(
                c["columns"] == list(served.columns) and (c["index"] or c["unique"]) for c in found
            ), served


def _restricts(queryset: Any, field_name: str) -> bool:
    """Whether the queryset's WHERE, at its top level (ANDed), compares the field of its own
    table with `=` or `IN`."""
    query = queryset.query
    field = queryset.model._meta.get_field(field_name)
    assert query.where.connector == "AND"
    return any(
        getattr(child, "lookup_name", None) in {"exact", "in"}
        and getattr(child.lhs, "alias", None) == query.base_table
        and getattr(child.lhs, "target", None) == field
        for child in query.where.children
    )


def _queryset(view_class: type[Any], user: Any) -> Any:
    request = Request(APIRequestFactory().get("/"))
    request.user = user
    view = view_class()
    view.setup(request)
    view.format_kwarg = None
    return view.get_queryset()


@pytest.mark.django_db
@pytest.mark.parametrize("view", list(SCOPES), ids=lambda v: v.__name__)
def test_declared_scopes_are_applied(view: type[Any], world: World) -> None:
    scope = SCOPES[view]
    for viewer in scope.viewers:
        user = operator.attrgetter(viewer)(world)
        assert _restricts(_queryset(view, user), scope.field), (view.__name__, viewer)


@pytest.mark.django_db
def test_the_scope_check_sees_a_missing_restriction(world: World) -> None:
    unscoped: Callable[[], Any] = SessionLog.objects.all
    assert not _restricts(unscoped(), "patient")
    assert not _restricts(SessionLog.objects.filter(started_at__isnull=False), "patient")
    assert _restricts(SessionLog.objects.filter(patient=world.patient), "patient")
