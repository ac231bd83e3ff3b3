"""The audit trail: one append-only row per record a person read or changed, through the API
or the admin."""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models

from backend.accounts.models import Organisation, PatientProfile, User


class Action(models.TextChoices):
    READ = "read", "Read"
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    DELETE = "delete", "Delete"
    ACKNOWLEDGE = "acknowledge", "Acknowledge"
    RESOLVE = "resolve", "Resolve"
    ACTIVATE = "activate", "Activate"
    PAUSE = "pause", "Pause"
    COMPLETE = "complete", "Complete"
    ACCEPT = "accept", "Accept"
    DISMISS = "dismiss", "Dismiss"
    DEACTIVATE = "deactivate", "Deactivate"
    EXPORT = "export", "Export"


class Resource(models.TextChoices):
    PATIENT = "patient", "Patient profile"
    PATIENT_SUMMARY = "patient_summary", "Patient summary"
    ASSESSMENT_TREND = "assessment_trend", "Assessment trend"
    CARE_TEAM_MEMBERSHIP = "care_team_membership", "Care-team seat"
    CAREGIVER_LINK = "caregiver_link", "Caregiver link"
    ACTIVATION_CODE = "activation_code", "Activation code (id: the account's user id)"
    USER = "user", "User account"
    DEVICE = "device", "Push device"
    EXERCISE = "exercise", "Exercise"
    PROGRAMME = "programme", "Programme"
    PROGRAMME_VERSION = "programme_version", "Programme version"
    PROPOSAL = "progression_proposal", "Progression proposal"
    SESSION = "session", "Session log"
    ASSESSMENT = "assessment", "Assessment"
    ALERT = "alert", "Alert"
    NOTIFICATION = "notification", "Notification"
    RULE_SETTINGS = "rule_settings", "Rule settings (id: the patient's)"
    SYMPTOM_REPORT = "symptom_report", "Symptom report"
    REPLAYED_ANSWER = "replayed_answer", "Replayed idempotent answer (id: the stored key's)"
    ORGANISATION = "organisation", "Organisation"
    ADMIN_RECORD = "admin_record", "Other record changed in the admin (changes: its model)"
    AUDIT_PARTITION = (
        "audit_partition",
        "A month of the audit trail dropped past retention (changes: the month, its rows)",
    )


class AppendOnlyError(Exception):
    """An audit event was about to be changed or deleted."""


class AccessEventQuerySet(models.QuerySet["AccessEvent"]):
    """Bulk changes are refused like single ones (the database refuses them too, on PostgreSQL)."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit events are append-only: they cannot be updated.")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("Audit events are append-only: they cannot be deleted.")

    def bulk_update(self, objs: Any, fields: Any, batch_size: Any = None) -> NoReturn:
        raise AppendOnlyError("Audit events are append-only: they cannot be updated.")


class AccessEvent(models.Model):
    """Who (user, and their role at the time) did what (action on a resource) to whose record
    (the patient), when, from which address, in which request. Rows are only ever inserted:
    save() of a stored row, delete() and bulk changes raise, and on PostgreSQL a trigger
    refuses UPDATE and DELETE whoever sends them (migration 0002)."""

    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    actor_role = models.CharField(max_length=20, blank=True, help_text="The role at the time.")
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # audit_org_time leads with it
    )
    patient = models.ForeignKey(
        PatientProfile,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # audit_patient_time leads with it
        help_text="Whose record it is (on whose behalf a caregiver or clinician acted).",
    )
    action = models.CharField(max_length=12, choices=Action.choices)
    resource_type = models.CharField(max_length=24, choices=Resource.choices)
    resource_id = models.BigIntegerField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    changes = models.JSONField(
        null=True,
        blank=True,
        help_text="For a change of settings: the old and new value of each one changed.",
    )

    objects = AccessEventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        # One index per filter of GET /audit/ (always within one organisation) and one for a
        # patient's access log.
        indexes = [
            models.Index(fields=["organisation", "-occurred_at"], name="audit_org_time"),
            models.Index(fields=["organisation", "actor", "-occurred_at"], name="audit_org_actor"),
            models.Index(fields=["patient", "-occurred_at"], name="audit_patient_time"),
            models.Index(
                fields=["organisation", "action", "-occurred_at"], name="audit_org_action"
            ),
            models.Index(
                fields=["organisation", "resource_type", "-occurred_at"], name="audit_org_resource"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.actor_id} {self.action} {self.resource_type} {self.resource_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The append-only rule is the model's invariant, so it is guarded here and not in a
        # service: no code path, admin form or shell session may rewrite history.
        if not self._state.adding:
            raise AppendOnlyError("Audit events are append-only: they cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit events are append-only: they cannot be deleted.")
