"""Forms of the programme pages. They parse what was typed (numbers, dates, choices) and
hand a content dict to the programme services; the dose rules are the services' alone
(`_validate_content`), and their errors are put back next to the fields here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict

from backend.console.views.programmes_words import WEEKDAY_NAMES
from backend.core.errors import DomainError
from backend.exercise.codes import BodyRegion, Category, IntensityScale, LoadUnit
from backend.exercise.models import Exercise, PauseReason
from backend.exercise.serializers import DoseFields

# The API's input bounds (DoseFields) as the inputs' min/max: one source for both doors.
_API_DOSE = DoseFields().fields


def _count(name: str, label: str) -> forms.IntegerField:
    api = _API_DOSE[name]
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=getattr(api, "min_value", None),
        max_value=getattr(api, "max_value", None),
    )


def _blank_first(choices: list[tuple[str, str]], blank: str) -> list[tuple[str, str]]:
    return [("", blank), *choices]


class ProgrammeForm(forms.Form):
    title = forms.CharField(max_length=200)
    goals = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    start_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    review_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    sessions_per_week_min = forms.IntegerField(label="Sessions per week, at least")
    sessions_per_week_max = forms.IntegerField(label="Sessions per week, at most")
    training_weekdays = forms.TypedMultipleChoiceField(
        label="Training days",
        choices=list(WEEKDAY_NAMES.items()),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    reason = forms.CharField(
        label="Reason for the change (the patient is told)", max_length=500, required=False
    )
    activate = forms.BooleanField(label="Start the programme now", required=False)

    def content(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            name: data[name]
            for name in (
                "title",
                "goals",
                "start_date",
                "review_date",
                "sessions_per_week_min",
                "sessions_per_week_max",
                "training_weekdays",
            )
        }


class ItemForm(forms.Form):
    """One row of the builder: an exercise of the library and its dose."""

    exercise = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)
    sets = _count("sets", "Sets")
    reps = _count("reps", "Repetitions")
    hold_seconds = _count("hold_seconds", "Hold (seconds)")
    load_unit = forms.ChoiceField(
        label="Load type",
        required=False,
        choices=_blank_first(LoadUnit.choices, "No load"),
    )
    load_value = forms.DecimalField(
        label="Load (kg)", required=False, max_digits=6, decimal_places=2, min_value=0
    )
    band_colour = forms.CharField(label="Band colour", max_length=20, required=False)
    rest_seconds = _count("rest_seconds", "Rest between sets (seconds)")
    duration_minutes = _count("duration_minutes", "Duration (minutes)")
    interval_work_seconds = _count("interval_work_seconds", "Interval work (seconds)")
    interval_rest_seconds = _count("interval_rest_seconds", "Interval rest (seconds)")
    interval_repeats = _count("interval_repeats", "Interval repeats")
    intensity_scale = forms.ChoiceField(
        label="Intensity scale",
        required=False,
        choices=_blank_first(IntensityScale.choices, "No intensity target"),
    )
    intensity_target = forms.DecimalField(
        label="Intensity target (RPE 6–20 or CR10 0–10, on the scale chosen)",
        required=False,
        max_digits=4,
        decimal_places=1,
        min_value=0,
    )
    notes = forms.CharField(label="Note for the patient", max_length=500, required=False)
    remove = forms.BooleanField(label="Remove this exercise", required=False)

    def __init__(self, *args: Any, exercises: list[Exercise], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["exercise"]
        assert isinstance(field, forms.TypedChoiceField)  # noqa: S101  # declared above
        field.choices = [("", "Choose an exercise"), *((e.pk, e.name) for e in exercises)]

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return data.get("exercise") is None and not any(
            data.get(name) not in (None, "", False) for name in data if name != "remove"
        )

    def item(self) -> dict[str, Any]:
        """The item as the services take it: the exercise and the dose fields typed in."""
        data = self.cleaned_data
        return {
            name: value
            for name, value in data.items()
            if name != "remove" and value is not None and value != ""
        }


class LibraryFilter(forms.Form):
    """Search of the exercise library (by name, category, body region)."""

    q = forms.CharField(label="Name contains", required=False, max_length=100)
    category = forms.ChoiceField(
        label="Type", required=False, choices=_blank_first(Category.choices, "Any type")
    )
    region = forms.ChoiceField(
        label="Body region",
        required=False,
        choices=_blank_first(BodyRegion.choices, "Any region"),
    )


class PauseForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why pause",
        choices=[(v, label) for v, label in PauseReason.choices if v != PauseReason.RED_FLAG],
    )
    note = forms.CharField(label="Note (the patient is told)", max_length=500, required=False)


class SaveAsTemplateForm(forms.Form):
    name = forms.CharField(label="Template name", max_length=200)
    description = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class TemplateEditForm(SaveAsTemplateForm):
    name = forms.CharField(label="Name", max_length=200)


class PrescribeFromTemplateForm(forms.Form):
    patient = forms.TypedChoiceField(coerce=int, label="Patient")
    title = forms.CharField(
        label="Programme title (default: the template's name)", max_length=200, required=False
    )
    start_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    activate = forms.BooleanField(label="Start the programme now", required=False, initial=True)

    def __init__(self, *args: Any, patients: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["patient"]
        assert isinstance(field, forms.TypedChoiceField)  # noqa: S101  # declared above
        field.choices = patients


class FromTemplateForm(forms.Form):
    template = forms.TypedChoiceField(coerce=int, label="Template")
    start_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    activate = forms.BooleanField(label="Start the programme now", required=False, initial=True)

    def __init__(self, *args: Any, templates: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["template"]
        assert isinstance(field, forms.TypedChoiceField)  # noqa: S101  # declared above
        field.choices = templates


def echoed(form: forms.Form, data: QueryDict) -> dict[str, Any]:
    """What was typed into `form`'s fields, as initial values: a re-render (an exercise
    added, the library searched) shows the rows as they were, without judging them."""
    return {
        name: field.widget.value_from_datadict(data, {}, form.add_prefix(name))
        for name, field in form.fields.items()
    }


def put_errors(
    error: DomainError | ValidationError,
    programme_form: forms.Form,
    item_forms: list[ItemForm],
) -> None:
    """A service's refusal next to the fields it names: programme fields on the programme
    form, `items.<n>` on the n-th item saved, anything else at the top of the form."""
    if isinstance(error, ValidationError):
        named: dict[str, Any] = error.message_dict if hasattr(error, "error_dict") else {}
        if not named:
            programme_form.add_error(None, error.messages)
    else:
        named = error.errors or {}
        if not named:
            programme_form.add_error(None, error.detail)
    for key, messages in named.items():
        if key == "items" and isinstance(messages, dict):
            for index, problems in messages.items():
                item_forms[int(index)].add_error(None, problems)
        elif key in programme_form.fields:
            programme_form.add_error(key, messages)
        else:
            programme_form.add_error(None, messages)
