"""Forms of the enrol pages: they check the shape of what was typed and hand the cleaned data
to the accounts services, which hold the rules (and answer with DomainError)."""

from __future__ import annotations

import zoneinfo
from datetime import date, time
from functools import cache
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from backend.accounts.models import CaregiverRelationship
from backend.console.views.enrol_codes import SUBMISSION_PATTERN
from backend.core.errors import DomainError
from backend.core.validators import EARLIEST, LATEST

WEEKDAYS = [
    (1, "Monday"),
    (2, "Tuesday"),
    (3, "Wednesday"),
    (4, "Thursday"),
    (5, "Friday"),
    (6, "Saturday"),
    (7, "Sunday"),
]


@cache
def _timezone_choices() -> list[tuple[str, str]]:
    zones = sorted(z for z in zoneinfo.available_timezones() if "/" in z and "Etc" not in z)
    return [(zone, zone.replace("_", " ")) for zone in zones]


def _plausible(value: date) -> None:
    if not EARLIEST <= value <= LATEST:
        raise ValidationError(f"Must be between {EARLIEST:%d/%m/%Y} and {LATEST:%d/%m/%Y}.")


class OnceForm(forms.Form):
    """A form whose POST must act once: it carries a one-time submission token."""

    submission = forms.CharField(widget=forms.HiddenInput)
    status = 400  # the answer's status when the form comes back with errors

    def service_arguments(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("submission")
        return data

    def clean_submission(self) -> str:
        token: str = self.cleaned_data["submission"]
        if not SUBMISSION_PATTERN.match(token):
            raise ValidationError("This form is not valid any more; open it again.")
        return token

    def add_domain_error(self, error: DomainError) -> None:
        """The service's refusal on the form: its message at the top, its field errors next
        to their fields."""
        self.status = error.status
        self.add_error(None, error.detail)
        for field, messages in (error.errors or {}).items():
            if field in self.fields and field != "submission":
                for message in messages:
                    self.add_error(field, message)


class PatientEnrolForm(OnceForm):
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    date_of_birth = forms.DateField(
        validators=[_plausible],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    timezone = forms.ChoiceField(
        label="Time zone",
        choices=_timezone_choices,
        initial="Europe/London",
        help_text="Where the patient lives: reminders and weeks follow it.",
    )
    email = forms.EmailField(
        required=False, help_text="Optional. The code is not e-mailed: hand it over yourself."
    )
    diagnosis = forms.CharField(max_length=300, required=False)
    training_weekdays = forms.TypedMultipleChoiceField(
        label="Training days",
        choices=WEEKDAYS,
        coerce=int,
        initial=[1, 3, 5],
        widget=forms.CheckboxSelectMultiple,
        help_text="The days the patient plans to exercise (2–3 a week).",
    )
    reminder_time = forms.TimeField(
        label="Reminder time",
        initial=time(17, 30),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="In the patient's time zone.",
    )

    def service_arguments(self) -> dict[str, Any]:
        data = super().service_arguments()
        data["timezone_name"] = data.pop("timezone")
        return data


class CaregiverInviteForm(OnceForm):
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    relationship = forms.ChoiceField(
        choices=CaregiverRelationship.choices, initial=CaregiverRelationship.PARENT
    )
    email = forms.EmailField(required=False, help_text="Optional.")


class CodeReissueForm(OnceForm):
    """Just the button: a new code replaces the patient's earlier unused one."""
