from django.apps import AppConfig


class SymptomsConfig(AppConfig):
    """Symptom reports: red flags stored on their own, whatever else a request got wrong."""

    name = "backend.symptoms"
    label = "symptoms"
    verbose_name = "Symptom reports"
