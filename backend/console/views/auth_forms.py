"""The console's sign-in forms: password (clinicians and org admins only) and the second
factor (a code from an authenticator app)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from backend.console.access import may_use_console

NOT_FOR_CONSOLE = (
    "This console is for care teams. Patients and caregivers: please use the PhysioTrack "
    "mobile app."
)


class ConsoleSignInForm(AuthenticationForm):
    """Django's sign-in form (inactive and deactivated accounts fail like a wrong password:
    the default backend refuses them), refusing a right password of a patient or caregiver
    with a pointer to the app."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "not_for_console": NOT_FOR_CONSOLE,
    }

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not may_use_console(user):
            raise ValidationError(self.error_messages["not_for_console"], code="not_for_console")

    def password_was_wrong(self) -> bool:
        """The attempt counts as a failed sign-in (throttle and lockout)."""
        return any(error.code == "invalid_login" for error in self.non_field_errors().as_data())


class SecondFactorForm(forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app",
        min_length=6,
        max_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]*"}
        ),
        help_text="Six digits; a new code appears every 30 seconds.",
    )

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"].replace(" ", "")
        if not code.isdigit():
            raise ValidationError("The code is six digits.")
        return code
