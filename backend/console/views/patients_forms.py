"""Forms of the Patients pages: they shape what a person typed; the services validate it.

Neither form repeats a range or a rule: the assessment's ranges are assessment_record's and
the rule settings' are the catalogue's (rule_settings_update), whose field errors
`add_domain_errors` puts next to the fields they name.
"""

from __future__ import annotations

from typing import Any

from django import forms

from backend.alerts.rules import ENABLED, ParamType
from backend.alerts.rules.schema import Param
from backend.alerts.selectors import RuleSetting
from backend.core.errors import DomainError
from backend.exercise.measures import Measure, Setting

SETTING_SEPARATOR = "."  # a rule setting's field is "<rule id>.<setting>", as in the API's errors


class AssessmentForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")  # "Measure", not "Measure:" (the label's name)
        super().__init__(*args, **kwargs)

    measure = forms.ChoiceField(choices=Measure.choices)
    setting = forms.ChoiceField(choices=Setting.choices, initial=Setting.CLINIC)
    value = forms.DecimalField(max_digits=10, decimal_places=3)
    measured_at = forms.DateTimeField(
        label="Measured at",
        help_text="In the patient's time zone.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    max_score = forms.TypedChoiceField(
        label="MMT8 scored out of",
        choices=[("", "—"), ("80", "80"), ("150", "150")],
        coerce=int,
        empty_value=None,
        required=False,
        help_text="MMT8 only.",
    )
    upper_limit = forms.DecimalField(
        label="Laboratory upper limit",
        max_digits=7,
        decimal_places=1,
        min_value=0,
        required=False,
        help_text="CK only.",
    )
    note = forms.CharField(max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def service_data(self) -> dict[str, Any]:
        """What assessment_record takes (as AssessmentInput's validated data)."""
        data = dict(self.cleaned_data)
        for optional in ("max_score", "upper_limit"):
            if data.get(optional) is None:
                data.pop(optional, None)
        return data


def add_domain_errors(form: forms.Form, error: DomainError, prefix: str = "") -> None:
    """The service's field errors next to the form's fields (`prefix` strips the API's
    "rules." in front of a rule setting); the rest above the form."""
    if not error.errors:
        form.add_error(None, error.detail)
        return
    for key, messages in error.errors.items():
        field = key.removeprefix(prefix)
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


def _field_for(param: Param, value: Any) -> forms.Field:
    """A field that only parses: no min/max, so an out-of-range value reaches the service
    and is refused with the catalogue's own message (and the browser does not pre-empt it)."""
    label = param.name.replace("_", " ").capitalize()
    allowed = f"Allowed: {_bound(param.minimum)}–{_bound(param.maximum)} {param.unit}."
    common: dict[str, Any] = {
        "label": f"{label} ({param.unit})",
        "required": not param.nullable,
        "help_text": f"{param.description} {allowed}",
        "initial": value,
    }
    if param.type == ParamType.INTEGER:
        return forms.IntegerField(**common)
    if param.type == ParamType.NUMBER:
        return forms.FloatField(**common)
    if param.type == ParamType.INTEGER_LIST:
        common["initial"] = ", ".join(str(v) for v in value or [])
        common["help_text"] = f"{param.description} Comma-separated. {allowed}"
        common["required"] = False
        return forms.CharField(**common)
    common["help_text"] = f"{param.description} As HH:MM (24 h)."
    return forms.CharField(**common)


def _bound(value: float | None) -> str:
    if value is None:
        return "any"
    return str(int(value)) if float(value).is_integer() else str(value)


class RuleSettingsForm(forms.Form):
    """One field per setting of every configurable rule, named "<rule id>.<setting>"."""

    def __init__(self, *args: Any, settings: list[RuleSetting], **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")  # "Measure", not "Measure:" (the label's name)
        super().__init__(*args, **kwargs)
        self.settings = settings
        for setting in settings:
            rule = setting.rule
            for param in rule.parameters:
                self.fields[self.key(rule.id, param.name)] = _field_for(
                    param, setting.values.get(param.name)
                )
            if rule.may_disable:
                self.fields[self.key(rule.id, ENABLED)] = forms.BooleanField(
                    label="On for this patient", required=False, initial=setting.enabled
                )

    @staticmethod
    def key(rule_id: str, name: str) -> str:
        return f"{rule_id}{SETTING_SEPARATOR}{name}"

    def groups(self) -> list[tuple[RuleSetting, list[forms.BoundField]]]:
        """Each rule with its bound fields, for one fieldset per rule."""
        return [
            (
                setting,
                [
                    self[self.key(setting.rule.id, name)]
                    for name in setting.rule.setting_names()
                    if self.key(setting.rule.id, name) in self.fields
                ],
            )
            for setting in self.settings
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for setting in self.settings:
            for param in setting.rule.parameters:
                key = self.key(setting.rule.id, param.name)
                if key not in cleaned:
                    continue
                value = cleaned[key]
                if param.type == ParamType.INTEGER_LIST:
                    try:
                        cleaned[key] = [int(part) for part in str(value).split(",") if part.strip()]
                    except ValueError:
                        self.add_error(key, "Whole numbers separated by commas.")
                elif param.type == ParamType.NUMBER and value is not None:
                    cleaned[key] = int(value) if float(value).is_integer() else value
                elif param.type == ParamType.TIME and value == "" and param.nullable:
                    cleaned[key] = None
        return cleaned

    def changes(self) -> dict[str, dict[str, Any]]:
        """Every rule's settings as rule_settings_update takes them: the service keeps only
        what differs from the defaults and reports what changed."""
        return {
            setting.rule.id: {
                name: self.cleaned_data[self.key(setting.rule.id, name)]
                for name in setting.rule.setting_names()
                if self.key(setting.rule.id, name) in self.cleaned_data
            }
            for setting in self.settings
        }
