"""What the programme pages share: who is asking, the patient they name, the audit call, and
prescribing from a template."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from rest_framework.request import Request

from backend.accounts.models import PatientProfile, User
from backend.accounts.selectors import patients_visible_to
from backend.audit.models import Action, Resource
from backend.audit.services import record_access
from backend.exercise.models import ProgrammeTemplate
from backend.exercise.services import templates


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


def prescribe_from_template(
    request: HttpRequest,
    *,
    template: ProgrammeTemplate,
    patient: PatientProfile,
    options: dict[str, Any],
) -> None:
    """The template page's and the builder's "prescribe from a template": the programme and
    its audit event commit together; the service's warnings are shown. Raises DomainError."""
    with transaction.atomic():
        prescribed = templates.programme_create_from_template(
            template=template, by=viewer_of(request), patient=patient, **options
        )
        audit(request, Action.CREATE, Resource.PROGRAMME, [prescribed.programme])
    messages.success(request, f"Prescribed from “{template.name}”.")
    for warning in prescribed.warnings:
        messages.warning(request, warning)
