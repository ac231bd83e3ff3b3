"""The read side of /fhir/: metadata, Patient read and $everything, and search by patient
and date. Views parse, call the selectors (the API's access rule), map, audit, answer."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from zoneinfo import ZoneInfo

from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.apis import current_user
from backend.accounts.models import PatientProfile, User
from backend.accounts.selectors import patient_get
from backend.alerts.models import Alert
from backend.audit.models import Action, Resource
from backend.audit.services import record_access
from backend.exercise.models import Assessment, SessionLog
from backend.fhir import selectors
from backend.fhir.export.rendering import (
    BundleOutput,
    CapabilityStatementOutput,
    FhirAutoSchema,
    FhirJSONRenderer,
    FhirResourceOutput,
    OperationOutcomeOutput,
    fhir_exception_handler,
)
from backend.fhir.export.search import (
    DEFAULT_COUNT,
    FORMAT,
    MAX_COUNT,
    Search,
    SearchError,
    cursor_value,
    parse_search,
)
from backend.fhir.mapping.alerts import detected_issue_to_fhir, flag_to_fhir
from backend.fhir.mapping.assessments import assessment_to_fhir
from backend.fhir.mapping.capability import capability_statement
from backend.fhir.mapping.patients import (
    care_team_to_fhir,
    patient_to_fhir,
    related_person_to_fhir,
)
from backend.fhir.mapping.programmes import careplan_to_fhir, service_request_to_fhir
from backend.fhir.mapping.sessions import provenance_to_fhir, session_to_fhir
from backend.fhir.selectors import Cursor, Window

TAGS = ["fhir"]
# The id as the API's paths have it (backend.core.converters.IdConverter); the view takes any
# text so that a malformed id is FHIR's 404 too, not the URL conf's.
PATIENT_ID = OpenApiParameter(
    "patient_id", {"type": "string", "pattern": "^[0-9]{1,18}$"}, OpenApiParameter.PATH
)
NOT_FOUND = OpenApiResponse(
    OperationOutcomeOutput, "No such patient, or not one the caller may see (never 403)."
)
BAD_SEARCH = OpenApiResponse(
    OperationOutcomeOutput, "A search parameter is unknown or does not parse."
)


def fhir_base(request: Request) -> str:
    """The absolute base of the FHIR endpoint, ending in a slash."""
    return request.build_absolute_uri(reverse("fhir-metadata")).removesuffix("metadata")


class FhirApi(APIView):
    renderer_classes = [FhirJSONRenderer, JSONRenderer]
    schema = FhirAutoSchema()

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response | None]:
        return fhir_exception_handler


def visible_patient(viewer: User, patient_id: int) -> PatientProfile:
    """The API's rule: 404 for a patient the viewer may not see, as for one that is not."""
    try:
        return patient_get(viewer=viewer, patient_id=patient_id)
    except Http404 as error:
        raise NotFound(f"Patient/{patient_id} is not known, or not visible to you.") from error


def _path_patient_id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound(f"Patient/{raw} is not known, or not visible to you.")
    return int(raw)


def bundle(
    request: Request,
    resources: Iterable[dict[str, Any]],
    *,
    next_url: str | None = None,
    total: int | None = None,
) -> dict[str, Any]:
    base = fhir_base(request)
    links = [{"relation": "self", "url": request.build_absolute_uri()}]
    if next_url is not None:
        links.append({"relation": "next", "url": next_url})
    found: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": timezone.now().isoformat(),
        "link": links,
        "entry": [
            {
                "fullUrl": f"{base}{resource['resourceType']}/{resource['id']}",
                "resource": resource,
                "search": {"mode": "match"},
            }
            for resource in resources
        ],
    }
    if total is not None:
        found["total"] = total
    if not found["entry"]:
        del found["entry"]
    return found


# --- metadata, Patient ------------------------------------------------------------------------


class MetadataApi(FhirApi):
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(
        tags=TAGS,
        responses={
            200: CapabilityStatementOutput,
            # DRF's answer to a `format` it has no renderer for
            404: OpenApiResponse(OperationOutcomeOutput, "An unknown `format`."),
        },
        operation_id="fhir_metadata",
    )
    def get(self, request: Request) -> Response:
        """What this FHIR server supports (a CapabilityStatement): public, as FHIR clients
        read it before signing in."""
        return Response(capability_statement(fhir_base(request)))


class PatientReadApi(FhirApi):
    @extend_schema(
        tags=TAGS,
        parameters=[PATIENT_ID],
        responses={200: FhirResourceOutput, 404: NOT_FOUND},
        operation_id="fhir_patient_read",
    )
    def get(self, request: Request, patient_id: str) -> Response:
        """One patient (FHIR Patient)."""
        patient = visible_patient(current_user(request), _path_patient_id(patient_id))
        record_access(request, Action.READ, Resource.PATIENT, [patient])
        return Response(patient_to_fhir(patient))


