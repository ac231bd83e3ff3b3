from __future__ import annotations

from django.db.models import QuerySet

from backend.accounts.models import User
from backend.accounts.selectors import of_visible_patients
from backend.symptoms.models import SymptomReport


def symptom_reports_visible_to(viewer: User) -> QuerySet[SymptomReport]:
    """The patient's own reports, their caregivers', and their care team's."""
    return SymptomReport.objects.filter(of_visible_patients(viewer))
