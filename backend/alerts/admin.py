"""Alerts and messages carry clinical content: platform superusers only (organisation admins
manage people, not care, and hold no model permissions for these)."""

from django.contrib import admin

from backend.alerts.models import (
    Alert,
    Notification,
    NotificationDelivery,
    Reminder,
    RuleOverride,
    WeeklyAdherence,
)


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["rule_id", "patient", "urgency", "status", "created_at", "escalated_at"]
    list_filter = ["urgency", "status", "rule_id"]
    list_select_related = ["patient__user"]
    readonly_fields = ["dedup_key", "evidence", "rule_id", "rule_version", "created_at"]


@admin.register(RuleOverride)
class RuleOverrideAdmin(admin.ModelAdmin):
    list_display = ["rule_id", "patient", "parameters", "updated_at"]
    list_select_related = ["patient__user"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["recipient", "kind", "title", "created_at", "read_at"]
    list_filter = ["kind"]
    list_select_related = ["recipient"]


@admin.register(NotificationDelivery)
class NotificationDeliveryAdmin(admin.ModelAdmin):
    list_display = ["notification", "channel", "status", "attempts", "sent_at", "last_error"]
    list_filter = ["channel", "status"]


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ["patient", "kind", "local_date", "due_at"]
    list_filter = ["kind"]


@admin.register(WeeklyAdherence)
class WeeklyAdherenceAdmin(admin.ModelAdmin):
    list_display = ["patient", "week_start", "sessions", "below_minimum", "above_maximum"]
