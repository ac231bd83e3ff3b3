from __future__ import annotations

from django.db.models import Count, QuerySet

from backend.accounts.models import PatientProfile, User
from backend.accounts.selectors import patients_visible_to
from backend.alerts.models import Alert, AlertStatus, Notification, WeeklyAdherence


def notifications_of(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)


def alerts_visible_to(viewer: User) -> QuerySet[Alert]:
    """Only the patient's care team sees alerts; patients and caregivers see none of the
    clinical alerts about them."""
    if not viewer.is_clinician:
        return Alert.objects.none()
    return Alert.objects.filter(patient__in=patients_visible_to(viewer)).select_related(
        "acknowledged_by", "resolved_by"
    )


def open_alert_counts(patient_ids: list[int]) -> dict[int, int]:
    rows = (
        Alert.objects.filter(patient_id__in=patient_ids)
        .exclude(status=AlertStatus.RESOLVED)
        .values("patient_id")
        .annotate(open=Count("id"))
    )
    return {row["patient_id"]: row["open"] for row in rows}


def weekly_adherence_of(patient: PatientProfile, *, weeks: int = 12) -> QuerySet[WeeklyAdherence]:
    return WeeklyAdherence.objects.filter(patient=patient).order_by("-week_start")[:weeks]


def alerts_about(patient: PatientProfile) -> QuerySet[Alert]:
    """Every alert about the patient, for their own copy of their record (GET /me/export/):
    the app does not show them clinical alerts, but the right of access covers them."""
    return (
        Alert.objects.filter(patient=patient)
        .select_related("acknowledged_by", "resolved_by")
        .order_by("created_at", "id")
    )


def adherence_history_of(patient: PatientProfile) -> QuerySet[WeeklyAdherence]:
    return WeeklyAdherence.objects.filter(patient=patient).order_by("week_start")
