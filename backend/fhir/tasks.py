"""The FHIR app's tasks live next to the code that owns them; Celery's autodiscovery (which
imports `<app>.tasks` of each installed app) finds them here."""

from backend.fhir.bulk.tasks import bulk_export, bulk_purge_expired

__all__ = ["bulk_export", "bulk_purge_expired"]
