"""Parameters of the kick-off and the completion manifest (Bulk Data Access IG v2)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from backend.fhir.bulk.exporters import RESOURCE_EXPORTERS

OUTPUT_FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")
_NAMES = "|".join(RESOURCE_EXPORTERS)


@extend_schema_field({"type": "string", "pattern": rf"^({_NAMES})(,({_NAMES}))*$"})
class ResourceTypesField(serializers.CharField):
    """A comma-separated list of the registry's resource types (validated below)."""


@extend_schema_field(OpenApiTypes.DATETIME)
class InstantField(serializers.CharField):
    """A FHIR instant: a date-time with its offset (parsed below)."""


class KickOffQuery(serializers.Serializer):
    """The query string of `GET /fhir/$export`. Any other parameter is refused (400): a client
    asking for a filter this server does not apply must not get more than it asked for."""

    _type = ResourceTypesField(
        required=False,
        max_length=500,
        help_text="Comma-separated resource types to export (default: all of "
        + ", ".join(RESOURCE_EXPORTERS)
        + ").",
    )
    _since = InstantField(
        required=False,
        max_length=40,
        help_text="A FHIR instant with its offset, e.g. `2026-11-01T00:00:00Z`: only resources "
        "changed since then.",
    )
    _outputFormat = serializers.ChoiceField(  # the IG's parameter name
        choices=OUTPUT_FORMATS, required=False, help_text="NDJSON, the only format."
    )

    def to_internal_value(self, data: Any) -> Any:
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {name: ["This parameter is not supported."] for name in unknown}
            )
        return super().to_internal_value(data)

    def validate__type(self, value: str) -> list[str]:
        names = [name.strip() for name in value.split(",") if name.strip()]
        unknown = [name for name in names if name not in RESOURCE_EXPORTERS]
        if unknown:
            raise serializers.ValidationError(
                f"Unsupported resource types: {', '.join(unknown)}. "
                f"Supported: {', '.join(RESOURCE_EXPORTERS)}."
            )
        if not names:
            raise serializers.ValidationError("Name at least one resource type.")
        return list(dict.fromkeys(names))  # once each, in the order asked

    def validate__since(self, value: str) -> Any:
        try:
            moment = parse_datetime(value)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise serializers.ValidationError(
                "Use a FHIR instant with its offset, e.g. 2026-11-01T00:00:00Z."
            )
        try:
            return moment.astimezone(UTC)  # stored in UTC: 0001-01-01T00:00+05:00 is not
        except OverflowError:
            raise serializers.ValidationError("This instant is out of range.") from None


class ManifestOutputSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="The resource type of every line of the file.")
    url = serializers.URLField(help_text="GET it with the same access token.")
    count = serializers.IntegerField(help_text="Resources in the file.")


class ManifestErrorSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="`OperationOutcome`.")
    url = serializers.URLField()


class ManifestSerializer(serializers.Serializer):
    """The completion manifest: where each file is, for this job's `expires` time."""

    transactionTime = serializers.DateTimeField()  # the IG's names
    request = serializers.URLField(help_text="The kick-off URL.")
    requiresAccessToken = serializers.BooleanField()
    output = ManifestOutputSerializer(many=True)
    error = ManifestErrorSerializer(many=True)
