"""What a bulk export writes: for each FHIR resource type, a function from a page of patient
ids to that page's resources as JSON-ready dicts.

RESOURCE_EXPORTERS is the one seam between the file machinery (services.py) and the mapping
of PhysioTrack's records to FHIR (backend/fhir/mapping/). An exporter must:
- read the page in a fixed number of queries, whatever the patients' history (a page is
  500 patients; the history of one page is what a worker holds in memory at once);
- set `meta.lastUpdated` on each resource, so `_since` can leave older ones out;
- yield resources of its type only, valid against the FHIR R4B models.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from django.db.models import Prefetch

from backend.accounts.models import PatientProfile
from backend.exercise.models import Assessment, SessionItemResult, SessionLog
from backend.fhir.mapping.assessments import assessment_to_fhir
from backend.fhir.mapping.common import instant
from backend.fhir.mapping.patients import patient_to_fhir
from backend.fhir.mapping.sessions import session_to_fhir

Resource = dict[str, Any]
ResourceExporter = Callable[[list[int]], Iterable[Resource]]


def _stamped(resource: Resource, updated: datetime) -> Resource:
    resource["meta"] = {"lastUpdated": instant(updated)}
    return resource


def patient_resources(patient_ids: list[int]) -> Iterator[Resource]:
    """Patient, as `Patient/{id}` reads it: one query for the page."""
    patients = (
        PatientProfile.objects.filter(pk__in=patient_ids)
        .select_related("user__organisation")
        .order_by("pk")
    )
    for patient in patients:
        yield _stamped(patient_to_fhir(patient), patient.updated_at)


def observation_resources(patient_ids: list[int]) -> Iterator[Resource]:
    """Observation, as the search and `$everything` show them: each session log (exercise
    activity; deleted logs are not part of the record) and each assessment (outcome measure).
    Four queries for the page: the patients' accounts, the logs, their results, the
    assessments."""
    user_of = dict(PatientProfile.objects.filter(pk__in=patient_ids).values_list("pk", "user_id"))
    sessions = (
        SessionLog.objects.filter(patient_id__in=patient_ids, deleted_at__isnull=True)
        .select_related("recorded_by")
        .prefetch_related(
            Prefetch("results", queryset=SessionItemResult.objects.order_by("item__position"))
        )
        .order_by("patient_id", "started_at", "pk")
    )
    for session in sessions:
        resource = session_to_fhir(session, patient_user_id=user_of[session.patient_id])
        yield _stamped(resource, session.updated_at)
    assessments = (
        Assessment.objects.filter(patient_id__in=patient_ids)
        .select_related("measured_by")
        .order_by("patient_id", "measured_at", "pk")
    )
    for assessment in assessments:
        resource = assessment_to_fhir(assessment, patient_user_id=user_of[assessment.patient_id])
        yield _stamped(resource, assessment.created_at)


# The registry: resource type → exporter, in the order the types are written. `_type` is
# validated against its keys. The resources are the mapping module's (backend/fhir/mapping/),
# the same as `$everything` and the searches answer.
RESOURCE_EXPORTERS: dict[str, ResourceExporter] = {
    "Patient": patient_resources,
    "Observation": observation_resources,
}
