"""Admin for organisation admins: each sees and changes only their own organisation's rows.

Platform superusers see everything. Organisation admins need no Django model permissions:
their reach is decided here, by organisation, so it cannot drift from the API's rule.
"""

from __future__ import annotations

from typing import Any

from django.db.models import ForeignKey, ManyToManyField, Model, QuerySet
from django.forms import ModelChoiceField, ModelMultipleChoiceField
from django.http import HttpRequest

from backend.audit.mixins import AuditedAdmin


def org_admin_organisation_id(request: HttpRequest) -> int | None:
    user = request.user
    if getattr(user, "role", "") == "org_admin" and user.is_active and user.is_staff:
        return user.organisation_id
    return None


def organisation_scoped(queryset: QuerySet[Any], org_id: int) -> QuerySet[Any]:
    """The rows of `queryset` that belong to one organisation; none for a model that has no
    organisation (closed by default: a dropdown of another kind of row offers nothing)."""
    model = queryset.model
    field_names = {field.name for field in model._meta.get_fields()}
    if model._meta.label_lower == "accounts.organisation":
        return queryset.filter(pk=org_id)
    if "organisation" in field_names:
        return queryset.filter(organisation_id=org_id)
    if model._meta.label_lower == "accounts.patientprofile":
        return queryset.filter(user__organisation_id=org_id)
    return queryset.none()


def _choices(field: ModelChoiceField[Any], db_field: Any) -> QuerySet[Any]:
    if field.queryset is not None:
        return field.queryset
    return db_field.related_model._default_manager.all()


class OrganisationScopedAdmin(AuditedAdmin):
    """`organisation_path` is the ORM path from the model to its organisation id. Every list,
    form and dropdown shows an organisation admin their own organisation's rows only (platform
    superusers see all); every change is an audit event (AuditedAdmin)."""

    organisation_path: str = "organisation_id"
    org_admin_can_add = True
    org_admin_can_change = True
    org_admin_can_delete = False

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        org_id = org_admin_organisation_id(request)
        if field is not None and org_id is not None and not request.user.is_superuser:
            field.queryset = organisation_scoped(_choices(field, db_field), org_id)
        return field

    def formfield_for_manytomany(
        self, db_field: ManyToManyField[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelMultipleChoiceField[Any] | None:
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        org_id = org_admin_organisation_id(request)
        if field is not None and org_id is not None and not request.user.is_superuser:
            field.queryset = organisation_scoped(_choices(field, db_field), org_id)
        return field

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        org_id = org_admin_organisation_id(request)
        if org_id is None:
            return queryset.none()
        return queryset.filter(**{self.organisation_path: org_id})

    def _in_scope(self, request: HttpRequest, obj: Model | None) -> bool:
        if request.user.is_superuser:
            return True
        if org_admin_organisation_id(request) is None:
            return False
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or org_admin_organisation_id(request) is not None

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._in_scope(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if request.user.is_superuser:
            return True
        return self.org_admin_can_change and self._in_scope(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or (
            self.org_admin_can_add and org_admin_organisation_id(request) is not None
        )

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if request.user.is_superuser:
            return True
        return self.org_admin_can_delete and self._in_scope(request, obj)


class ReadOnlyForOrgAdmin(OrganisationScopedAdmin):
    """Rows an organisation admin may inspect but never alter (credentials, devices,
    exercise content)."""

    org_admin_can_add = False
    org_admin_can_change = False
