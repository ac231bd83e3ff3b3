"""Recording mixins: a list view records a read of each row on the page it returns; a model
admin records every addition, change and deletion made through it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from rest_framework import generics

from backend.audit.models import Action, Resource
from backend.audit.services import patient_id_of, record_access


class RecordsPageReads(generics.GenericAPIView):
    """Put first among a list view's bases and name `audit_resource`: every page served to
    someone other than the patient is recorded, one event per row, in one INSERT."""

    audit_resource: ClassVar[Resource]

    @staticmethod
    def audit_patient_of(obj: Any) -> int | None:
        return patient_id_of(obj)

    def paginate_queryset(self, queryset: Any) -> list[Any] | None:
        page = super().paginate_queryset(queryset)
        if page is not None:
            record_access(
                self.request,
                Action.READ,
                self.audit_resource,
                page,
                patient_of=self.audit_patient_of,
            )
        return page


# The resource type of each model's admin events; any other model is an ADMIN_RECORD, its
# label in `changes`.
ADMIN_RESOURCES: dict[str, Resource] = {
    "accounts.organisation": Resource.ORGANISATION,
    "accounts.user": Resource.USER,
    "accounts.patientprofile": Resource.PATIENT,
    "accounts.careteammembership": Resource.CARE_TEAM_MEMBERSHIP,
    "accounts.caregiverlink": Resource.CAREGIVER_LINK,
    "accounts.activationcode": Resource.ACTIVATION_CODE,
    "accounts.pushdevice": Resource.DEVICE,
    "exercise.exercise": Resource.EXERCISE,
    "exercise.programme": Resource.PROGRAMME,
    "exercise.programmeversion": Resource.PROGRAMME_VERSION,
    "exercise.progressionproposal": Resource.PROPOSAL,
    "exercise.sessionlog": Resource.SESSION,
    "exercise.assessment": Resource.ASSESSMENT,
    "alerts.alert": Resource.ALERT,
    "alerts.notification": Resource.NOTIFICATION,
}


def _admin_patient_of(obj: Any) -> int | None:
    profile = getattr(obj, "patient_profile", None)  # a patient's account is their record
    if profile is not None:
        return int(profile.pk)
    if hasattr(obj, "programme") and not hasattr(obj, "patient_id"):
        return patient_id_of(obj.programme)  # a programme version is its programme's patient's
    return patient_id_of(obj)


def _changed_fields(message: Any) -> list[str]:
    """The field names of the admin's change message (never values: they may be health data)."""
    fields: list[str] = []
    for part in message if isinstance(message, list) else []:
        fields += part.get("changed", {}).get("fields", [])
    return fields


class AuditedAdmin(admin.ModelAdmin):  # mixed into every model admin
    """Every addition, change and deletion through the admin, by anyone, superusers included,
    is an audit event, written in the same transaction as the change. Django calls these
    hooks wherever the admin writes: forms, the password form, bulk delete actions."""

    def _record(
        self, request: HttpRequest, action: Action, objects: Iterable[Model], fields: list[str]
    ) -> None:
        label = self.model._meta.label_lower
        resource = ADMIN_RESOURCES.get(label, Resource.ADMIN_RECORD)
        record_access(
            request,  # type: ignore[arg-type]  # reads only .user and .META
            action,
            resource,
            objects,
            patient_of=_admin_patient_of,
            changes={"admin": label, "fields": [self._field_name(f) for f in fields]},
        )

    def _field_name(self, verbose: str) -> str:
        for field in self.model._meta.get_fields():
            if str(getattr(field, "verbose_name", "")).lower() == str(verbose).lower():
                return field.name
        return verbose

    def log_addition(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        self._record(request, Action.CREATE, [obj], [])
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        self._record(request, Action.UPDATE, [obj], _changed_fields(message))
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        self._record(request, Action.DELETE, list(queryset), [])  # before the rows go
        return super().log_deletions(request, queryset)
