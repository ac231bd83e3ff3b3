"""Who may export which patients, and a requester's own jobs and files."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from backend.accounts.models import PatientProfile, Role, User
from backend.accounts.selectors import patients_visible_to
from backend.fhir.bulk.models import ExportFile, ExportJob, ExportStatus

# A bulk export is for the care team and the organisation's admin: the patient side has
# its own export (GET /api/v1/me/export/).
EXPORT_ROLES = frozenset({Role.ORG_ADMIN, Role.PHYSIOTHERAPIST, Role.NURSE, Role.PHYSICIAN})


def patients_exportable_by(user: User) -> QuerySet[PatientProfile]:
    """An organisation admin exports the whole organisation (the one place an admin reaches
    patient records: to move them to another system, under the organisation's own data
    controller duties, and every patient exported is in the audit trail); a clinician the
    patients they see (`patients_visible_to`); nobody else anything."""
    if not user.is_active or user.role not in EXPORT_ROLES:
        return PatientProfile.objects.none()
    if user.role == Role.ORG_ADMIN:
        if user.organisation_id is None:
            return PatientProfile.objects.none()
        return PatientProfile.objects.filter(user__organisation_id=user.organisation_id)
    return patients_visible_to(user)


def export_job_get(*, viewer: User, job_id: int, now: datetime) -> ExportJob:
    """The viewer's own job, unless it was cancelled or has expired: 404 otherwise (someone
    else's job is not theirs to know of)."""
    jobs = ExportJob.objects.filter(requested_by=viewer, expires_at__gt=now).exclude(
        status=ExportStatus.CANCELLED
    )
    return get_object_or_404(jobs, pk=job_id)


def export_files_of(job: ExportJob) -> list[ExportFile]:
    return list(job.files.order_by("id"))


def export_file_get(*, viewer: User, job_id: int, name: str, now: datetime) -> ExportFile:
    """A file of the viewer's own completed, unexpired job; 404 otherwise."""
    return get_object_or_404(
        ExportFile.objects.select_related("job"),
        job__pk=job_id,
        job__requested_by=viewer,
        job__status=ExportStatus.COMPLETED,
        job__expires_at__gt=now,
        name=name,
    )
