"""Forms of the Today page: its filters, and the note that resolves an alert."""

from __future__ import annotations

from typing import Any

from django import forms

from backend.accounts.models import PatientProfile
from backend.alerts.models import Urgency
from backend.alerts.rules import RULES_IN_ORDER, Kind

ALERT_RULES = [
    (rule.id, f"{rule.id} · {rule.title}") for rule in RULES_IN_ORDER if rule.kind == Kind.ALERT
]


class InboxFilterForm(forms.Form):
    """GET filters; the patient choices are the viewer's own patients (one query)."""

    urgency = forms.ChoiceField(
        label="Urgency", required=False, choices=[("", "All urgencies"), *Urgency.choices]
    )
    rule = forms.ChoiceField(
        label="Rule", required=False, choices=[("", "All rules"), *ALERT_RULES]
    )
    patient = forms.TypedChoiceField(label="Patient", required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, patients: list[PatientProfile], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["patient"]
        assert isinstance(field, forms.TypedChoiceField)  # noqa: S101  # declared above
        field.choices = [("", "All my patients"), *((p.pk, str(p)) for p in patients)]

    def filters(self) -> dict[str, Any]:
        """The lookups the valid filters ask for (none when the form is not valid)."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        wanted = {
            "urgency": data["urgency"],
            "rule_id": data["rule"],
            "patient_id": data["patient"],
        }
        return {key: value for key, value in wanted.items() if value not in ("", None)}


class ResolveForm(forms.Form):
    note = forms.CharField(
        label="How was it resolved?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say how it was resolved: a note is required."},
    )
