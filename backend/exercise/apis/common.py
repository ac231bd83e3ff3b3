from __future__ import annotations

from backend.accounts.models import PatientProfile, Role, User
from backend.accounts.selectors import patient_get
from backend.core.errors import DomainError


def patient_for_write(viewer: User, patient_id: int | None) -> PatientProfile:
    """The patient a write is about: the patient themselves, or the one named in the body
    (caregivers and clinicians must name them). 404 if the viewer may not see them."""
    if patient_id is None:
        if viewer.role != Role.PATIENT:
            raise DomainError("Say which patient.", errors={"patient": ["This field is required."]})
        return patient_get(viewer=viewer, patient_id=viewer.patient_profile.pk)
    return patient_get(viewer=viewer, patient_id=patient_id)
