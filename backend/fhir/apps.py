from django.apps import AppConfig


class FhirConfig(AppConfig):
    """HL7 FHIR R4 under /fhir/: the care record read out, lab results imported."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "backend.fhir"
    label = "fhir"