class PatientEverythingApi(FhirApi):
    @extend_schema(
        tags=TAGS,
        parameters=[PATIENT_ID],
        responses={200: BundleOutput, 400: BAD_SEARCH, 404: NOT_FOUND},
        operation_id="fhir_patient_everything",
    )
    def get(self, request: Request, patient_id: str) -> Response:
        """Everything about one patient as a Bundle: Patient, CareTeam, RelatedPerson
        (caregivers), CarePlan (each programme revision) and ServiceRequest (each prescribed
        exercise), Observation (sessions and assessments) with each session's Provenance,
        and for the care team DetectedIssue and Flag (alerts). A fixed number of queries
        whatever the history; recorded in the audit as an export of the record."""
        unknown = sorted(set(request.query_params) - {FORMAT})
        if unknown:
            raise SearchError(unknown[0], "not a parameter of $everything here")
        viewer = current_user(request)
        patient = visible_patient(viewer, _path_patient_id(patient_id))
        user_id = patient.user_id
        resources = [
            patient_to_fhir(patient),
            care_team_to_fhir(patient, patient.care_team.all()),
            *(related_person_to_fhir(link) for link in patient.caregiver_links.all()),
        ]
        versions = list(selectors.versions_of_patient(viewer, patient).order_by("pk"))
        links = selectors.revision_links(versions)
        for version in versions:
            items = list(version.items.all())
            resources.append(_careplan(version, items, links))
            resources += (
                service_request_to_fhir(item, version=version, programme=version.programme)
                for item in items
            )
        for session in selectors.sessions_of_patient(viewer, patient).order_by("started_at", "pk"):
            resources.append(session_to_fhir(session, patient_user_id=user_id))
            resources.append(provenance_to_fhir(session, patient_user_id=user_id))
        resources += (
            assessment_to_fhir(assessment, patient_user_id=user_id)
            for assessment in selectors.assessments_of_patient(viewer, patient).order_by(
                "measured_at", "pk"
            )
        )
        for alert in selectors.alerts_of_patient(viewer, patient).order_by("created_at", "pk"):
            resources += (detected_issue_to_fhir(alert), flag_to_fhir(alert))
        record_access(request, Action.EXPORT, Resource.PATIENT, [patient])
        return Response(bundle(request, resources, total=len(resources)))


def _careplan(version: Any, items: list[Any], links: dict[int, selectors.RevisionLinks]) -> Any:
    link = links.get(version.pk, selectors.RevisionLinks(None, None))
    return careplan_to_fhir(
        version,
        programme=version.programme,
        item_ids=[item.pk for item in items],
        previous_id=link.previous_id,
        next_start=link.next_start,
    )


# --- Search -----------------------------------------------------------------------------------

SEARCH_PARAMETERS = [
    OpenApiParameter(
        "patient",
        # A number here, as the API's `patient` filters are; FHIR's `Patient/123` is accepted.
        {"type": "integer", "minimum": 1, "maximum": 999_999_999_999_999_999},
        required=True,
        description="The patient: `123` (or FHIR's `Patient/123`).",
    ),
    OpenApiParameter(
        "date",
        {"type": "array", "items": {"type": "string"}},
        explode=True,
        description="A date or dateTime with an optional prefix (eq, ge, gt, le, lt), e.g. "
        "`ge2026-01-01`; repeat to bound both ends. A date is a day in the patient's time "
        "zone; a dateTime needs its offset.",
    ),
    OpenApiParameter(
        "_count",
        {"type": "integer", "minimum": 1, "maximum": MAX_COUNT},
        description=f"Page size (default {DEFAULT_COUNT}).",
    ),
    OpenApiParameter(
        "_cursor", str, description="Where the page starts: take it from the `next` link."
    ),
]


def search_schema(operation_id: str) -> Any:
    return extend_schema(
        tags=TAGS,
        parameters=SEARCH_PARAMETERS,
        responses={200: BundleOutput, 400: BAD_SEARCH, 404: NOT_FOUND},
        operation_id=operation_id,
    )


class SearchApi(FhirApi):
    """GET /fhir/<type>?patient=…: a searchset Bundle, newest first, paged by cursor."""

    def get(self, request: Request) -> Response:
        search = parse_search(request.query_params)
        viewer = current_user(request)
        patient = visible_patient(viewer, search.patient_id)
        window = search.window(ZoneInfo(patient.timezone))
        resources, next_cursor = self.page(request, viewer, patient, search, window)
        next_url = None
        if next_cursor is not None:
            query = request.query_params.copy()
            query["_cursor"] = cursor_value(next_cursor)
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return Response(bundle(request, resources, next_url=next_url))

    def page(
        self,
        request: Request,
        viewer: User,
        patient: PatientProfile,
        search: Search,
        window: Window,
    ) -> tuple[list[dict[str, Any]], Cursor | None]:
        raise NotImplementedError


