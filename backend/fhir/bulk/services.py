"""Bulk export jobs: kick-off, the run that writes the NDJSON files, cancel, and purge.

A run writes one file per resource type, page by page of patients (keyset pages of
PAGE_SIZE, `pk > last`: no cursor outlives its query, so it works behind PgBouncer in
transaction mode), a line per resource as it is made: a worker holds one page's records at a
time, whatever the organisation's size.

A run that starts again (the task retried after a passing database error, or re-driven after
the broker lost it) restarts the job's files from scratch: its directory is emptied and every
page written again. Only the audit trail is not redone: each page's patients are recorded once
per job (`audited_through`), in the transaction that records the page's progress.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone

from backend.accounts.models import User
from backend.audit.models import Action
from backend.audit.services import record_access_of_patients
from backend.core.enqueue import enqueue, enqueue_on_commit
from backend.core.errors import DomainError, require_role
from backend.core.fanout import keyset_pages
from backend.fhir.bulk.exporters import RESOURCE_EXPORTERS, Resource
from backend.fhir.bulk.models import IN_PROGRESS, ExportFile, ExportJob, ExportStatus
from backend.fhir.bulk.selectors import EXPORT_ROLES, patients_exportable_by

logger = logging.getLogger(__name__)

PAGE_SIZE = 500  # patients a page: what a worker holds at once (with their records)
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
MAX_ATTEMPTS = 5  # runs of one job, whatever retried or re-drove them; then it has failed
STALLED_AFTER = timedelta(minutes=10)  # a running job with no page written for this long died
REDRIVE_AFTER = timedelta(minutes=5)  # a job still queued this long: its task was lost
PURGE_BATCH = 200  # jobs a purge deletes per transaction


def retention() -> timedelta:
    return timedelta(hours=settings.FHIR_EXPORT_RETENTION_HOURS)


def export_dir(job_id: int) -> Path:
    return Path(settings.FHIR_EXPORT_DIR) / str(job_id)


def export_file_path(export_file: ExportFile) -> Path:
    return export_dir(export_file.job_id) / export_file.name


def _remove_files(job_ids: Sequence[int]) -> None:
    for job_id in job_ids:
        shutil.rmtree(export_dir(job_id), ignore_errors=True)


# --- Kick-off and cancel ---------------------------------------------------------------------


@transaction.atomic
def export_kick_off(
    *,
    by: User,
    resource_types: list[str],
    since: datetime | None,
    request_url: str,
    request_id: str,
    ip: str | None,
    now: datetime,
) -> ExportJob:
    """A queued job, its run published after commit on the "bulk" queue. 403 for anyone but
    an organisation admin or a clinician; 429 while the same person's previous export is
    still queued or running (one at a time each: an export is minutes of a worker)."""
    require_role(by, EXPORT_ROLES, "Only organisation admins and clinicians may bulk export.")
    if by.organisation_id is None:  # a role implies an organisation (a check constraint)
        raise DomainError("You belong to no organisation.", code="permission_denied", status=403)
    organisation_id: int = by.organisation_id
    unknown = [name for name in resource_types if name not in RESOURCE_EXPORTERS]
    if unknown:  # the API validates first; a caller of the service gets the same rule
        raise DomainError(f"Unsupported resource types: {', '.join(unknown)}.")
    busy = DomainError(
        "An export you asked for is still in progress: wait for it, or cancel it.",
        code="throttled",
        status=429,
    )
    if ExportJob.objects.filter(requested_by=by, status__in=IN_PROGRESS).exists():
        raise busy
    try:
        with transaction.atomic():  # the unique constraint settles two kick-offs at once
            job = ExportJob.objects.create(
                requested_by=by,
                organisation_id=organisation_id,
                resource_types=resource_types or list(RESOURCE_EXPORTERS),
                since=since,
                request_url=request_url[:2000],
                request_id=request_id[:64],
                ip=ip,
                created_at=now,
                expires_at=now + retention(),
            )
    except IntegrityError:
        raise busy from None
    from backend.fhir.bulk.tasks import bulk_export

    enqueue_on_commit(bulk_export, job.pk)
    return job


@transaction.atomic
def export_cancel(*, job: ExportJob, now: datetime) -> None:
    """DELETE on the status URL: the job ends (a running one stops at its next page) and its
    files go once this commits; the status and files then answer 404."""
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.CANCELLED, finished_at=now)
    ExportFile.objects.filter(job_id=job.pk).delete()
    job_id = job.pk
    transaction.on_commit(lambda: _remove_files([job_id]))


# --- The run ---------------------------------------------------------------------------------


@dataclass
class _Files:
    """The open NDJSON file of each type, with its line and byte counts."""

    directory: Path
    handles: dict[str, IO[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)

    def write(self, resource_type: str, resource: Resource) -> None:
        handle = self.handles.get(resource_type)
        if handle is None:
            handle = (self.directory / f"{resource_type}.ndjson").open("w", encoding="utf-8")
            self.handles[resource_type] = handle
            self.counts[resource_type] = self.sizes[resource_type] = 0
        line = json.dumps(resource, ensure_ascii=False, separators=(",", ":")) + "\n"
        handle.write(line)
        self.counts[resource_type] += 1
        self.sizes[resource_type] += len(line.encode("utf-8"))

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()


def _changed_since(resource: Resource, since: datetime | None) -> bool:
    """`_since`: a resource whose `meta.lastUpdated` is before it is left out (one without
    is kept: the IG allows more, never less)."""
    if since is None:
        return True
    updated = resource.get("meta", {}).get("lastUpdated")
    return updated is None or datetime.fromisoformat(updated) >= since


def _claim(job_id: int, now: datetime) -> ExportJob | None:
    """The job, now running under a new attempt, if it was queued; None if another run has it
    or it has ended (a duplicate task, a cancelled job): that run does nothing."""
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportStatus.QUEUED).update(
        status=ExportStatus.RUNNING,
        attempt=F("attempt") + 1,
        started_at=now,
        transaction_time=now,
        heartbeat_at=now,
        patients_done=0,
    )
    if not claimed:
        return None
    job = ExportJob.objects.select_related("requested_by").get(pk=job_id)
    if job.attempt > MAX_ATTEMPTS:
        _end(job, ExportStatus.FAILED, f"Gave up after {MAX_ATTEMPTS} attempts.")
        return None
    return job


def _current(job: ExportJob) -> Any:
    """Rows of this job only while this run still owns it (not cancelled, not taken over)."""
    return ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING, attempt=job.attempt)


def _end(job: ExportJob, status: ExportStatus, error: str = "") -> None:
    now = timezone.now()
    _current(job).update(status=status, error=error, finished_at=now, expires_at=now + retention())


@dataclass(frozen=True)
class RunResult:
    status: str  # "completed", "failed", "cancelled", or "skipped" (nothing to do)
    patients: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def export_run(*, job_id: int) -> RunResult:
    """Runs a queued job to its end (the task's body; a second call for the same job does
    nothing). A passing database error puts the job back in the queue and is raised for the
    task to retry; any other error fails the job, with its files removed."""
    job = _claim(job_id, timezone.now())
    if job is None:
        return RunResult("skipped")
    directory = export_dir(job.pk)
    shutil.rmtree(directory, ignore_errors=True)  # from scratch: an earlier attempt's lines go
    directory.mkdir(parents=True)
    files = _Files(directory)
    try:
        outcome = _write_pages(job, files)
    except TRANSIENT_ERRORS:
        files.close()
        _remove_files([job.pk])
        try:
            _current(job).update(status=ExportStatus.QUEUED)
        except TRANSIENT_ERRORS:  # still down: the purge fails it once it has stalled
            logger.warning("export %s: could not put the job back in the queue", job.pk)
        raise
    except SoftTimeLimitExceeded:
        files.close()
        _remove_files([job.pk])
        _end(job, ExportStatus.FAILED, "The export took longer than its time limit.")
        return RunResult(ExportStatus.FAILED)
    except Exception:
        logger.exception("export %s failed", job.pk)
        files.close()
        _remove_files([job.pk])
        _end(job, ExportStatus.FAILED, "The export failed on the server.")
        return RunResult(ExportStatus.FAILED)
    files.close()
    if outcome is not None:  # cancelled (or taken over) while running
        _remove_files([job.pk])
        return outcome
    return _complete(job, files)


def _write_pages(job: ExportJob, files: _Files) -> RunResult | None:
    patients = patients_exportable_by(job.requested_by)
    _current(job).update(patients_total=patients.count())
    exporters = [(name, RESOURCE_EXPORTERS[name]) for name in job.resource_types]
    done, audited = 0, job.audited_through
    for page in keyset_pages(patients, PAGE_SIZE):
        for resource_type, exporter in exporters:
            for resource in exporter(page):
                if _changed_since(resource, job.since):
                    files.write(resource_type, resource)
        for handle in files.handles.values():
            handle.flush()
        done += len(page)
        if not _page_done(job, page, done=done, audited=audited):
            return RunResult(ExportStatus.CANCELLED, done)
        audited = max(audited, page[-1])
    return None


def _page_done(job: ExportJob, page: list[int], *, done: int, audited: int) -> bool:
    """Progress, heartbeat and the audit trail of one page, in one transaction; False when the
    job was cancelled meanwhile (this run then stops)."""
    now = timezone.now()
    with transaction.atomic():
        owned = _current(job).update(
            heartbeat_at=now, patients_done=done, audited_through=max(audited, page[-1])
        )
        if not owned:
            return False
        # Exported: an access to each patient's record, by the person who asked, in the
        # request that asked. Patients an earlier attempt of this job recorded are not again.
        record_access_of_patients(
            actor=job.requested_by,
            action=Action.EXPORT,
            patient_ids=[patient_id for patient_id in page if patient_id > audited],
            occurred_at=now,
            request_id=job.request_id,
            ip=job.ip,
        )
    return True


@transaction.atomic
def _complete(job: ExportJob, files: _Files) -> RunResult:
    now = timezone.now()
    owned = _current(job).update(
        status=ExportStatus.COMPLETED, finished_at=now, expires_at=now + retention()
    )
    if not owned:
        transaction.on_commit(lambda: _remove_files([job.pk]))
        return RunResult(ExportStatus.CANCELLED)
    rows = []
    for resource_type in job.resource_types:
        count = files.counts.get(resource_type, 0)
        if count:
            rows.append(
                ExportFile(
                    job=job,
                    resource_type=resource_type,
                    name=f"{resource_type}.ndjson",
                    count=count,
                    size=files.sizes[resource_type],
                )
            )
    ExportFile.objects.bulk_create(rows)
    done = ExportJob.objects.values_list("patients_done", flat=True).get(pk=job.pk)
    return RunResult(ExportStatus.COMPLETED, done, dict(files.counts))


# --- Housekeeping ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PurgeResult:
    purged: int
    stalled: int
    redriven: int


def exports_purge(*, now: datetime) -> PurgeResult:
    """The periodic task's body: jobs past their expiry go with their files (rows first, files
    once that commits, so no row ever names a missing file); a running job silent for
    STALLED_AFTER has lost its worker and fails; a job queued for REDRIVE_AFTER lost its task
    (the broker was down at kick-off) and is published again (a duplicate run does nothing)."""
    purged = 0
    while True:
        with transaction.atomic():
            ids = list(
                ExportJob.objects.filter(expires_at__lte=now)
                .exclude(status=ExportStatus.RUNNING)
                .order_by("pk")
                .values_list("pk", flat=True)[:PURGE_BATCH]
            )
            if not ids:
                break
            ExportFile.objects.filter(job_id__in=ids).delete()
            ExportJob.objects.filter(pk__in=ids).delete()
            transaction.on_commit(lambda ids=ids: _remove_files(ids))  # type: ignore[misc]
        purged += len(ids)
    stalled = ExportJob.objects.filter(
        status=ExportStatus.RUNNING, heartbeat_at__lt=now - STALLED_AFTER
    ).update(
        status=ExportStatus.FAILED,
        error="The worker running the export stopped.",
        finished_at=now,
        expires_at=now + retention(),
    )
    from backend.fhir.bulk.tasks import bulk_export

    lost = ExportJob.objects.filter(
        Q(status=ExportStatus.QUEUED) & Q(created_at__lt=now - REDRIVE_AFTER)
    ).values_list("pk", flat=True)[:PURGE_BATCH]
    redriven = sum(1 for job_id in list(lost) if enqueue(bulk_export, job_id))
    return PurgeResult(purged, stalled, redriven)
