from django.contrib import admin

from backend.alerts.models import Notification
from backend.core.admin import ReadOnlyForOrgAdmin


@admin.register(Notification)
class NotificationAdmin(ReadOnlyForOrgAdmin):
    organisation_path = "recipient__organisation_id"
    list_display = ["recipient", "kind", "title", "created_at", "read_at"]
    list_filter = ["kind"]
    list_select_related = ["recipient"]
