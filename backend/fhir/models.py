"""The FHIR app's tables live next to the code that owns them; Django finds them here."""

from backend.fhir.bulk.models import ExportFile, ExportJob

__all__ = ["ExportFile", "ExportJob"]
