"""Forms of the organisation admin pages; the accounts services hold the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from backend.accounts.models import User


class _ClinicianChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.display_name} — {obj.get_role_display()}"


class CareTeamAddForm(forms.Form):
    member = _ClinicianChoice(
        label="Clinician to add",
        queryset=User.objects.none(),
        empty_label="Choose a clinician",
        help_text="Active clinicians of the organisation who are not on this team yet. "
        "Each takes the seat of their own profession.",
    )

    def __init__(self, *args: Any, candidates: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = candidates  # type: ignore[attr-defined]
