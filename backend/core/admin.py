"""Admin for organisation admins: each sees and changes only their own organisation's rows.

Platform superusers see everything. Organisation admins need no Django model permissions:
their reach is decided here, by organisation, so it cannot drift from the API's rule.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from django.http import HttpRequest

from backend.audit.mixins import AuditedAdmin


def org_admin_organisation_id(request: HttpRequest) -> int | None:
    user = request.user
    if getattr(user, "role", "") == "org_admin" and user.is_active and user.is_staff:
        return user.organisation_id
    return None


class OrganisationScopedAdmin(AuditedAdmin):
    """`organisation_path` is the ORM path from the model to its organisation id. Every change
    is an audit event (AuditedAdmin)."""

    organisation_path: str = "organisation_id"
    org_admin_can_add = True
    org_admin_can_delete = False

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
        return self._in_scope(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or (
            self.org_admin_can_add and org_admin_organisation_id(request) is not None
        )

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if request.user.is_superuser:
            return True
        return self.org_admin_can_delete and self._in_scope(request, obj)


class ReadOnlyForOrgAdmin(OrganisationScopedAdmin):
    """Rows an organisation admin may inspect but never alter (credentials, devices)."""

    org_admin_can_add = False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return request.user.is_superuser
