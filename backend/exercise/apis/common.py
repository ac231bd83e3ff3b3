from __future__ import annotations

from django.shortcuts import get_object_or_404

from backend.accounts.models import PatientProfile, Role, User
from backend.accounts.selectors import patients_visible_to
from backend.core.errors import DomainError


def patient_for_write(viewer: User, patient_id: int | None) -> PatientProfile:
    """The patient a write is about: the patient themselves, or the one named in the body
    (caregivers and clinicians must name them). 404 if the viewer may not see them."""
    visible = patients_visible_to(viewer).select_related("user")  # no team: writes need none
    if patient_id is None:
        if viewer.role != Role.PATIENT:
            raise DomainError("Say which patient.", errors={"patient": ["This field is required."]})
        return get_object_or_404(visible, user=viewer)
    return get_object_or_404(visible, pk=patient_id)
