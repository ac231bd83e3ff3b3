"""The audit trail in the admin: readable (organisation admins: their organisation's only),
never added to, changed or deleted by anyone, platform superusers included."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from backend.audit.models import AccessEvent
from backend.core.admin import OrganisationScopedAdmin


@admin.register(AccessEvent)
class AccessEventAdmin(OrganisationScopedAdmin):
    list_display = [
        "occurred_at",
        "actor",
        "actor_role",
        "action",
        "resource_type",
        "resource_id",
        "patient",
        "ip",
    ]
    list_filter = ["action", "resource_type", "actor_role"]
    list_select_related = ["actor", "patient__user"]
    search_fields = ["request_id"]
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
