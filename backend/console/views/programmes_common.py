"""What the programme pages share: who is asking, the patient they name, the audit call."""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from rest_framework.request import Request

from backend.accounts.models import PatientProfile, User
from backend.accounts.selectors import patients_visible_to
from backend.audit.models import Action, Resource
from backend.audit.services import record_access


def viewer_of(request: HttpRequest) -> User:
    """The signed-in user (console_view has made sure there is one)."""
    return cast(User, request.user)


def visible_patient(viewer: User, patient_id: int) -> PatientProfile:
    """The patient, or 404 when the viewer may not see them (never a hint that they exist)."""
    return get_object_or_404(patients_visible_to(viewer).select_related("user"), pk=patient_id)


def audit(
    request: HttpRequest, action: Action, resource: Resource, objects: Any, **options: Any
) -> None:
    """record_access reads the user and the client address (META) of the request, which a
    console request has as an API one does."""
    record_access(cast(Request, request), action, resource, objects, **options)
