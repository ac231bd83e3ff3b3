"""Celery tasks of the bulk export: thin doors to backend.fhir.bulk.services."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from django.utils import timezone

from backend.fhir.bulk import services


@shared_task(
    bind=True,
    name="fhir.bulk_export",
    # A second run of a job does nothing (it is claimed from "queued" once), so a message
    # given again after its worker died is harmless; the purge fails the dead run.
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=3,
    # 100,000 patients take a few minutes (docs/benchmarks.md); the soft limit fails the job
    # cleanly, and both stay under half the broker's visibility timeout.
    soft_time_limit=20 * 60,
    time_limit=22 * 60,
)
def bulk_export(self: Task, job_id: int) -> dict[str, Any]:
    try:
        result = services.export_run(job_id=job_id)
    except services.TRANSIENT_ERRORS as error:
        # The job went back to "queued": the retry starts its files from scratch.
        raise self.retry(exc=error, countdown=30 * 2**self.request.retries) from error
    return {"status": str(result.status), "patients": result.patients, "counts": result.counts}


@shared_task(name="fhir.bulk_purge_expired", acks_late=True, reject_on_worker_lost=True)
def bulk_purge_expired() -> dict[str, int]:
    """Every 15 minutes: expired jobs and their files go, dead runs fail, lost ones rerun."""
    result = services.exports_purge(now=timezone.now())
    return {"purged": result.purged, "stalled": result.stalled, "redriven": result.redriven}
