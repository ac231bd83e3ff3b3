from __future__ import annotations

from django import forms
from django_filters import rest_framework as filters

# Ids are 64-bit: a larger number is refused as a 400 rather than overflowing the database.
MAX_ID = 2**63 - 1


class IdFilter(filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)
