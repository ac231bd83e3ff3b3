"""`GET /fhir/$export` (kick-off), its status (poll, cancel) and its files (Bulk Data Access
IG v2, https://hl7.org/fhir/uv/bulkdata/export.html)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import FileResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from backend.accounts.apis import current_user
from backend.audit.services import client_ip
from backend.core.errors import require_role
from backend.core.request_context import current_request_id
from backend.fhir.bulk import selectors, services
from backend.fhir.bulk.http import (
    FHIR_JSON,
    FHIR_NDJSON,
    FhirApiView,
    FhirAutoSchema,
    FhirJsonRenderer,
    NdjsonRenderer,
    outcome_responses,
)
from backend.fhir.bulk.models import ExportJob, ExportStatus
from backend.fhir.bulk.serializers import KickOffQuery, ManifestSerializer

POLL_SECONDS = 5  # Retry-After while a job runs


def _may_bulk_export(request: Request) -> None:
    """Function-level: the patient side never exports in bulk (403), before any lookup or
    validation. (In the handler, not a permission class: a method the view lacks is 405.)"""
    require_role(
        current_user(request),
        selectors.EXPORT_ROLES,
        "Only organisation admins and clinicians may bulk export.",
    )


def _wants_async(request: Request) -> bool:
    prefer = request.headers.get("Prefer", "")
    return "respond-async" in {token.strip().lower() for token in prefer.split(",")}


def _accepts_fhir_json(request: Request) -> bool:
    accept = request.headers.get("Accept", "")
    return any(part.split(";")[0].strip() == FHIR_JSON for part in accept.split(","))


CONTENT_LOCATION = OpenApiResponse(
    description="Accepted: poll the URL in `Content-Location` for the job's status.",
)


@extend_schema(tags=["fhir"])
class BulkExportKickOffApi(FhirApiView):
    """Starts an export of every patient I may export: an organisation admin, the whole
    organisation; a clinician, the patients of their care teams. NDJSON files, one per
    resource type, are written by a worker; poll the status URL for them. One export at a
    time per person; files are kept for FHIR_EXPORT_RETENTION_HOURS (24) after it ends."""

    renderer_classes = [FhirJsonRenderer]
    schema = FhirAutoSchema()

    @extend_schema(
        operation_id="fhir_bulk_export",
        parameters=[
            KickOffQuery,
            OpenApiParameter(
                "Accept",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                enum=[FHIR_JSON],
                description="The format of an error's OperationOutcome.",
            ),
            OpenApiParameter(
                "Prefer",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                enum=["respond-async"],
                description="The export is asynchronous; this says the client knows.",
            ),
            OpenApiParameter(
                "Content-Location",
                OpenApiTypes.URI,
                OpenApiParameter.HEADER,
                response=[202],
                description="Absolute URL of the job's status.",
            ),
        ],
        responses={202: CONTENT_LOCATION, **outcome_responses(400, 401, 403, 429)},
    )
    def get(self, request: Request) -> Response:
        _may_bulk_export(request)
        if not _accepts_fhir_json(request):
            return self.outcome(400, f"Send `Accept: {FHIR_JSON}`.")
        if not _wants_async(request):
            return self.outcome(400, "Send `Prefer: respond-async`: the export is asynchronous.")
        query = KickOffQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        request_id = current_request_id.get()
        job = services.export_kick_off(
            by=current_user(request),
            resource_types=query.validated_data.get("_type", []),
            since=query.validated_data.get("_since"),
            request_url=request.build_absolute_uri(),
            request_id="" if request_id == "-" else request_id,
            ip=client_ip(request),
            now=timezone.now(),
        )
        status_url = reverse("fhir-bulk-status", kwargs={"job_id": job.pk})
        return Response(
            status=202, headers={"Content-Location": request.build_absolute_uri(status_url)}
        )


def _manifest(request: Request, job: ExportJob) -> dict[str, Any]:
    transaction_time: datetime = job.transaction_time or job.created_at
    return {
        "transactionTime": transaction_time,
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [
            {
                "type": export_file.resource_type,
                "url": request.build_absolute_uri(
                    reverse(
                        "fhir-bulk-file", kwargs={"job_id": job.pk, "file_name": export_file.name}
                    )
                ),
                "count": export_file.count,
            }
            for export_file in selectors.export_files_of(job)
        ],
        "error": [],
    }


IN_PROGRESS_RESPONSE = OpenApiResponse(
    description="Queued or running: `X-Progress` says how far, `Retry-After` when to ask again.",
)


@extend_schema(tags=["fhir"])
class BulkExportStatusApi(FhirApiView):
    renderer_classes = [JSONRenderer, FhirJsonRenderer]
    schema = FhirAutoSchema()

    @extend_schema(
        operation_id="fhir_bulk_export_status",
        parameters=[
            OpenApiParameter(
                "X-Progress",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                response=[202],
                description="e.g. `running: 1500 of 4200 patients`.",
            ),
            OpenApiParameter(
                "Retry-After",
                OpenApiTypes.INT,
                OpenApiParameter.HEADER,
                response=[202],
                description="Seconds to wait before polling again.",
            ),
            OpenApiParameter(
                "Expires",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                response=[200],
                description="HTTP date after which the files are gone.",
            ),
        ],
        responses={
            200: ManifestSerializer,
            202: IN_PROGRESS_RESPONSE,
            **outcome_responses(401, 403, 404, 500),
        },
    )
    def get(self, request: Request, job_id: int) -> Response:
        """My export's status: 202 while it runs, 200 with the manifest of its files when it
        is complete, 500 with an OperationOutcome if it failed."""
        _may_bulk_export(request)
        now = timezone.now()
        job = selectors.export_job_get(viewer=current_user(request), job_id=job_id, now=now)
        if job.status in (ExportStatus.QUEUED, ExportStatus.RUNNING):
            progress = f"{job.status}: {job.patients_done} of {job.patients_total} patients"
            return Response(
                status=202, headers={"X-Progress": progress, "Retry-After": str(POLL_SECONDS)}
            )
        if job.status == ExportStatus.FAILED:
            return self.outcome(500, job.error or "The export failed.")
        response = Response(ManifestSerializer(_manifest(request, job)).data)
        response["Expires"] = http_date(job.expires_at.timestamp())
        return response

    @extend_schema(
        operation_id="fhir_bulk_export_cancel",
        responses={
            202: OpenApiResponse(description="Cancelled: the job stops and its files go."),
            **outcome_responses(401, 403, 404),
        },
    )
    def delete(self, request: Request, job_id: int) -> Response:
        """Cancels my export (running or complete): its files are deleted."""
        _may_bulk_export(request)
        now = timezone.now()
        job = selectors.export_job_get(viewer=current_user(request), job_id=job_id, now=now)
        services.export_cancel(job=job, now=now)
        return Response(status=202)


@extend_schema(tags=["fhir"])
class BulkExportFileApi(FhirApiView):
    """One NDJSON file of my completed export, for the user who asked for it."""

    renderer_classes = [NdjsonRenderer, FhirJsonRenderer]
    schema = FhirAutoSchema()

    @extend_schema(
        operation_id="fhir_bulk_export_file",
        responses={
            (200, FHIR_NDJSON): OpenApiResponse(
                OpenApiTypes.STR,
                description="One FHIR resource of the file's type a line (newline-delimited JSON).",
            ),
            **outcome_responses(401, 403, 404),
        },
    )
    def get(self, request: Request, job_id: int, file_name: str) -> Any:
        _may_bulk_export(request)
        export_file = selectors.export_file_get(
            viewer=current_user(request), job_id=job_id, name=file_name, now=timezone.now()
        )
        path = services.export_file_path(export_file)
        if not path.is_file():  # the purge is deleting it at this moment
            return self.outcome(404, "No such export of yours.")
        response = FileResponse(path.open("rb"), content_type=FHIR_NDJSON)
        response["Cache-Control"] = "no-store"
        return response
