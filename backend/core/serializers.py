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
