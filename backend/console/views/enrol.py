"""Enrol: a physiotherapist creates a patient and hands over the activation code (once, in
text and as a QR code), then links a caregiver; a clinician of the care team issues a new
code or links a caregiver later. Each page calls the accounts service the API calls and
writes the audit event the API writes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from backend.accounts import selectors, services
from backend.accounts.models import PatientProfile, User
from backend.accounts.services import IssuedCode
from backend.audit.models import Action, Resource
from backend.audit.services import record_access
from backend.console.access import console_view
from backend.console.views.enrol_codes import (
    activation_qr_svg,
    new_submission_token,
    spelled_out,
    submission_claim,
    submission_done,
    submission_patient,
    submission_release,
)
from backend.console.views.enrol_forms import (
    CaregiverInviteForm,
    CodeReissueForm,
    OnceForm,
    PatientEnrolForm,
)
from backend.core.errors import DomainError


def _viewer(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101  # console_view lets only signed-in users in
    return user


def _record(
    request: HttpRequest, action: Action, resource: Resource, objects: Any, **options: Any
) -> None:
    """The API's audit event for a console request (record_access reads only the signed-in
    user and the client address, which a Django request has as well)."""
    record_access(request, action, resource, objects, **options)  # type: ignore[arg-type]


def _code_page(
    request: HttpRequest, *, patient: PatientProfile, person: User, issued: IssuedCode, heading: str
) -> HttpResponse:
    """The one page that ever shows a code (the answer to the POST that issued it)."""
    return render(
        request,
        "console/enrol/code.html",
        {
            "nav": "enrol",
            "heading": heading,
            "patient": patient,
            "person": person,
            "code": issued.code,
            "code_spelled": spelled_out(issued.code),
            "expires_at": issued.expires_at,
            "qr_svg": activation_qr_svg(issued.code),
        },
    )


# What a submitted form does: the service call and its audit event, returning the patient the
# submission was about and the page that answers it.
Act = Callable[[], tuple[PatientProfile, HttpResponse]]


def _submit_once(
    request: HttpRequest, form: OnceForm, act: Callable[[OnceForm], Act]
) -> HttpResponse | None:
    """Runs a form's action once per submission token; None when the form is to be shown
    again with its errors (`form.status` says which 4xx)."""
    viewer = _viewer(request)
    if not form.is_valid():
        return None
    token = form.cleaned_data["submission"]
    if not submission_claim(user_id=viewer.pk, token=token):
        return _already_sent(request, token)
    try:
        with transaction.atomic():  # the write and its audit event commit together
            patient, response = act(form)()
    except DomainError as error:
        submission_release(user_id=viewer.pk, token=token)
        form.add_domain_error(error)
        return None
    except Exception:
        # Nothing was saved (the transaction rolled back): the form may be sent again.
        submission_release(user_id=viewer.pk, token=token)
        raise
    submission_done(user_id=viewer.pk, token=token, patient_id=patient.pk)
    return response


def _already_sent(request: HttpRequest, token: str) -> HttpResponse:
    """A form sent a second time (a reload of the code page re-sends its POST): the code was
    shown once and is not shown again."""
    viewer = _viewer(request)
    patient_id = submission_patient(user_id=viewer.pk, token=token)
    patient = None
    if patient_id is not None:
        visible = selectors.patients_visible_to(viewer).select_related("user")
        patient = visible.filter(pk=patient_id).first()
    context = {"nav": "enrol", "patient": patient}
    return render(request, "console/enrol/already_sent.html", context, status=409)


@console_view
@never_cache
@require_http_methods(["GET", "POST"])
def enrol_patient(request: HttpRequest) -> HttpResponse:
    viewer = _viewer(request)
    if viewer.role not in services.ENROLLING_ROLES:
        return render(request, "console/enrol/not_allowed.html", {"nav": "enrol"}, status=403)
    if request.method != "POST":
        form = PatientEnrolForm(initial={"submission": new_submission_token()})
        return render(request, "console/enrol/enrol.html", {"nav": "enrol", "form": form})

    def enrol(form: OnceForm) -> Act:
        def act() -> tuple[PatientProfile, HttpResponse]:
            created = services.patient_create(by=viewer, **form.service_arguments())
            patient = selectors.patient_get(viewer=viewer, patient_id=created.patient.pk)
            _record(request, Action.CREATE, Resource.PATIENT, [patient])
            heading = f"{patient.user.display_name} is enrolled"
            page = _code_page(
                request,
                patient=patient,
                person=patient.user,
                issued=created.activation,
                heading=heading,
            )
            return patient, page

        return act

    form = PatientEnrolForm(request.POST)
    answered = _submit_once(request, form, enrol)
    if answered is not None:
        return answered
    context = {"nav": "enrol", "form": form}
    return render(request, "console/enrol/enrol.html", context, status=form.status)


@console_view
@never_cache
@require_http_methods(["GET", "POST"])
def caregiver_invite(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Link a parent or guardian to a patient of the viewer's care teams (404 otherwise)."""
    viewer = _viewer(request)
    patient = selectors.patient_get(viewer=viewer, patient_id=patient_id)
    if request.method != "POST":
        form = CaregiverInviteForm(initial={"submission": new_submission_token()})
        context = {"nav": "enrol", "patient": patient, "form": form}
        return render(request, "console/enrol/caregiver.html", context)

    def invite(form: OnceForm) -> Act:
        def act() -> tuple[PatientProfile, HttpResponse]:
            invited = services.caregiver_invite(
                patient=patient, by=viewer, **form.service_arguments()
            )
            _record(request, Action.CREATE, Resource.CAREGIVER_LINK, [invited.link])
            caregiver = invited.link.caregiver
            heading = f"{caregiver.display_name} is linked to {patient.user.display_name}"
            page = _code_page(
                request,
                patient=patient,
                person=caregiver,
                issued=invited.activation,
                heading=heading,
            )
            return patient, page

        return act

    form = CaregiverInviteForm(request.POST)
    answered = _submit_once(request, form, invite)
    if answered is not None:
        return answered
    context = {"nav": "enrol", "patient": patient, "form": form}
    return render(request, "console/enrol/caregiver.html", context, status=form.status)


@console_view
@never_cache
@require_http_methods(["GET", "POST"])
def activation_code_reissue(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A new code for a patient who has not activated the app yet; the earlier one stops
    working (a code is never shown twice)."""
    viewer = _viewer(request)
    patient = selectors.patient_get(viewer=viewer, patient_id=patient_id)
    if request.method != "POST":
        form = CodeReissueForm(initial={"submission": new_submission_token()})
        context = {"nav": "enrol", "patient": patient, "form": form}
        return render(request, "console/enrol/reissue.html", context)

    def reissue(form: OnceForm) -> Act:
        def act() -> tuple[PatientProfile, HttpResponse]:
            issued = services.activation_code_issue(user=patient.user, by=viewer)
            _record(
                request,
                Action.CREATE,
                Resource.ACTIVATION_CODE,
                [patient.user],
                patient_of=lambda _: patient.pk,
            )
            heading = f"New activation code for {patient.user.display_name}"
            page = _code_page(
                request, patient=patient, person=patient.user, issued=issued, heading=heading
            )
            return patient, page

        return act

    form = CodeReissueForm(request.POST)
    answered = _submit_once(request, form, reissue)
    if answered is not None:
        return answered
    context = {"nav": "enrol", "patient": patient, "form": form}
    return render(request, "console/enrol/reissue.html", context, status=form.status)
