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


def _audit_every_admin() -> None:
    """Admins registered by other apps (auth, token blacklist, celery beat) record their
    changes too: each is re-registered as a subclass with AuditedAdmin first. This module is
    the last admin autodiscovered (audit is the last app), so every admin exists by now;
    tests/core/test_admin_trust.py fails if one is missed."""
    from backend.audit.mixins import AuditedAdmin

    for model, model_admin in list(admin.site._registry.items()):
        if isinstance(model_admin, AuditedAdmin):
            continue
        audited = type(
            f"Audited{type(model_admin).__name__}", (AuditedAdmin, type(model_admin)), {}
        )
        admin.site.unregister(model)
        admin.site.register(model, audited)


_audit_every_admin()
