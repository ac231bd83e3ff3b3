"""The imported and answered FHIR resources, described for the OpenAPI schema only: a request
is validated by fhir.resources' R4B models and the rules of `parsing`, never by these."""

from __future__ import annotations

from rest_framework import serializers

from backend.fhir.imports import codes


class CodingSchema(serializers.Serializer):
    system = serializers.CharField()
    code = serializers.CharField()
    display = serializers.CharField(required=False)


class CodeableConceptSchema(serializers.Serializer):
    coding = CodingSchema(many=True)
    text = serializers.CharField(required=False)


class IdentifierSchema(serializers.Serializer):
    system = serializers.CharField(max_length=255)
    value = serializers.CharField(max_length=255)


class ReferenceSchema(serializers.Serializer):
    reference = serializers.RegexField(r"^Patient/[1-9][0-9]*$", help_text="Patient/<id>")


class QuantitySchema(serializers.Serializer):
    value = serializers.DecimalField(max_digits=10, decimal_places=3, coerce_to_string=False)
    unit = serializers.CharField(required=False)
    system = serializers.URLField(required=False, help_text=f"{codes.UCUM} when code is given.")
    code = serializers.CharField(required=False, help_text="UCUM code of the unit.")


class SimpleQuantitySchema(serializers.Serializer):
    value = serializers.DecimalField(max_digits=10, decimal_places=3, coerce_to_string=False)


class ReferenceRangeSchema(serializers.Serializer):
    high = SimpleQuantitySchema(help_text="CK: the laboratory's upper limit; MMT8: 80 or 150.")


class AnnotationSchema(serializers.Serializer):
    text = serializers.CharField(max_length=500)


class ObservationSchema(serializers.Serializer):
    resourceType = serializers.RegexField(r"^Observation$")
    id = serializers.CharField(required=False, help_text="In an answer: the assessment's id.")
    identifier = IdentifierSchema(many=True, help_text="Makes a resend return the stored result.")
    status = serializers.ChoiceField(choices=sorted(codes.ACCEPTED_STATUSES))
    category = CodeableConceptSchema(
        many=True, required=False, help_text=f"Setting: {codes.SETTING_SYSTEM} home or clinic."
    )
    code = CodeableConceptSchema()
    subject = ReferenceSchema()
    effectiveDateTime = serializers.DateTimeField()
    valueQuantity = QuantitySchema()
    referenceRange = ReferenceRangeSchema(many=True, required=False)
    note = AnnotationSchema(many=True, required=False)


class BundleRequestSchema(serializers.Serializer):
    method = serializers.RegexField(r"^POST$")
    url = serializers.RegexField(r"^Observation$")


class BundleEntrySchema(serializers.Serializer):
    fullUrl = serializers.CharField(required=False)
    resource = ObservationSchema()
    request = BundleRequestSchema()


class TransactionSchema(serializers.Serializer):
    resourceType = serializers.RegexField(r"^Bundle$")
    type = serializers.RegexField(r"^transaction$")
    entry = BundleEntrySchema(many=True)


class BundleResponseSchema(serializers.Serializer):
    status = serializers.ChoiceField(choices=["201 Created", "200 OK"])
    location = serializers.CharField(help_text="Observation/<id>")


class ResponseEntrySchema(serializers.Serializer):
    resource = ObservationSchema()
    response = BundleResponseSchema()


class TransactionResponseSchema(serializers.Serializer):
    resourceType = serializers.RegexField(r"^Bundle$")
    type = serializers.RegexField(r"^transaction-response$")
    entry = ResponseEntrySchema(many=True)


class IssueSchema(serializers.Serializer):
    severity = serializers.RegexField(r"^error$")
    code = serializers.CharField(help_text="FHIR issue type: structure, value, not-found…")
    diagnostics = serializers.CharField()
    expression = serializers.ListField(child=serializers.CharField(), required=False)


class OperationOutcomeSchema(serializers.Serializer):
    resourceType = serializers.RegexField(r"^OperationOutcome$")
    issue = IssueSchema(many=True)
