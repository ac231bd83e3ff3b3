"""Reads of the audit trail and of a patient's whole record, scoped to who asks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, QuerySet
from django.utils import timezone

from backend.accounts.models import PatientProfile, PushDevice, Role, User
from backend.accounts.selectors import devices_of, patient_profiles_with_team, patients_visible_to
from backend.alerts.models import Alert, Notification, WeeklyAdherence
from backend.alerts.selectors import adherence_history_of, alerts_about, notifications_of
from backend.audit.models import AccessEvent
from backend.exercise.models import Assessment, Programme, SessionLog
from backend.exercise.selectors import (
    assessments_for_export,
    programmes_for_export,
    sessions_for_export,
)
from backend.symptoms.models import SymptomReport


def audit_events_of_organisation(viewer: User) -> QuerySet[AccessEvent]:
    """Every event of the organisation admin's own organisation; nothing for anyone else."""
    if viewer.role != Role.ORG_ADMIN or not viewer.is_active or viewer.organisation_id is None:
        return AccessEvent.objects.none()
    return AccessEvent.objects.filter(organisation_id=viewer.organisation_id).select_related(
        "actor"
    )


def access_log_of(viewer: User) -> QuerySet[AccessEvent]:
    """Who else read or changed the records of the patient the viewer is (or, for a
    caregiver, acts for): the viewer's own and the patient's own actions are left out."""
    if viewer.role not in {Role.PATIENT, Role.CAREGIVER}:
        return AccessEvent.objects.none()
    return (
        AccessEvent.objects.filter(patient__in=patients_visible_to(viewer))
        .exclude(actor=viewer)
        .exclude(actor_id=F("patient__user_id"))
        .select_related("actor")
    )


@dataclass(frozen=True)
class PatientExport:
    generated_at: datetime
    profile: PatientProfile
    programmes: QuerySet[Programme]
    sessions: QuerySet[SessionLog]
    assessments: QuerySet[Assessment]
    weekly_adherence: QuerySet[WeeklyAdherence]
    symptom_reports: QuerySet[SymptomReport]
    alerts: QuerySet[Alert]
    notifications: QuerySet[Notification]
    devices: QuerySet[PushDevice]
    access_log: QuerySet[AccessEvent]


def patient_export(patient_user: User) -> PatientExport:
    """Everything PhysioTrack holds about the signed-in patient, in a fixed number of queries
    (the querysets are evaluated as the response is written)."""
    profile = patient_profiles_with_team(patient_user).get(user=patient_user)
    return PatientExport(
        generated_at=timezone.now(),
        profile=profile,
        programmes=programmes_for_export(profile),
        sessions=sessions_for_export(profile),
        assessments=assessments_for_export(profile),
        weekly_adherence=adherence_history_of(profile),
        symptom_reports=SymptomReport.objects.filter(patient=profile).order_by("reported_at", "id"),
        alerts=alerts_about(profile),
        notifications=notifications_of(patient_user).order_by("created_at", "id"),
        devices=devices_of(patient_user).order_by("created_at", "id"),
        access_log=access_log_of(patient_user).order_by("occurred_at", "id"),
    )
