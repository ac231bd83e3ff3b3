from django.contrib import admin
from django.db import models

from backend.core.admin import ReadOnlyForOrgAdmin
from backend.exercise.models import (
    Assessment,
    Exercise,
    Programme,
    ProgrammeVersion,
    ProgressionProposal,
    SessionLog,
)


@admin.register(Exercise)
class ExerciseAdmin(ReadOnlyForOrgAdmin):
    """Exercise content is the clinicians' (through the API, which refuses organisation
    admins): an organisation admin may look at their organisation's exercises, never edit."""

    list_display = ["name", "category", "organisation", "updated_at"]
    list_filter = ["category"]
    search_fields = ["name", "instructions"]
    # Media links are https; also what Django 6 will assume (and it warns until told).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


# Clinical records are for the platform's superusers only: organisation admins manage people,
# not care (they hold no model permissions for these, so the admin shows them nothing).


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = ["id", "patient", "status", "current_version", "updated_at"]
    list_filter = ["status"]
    list_select_related = ["patient__user", "current_version"]


@admin.register(ProgrammeVersion)
class ProgrammeVersionAdmin(admin.ModelAdmin):
    list_display = ["programme", "number", "title", "author", "created_at"]
    list_select_related = ["programme", "author"]


@admin.register(SessionLog)
class SessionLogAdmin(admin.ModelAdmin):
    list_display = ["client_id", "patient", "started_at", "completion", "deleted_at"]
    list_select_related = ["patient__user"]


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = ["patient", "measure", "value", "setting", "measured_at"]
    list_filter = ["measure", "setting"]
    list_select_related = ["patient__user"]


@admin.register(ProgressionProposal)
class ProgressionProposalAdmin(admin.ModelAdmin):
    list_display = ["programme", "exercise", "change", "status", "created_at"]
