"""A short list of codes stored as ',a,b,' so "has this code" is a portable LIKE query on
SQLite and PostgreSQL alike (JSONField containment is not available on SQLite)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Lookup


def _split(value: str | None) -> list[str]:
    return [part for part in (value or "").split(",") if part]


class CodeListField(models.CharField):
    """`codes` is the TextChoices the list draws from; stored order is kept."""

    def __init__(self, *args: Any, codes: type[models.TextChoices] | None = None, **kwargs: Any):
        self.codes = codes
        kwargs.setdefault("max_length", 300)
        kwargs.setdefault("default", list)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> list[str]:
        return _split(value)

    def to_python(self, value: Any) -> list[str]:
        if isinstance(value, list | tuple):
            return list(value)
        return _split(value)

    def get_prep_value(self, value: Any) -> str:
        codes = self.to_python(value)
        return f",{','.join(codes)}," if codes else ""

    def value_to_string(self, obj: models.Model) -> str:
        return ",".join(self.to_python(self.value_from_object(obj)))

    def validate(self, value: Any, model_instance: models.Model | None) -> None:
        if not self.blank and not value:
            raise ValidationError("At least one code is needed.")
        if self.codes is not None:
            unknown = [code for code in value or [] if code not in self.codes.values]
            if unknown:
                raise ValidationError(f"Unknown code(s): {', '.join(unknown)}.")
        if len(set(value or [])) != len(value or []):
            raise ValidationError("Each code may appear once.")

    def run_validators(self, value: Any) -> None:
        super().run_validators(self.get_prep_value(value))  # max_length applies to the column

    def formfield(self, **kwargs: Any) -> Any:
        return forms.MultipleChoiceField(
            choices=self.codes.choices if self.codes else [],
            required=not self.blank,
            label=self.verbose_name.capitalize(),
            help_text=self.help_text,
        )


@CodeListField.register_lookup
class HasCode(Lookup):
    """`field__has="code"`: the list contains the code."""

    lookup_name = "has"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} LIKE %s", [*lhs_params, f"%,{self.rhs},%"]
