from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """Every error response of the API has this shape."""

    status = serializers.IntegerField(help_text="The HTTP status code, repeated.")
    code = serializers.CharField(help_text="Machine-readable error code, e.g. `invalid`.")
    detail = serializers.CharField(help_text="A message that can be shown to a person.")
    errors = serializers.DictField(  # type: ignore[assignment]  # a field named like the property
        required=False,
        help_text=(
            "For 400: the messages per field, as `{field: [message, ...]}`; nested objects "
            "and list items nest the same way."
        ),
    )
    request_id = serializers.CharField(help_text="Quote this id when reporting a problem.")


class IdField(serializers.IntegerField):
    """A reference to a row by id: positive and within 64 bits (never a database overflow)."""

    def __init__(self, **kwargs: object) -> None:
        from backend.core.filters import MAX_ID

        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)  # type: ignore[arg-type]


# A wall-clock time with no offset: RFC 3339 "partial-time". OpenAPI's `format: time` is a
# full-time, which requires an offset ("17:30:00Z"), so a client validating against it rejects
# every answer, and generating from it sends offsets this API would drop.
LOCAL_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"


@extend_schema_field(
    {"type": "string", "format": "partial-time", "pattern": LOCAL_TIME_PATTERN, "example": "17:30"}
)
class LocalTimeField(serializers.TimeField):
    """A time of day in the patient's own time zone (reminders, quiet hours)."""