def _of(patient: PatientProfile) -> Callable[[Any], int]:
    return lambda _row: patient.pk


@extend_schema_view(get=search_schema("fhir_observation_search"))
class ObservationSearchApi(SearchApi):
    """Observations of one patient: session logs (exercise activity) and assessments
    (outcome measures), newest first."""

    def page(
        self,
        request: Request,
        viewer: User,
        patient: PatientProfile,
        search: Search,
        window: Window,
    ) -> tuple[list[dict[str, Any]], Cursor | None]:
        page = selectors.observations_page(
            viewer, patient, window=window, cursor=search.cursor, size=search.count
        )
        sessions = [row for row in page.rows if isinstance(row, SessionLog)]
        assessments = [row for row in page.rows if isinstance(row, Assessment)]
        record_access(request, Action.READ, Resource.SESSION, sessions)
        record_access(request, Action.READ, Resource.ASSESSMENT, assessments)
        user_id = patient.user_id
        return [
            session_to_fhir(row, patient_user_id=user_id)
            if isinstance(row, SessionLog)
            else assessment_to_fhir(row, patient_user_id=user_id)
            for row in page.rows
        ], page.next_cursor


@extend_schema_view(get=search_schema("fhir_careplan_search"))
class CarePlanSearchApi(SearchApi):
    """CarePlans of one patient: each revision of each programme, newest first."""

    def page(
        self,
        request: Request,
        viewer: User,
        patient: PatientProfile,
        search: Search,
        window: Window,
    ) -> tuple[list[dict[str, Any]], Cursor | None]:
        rows = selectors.page_of(
            selectors.versions_of_patient(viewer, patient),
            field="created_at",
            rank=0,
            window=window,
            cursor=search.cursor,
            size=search.count + 1,
        )
        page = selectors.paged(rows, search.count, lambda v: (v.created_at, 0, v.pk))
        links = selectors.revision_links_of(page.rows)
        record_access(
            request, Action.READ, Resource.PROGRAMME_VERSION, page.rows, patient_of=_of(patient)
        )
        return [_careplan(v, list(v.items.all()), links) for v in page.rows], page.next_cursor


@extend_schema_view(get=search_schema("fhir_servicerequest_search"))
class ServiceRequestSearchApi(SearchApi):
    """ServiceRequests of one patient: each prescribed exercise of each revision."""

    def page(
        self,
        request: Request,
        viewer: User,
        patient: PatientProfile,
        search: Search,
        window: Window,
    ) -> tuple[list[dict[str, Any]], Cursor | None]:
        rows = selectors.page_of(
            selectors.items_of_patient(viewer, patient),
            field="version__created_at",
            rank=0,
            window=window,
            cursor=search.cursor,
            size=search.count + 1,
        )
        page = selectors.paged(rows, search.count, lambda i: (i.version.created_at, 0, i.pk))
        versions = list({item.version_id: item.version for item in page.rows}.values())
        record_access(
            request, Action.READ, Resource.PROGRAMME_VERSION, versions, patient_of=_of(patient)
        )
        return [
            service_request_to_fhir(item, version=item.version, programme=item.version.programme)
            for item in page.rows
        ], page.next_cursor


class AlertSearchApi(SearchApi):
    def to_fhir(self, alert: Alert) -> dict[str, Any]:
        raise NotImplementedError

    def page(
        self,
        request: Request,
        viewer: User,
        patient: PatientProfile,
        search: Search,
        window: Window,
    ) -> tuple[list[dict[str, Any]], Cursor | None]:
        rows = selectors.page_of(
            selectors.alerts_of_patient(viewer, patient),
            field="created_at",
            rank=0,
            window=window,
            cursor=search.cursor,
            size=search.count + 1,
        )
        page = selectors.paged(rows, search.count, lambda a: (a.created_at, 0, a.pk))
        record_access(request, Action.READ, Resource.ALERT, page.rows)
        return [self.to_fhir(alert) for alert in page.rows], page.next_cursor


@extend_schema_view(get=search_schema("fhir_detectedissue_search"))
class DetectedIssueSearchApi(AlertSearchApi):
    """DetectedIssues of one patient (alerts, for the care team's clinicians; the patient
    side sees none), newest first."""

    def to_fhir(self, alert: Alert) -> dict[str, Any]:
        return detected_issue_to_fhir(alert)


@extend_schema_view(get=search_schema("fhir_flag_search"))
class FlagSearchApi(AlertSearchApi):
    """Flags of one patient (one per alert, active until resolved; care team only)."""

    def to_fhir(self, alert: Alert) -> dict[str, Any]:
        return flag_to_fhir(alert)
