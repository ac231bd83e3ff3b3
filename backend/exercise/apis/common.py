from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404

from backend.accounts.models import PatientProfile, Role, User
from backend.accounts.selectors import own_patient_profile, patients_visible_to
from backend.core.errors import DomainError


def patient_for_write(viewer: User, patient_id: int | None) -> PatientProfile:
    """The patient a write is about: the patient themselves, or the one named in the body
    (caregivers and clinicians must name them). 404 if the viewer may not see them."""
    if patient_id is None:
        if viewer.role != Role.PATIENT:
            raise DomainError("Say which patient.", errors={"patient": ["This field is required."]})
        own = own_patient_profile(viewer)  # no second query on the hottest write
        if own is None:
            raise Http404
        return own
    visible = patients_visible_to(viewer).select_related("user")  # no team: writes need none
    return get_object_or_404(visible, pk=patient_id)
