"""Organisation admin: the organisation's people (and deactivating an account) and each
patient's care team (adding and removing clinicians). Organisation admins only, as the
API's admin-only endpoints; every action goes through the accounts service the API and the
admin use, with the API's audit events."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from backend.accounts import selectors, services
from backend.accounts.models import CareTeamMembership, PatientProfile, Role, User
from backend.audit.models import Action, Resource
from backend.audit.services import record_access
from backend.console.access import console_view
from backend.console.views.organisation_forms import CareTeamAddForm
from backend.core.errors import DomainError

PEOPLE_PER_PAGE = 50
TEAMS_PER_PAGE = 25


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


def _org_admin_only(view: Any) -> Any:
    """Organisation admins only, like the API's admin endpoints (`GET audit/`): anyone else
    of the console gets a 403 page saying whose page this is."""

    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if _viewer(request).role != Role.ORG_ADMIN:
            return render(request, "console/organisation/not_allowed.html", status=403)
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return console_view(wrapped)


def _status(person: User) -> tuple[str, str]:
    if person.deactivated_at is not None:
        return "deactivated", f"Deactivated {person.deactivated_at:%d %b %Y}"
    if not person.is_active:
        return "pending", "Not activated yet"
    return "active", "Active"


@_org_admin_only
@require_http_methods(["GET"])
def organisation_home(request: HttpRequest) -> HttpResponse:
    """The people of the organisation with their role and state, and who may be deactivated."""
    viewer = _viewer(request)
    people = selectors.organisation_people(viewer)
    role = request.GET.get("role", "")
    if role in Role.values:
        people = people.filter(role=role)
    page = Paginator(people, PEOPLE_PER_PAGE).get_page(request.GET.get("page"))
    ids = [person.pk for person in page]
    deactivatable = set(
        selectors.users_deactivatable_by(viewer).filter(pk__in=ids).values_list("pk", flat=True)
    )
    rows = [
        {
            "person": person,
            "status": _status(person),
            "may_deactivate": person.pk in deactivatable and person.deactivated_at is None,
            "is_me": person.pk == viewer.pk,
        }
        for person in page
    ]
    context = {
        "nav": "organisation",
        "rows": rows,
        "page": page,
        "roles": Role.choices,
        "role": role,
    }
    return render(request, "console/organisation/people.html", context)


@_org_admin_only
@require_http_methods(["GET", "POST"])
def person_deactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    """A confirmation step, then the deactivation (the API's `users/{id}/deactivate/`)."""
    viewer = _viewer(request)
    person = get_object_or_404(selectors.users_deactivatable_by(viewer), pk=user_id)
    if request.method != "POST":
        context = {"nav": "organisation", "person": person, "status": _status(person)}
        return render(request, "console/organisation/deactivate.html", context)
    with transaction.atomic():  # the deactivation and its audit event commit together
        services.account_deactivate(user=person, by=viewer)
        profile = getattr(person, "patient_profile", None)
        _record(
            request,
            Action.DEACTIVATE,
            Resource.USER,
            [person],
            patient_of=lambda _: profile.pk if profile is not None else None,
        )
    messages.success(
        request,
        f"{person.display_name} is deactivated: they cannot sign in any more and every "
        "session they had has ended. Their records are kept.",
    )
    return redirect("console:organisation")


@_org_admin_only
@require_http_methods(["GET"])
def care_team_list(request: HttpRequest) -> HttpResponse:
    """Each patient of the organisation with their care team (who, not the record)."""
    viewer = _viewer(request)
    page = Paginator(selectors.care_teams_managed_by(viewer), TEAMS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    patients = list(page)
    seats = [seat for patient in patients for seat in patient.care_team.all()]
    _record(request, Action.READ, Resource.CARE_TEAM_MEMBERSHIP, seats)
    context = {"nav": "organisation", "patients": patients, "page": page}
    return render(request, "console/organisation/care_teams.html", context)


def _managed_patient(request: HttpRequest, patient_id: int) -> PatientProfile:
    """A patient of the admin's organisation; 404 for any other id (no existence leak)."""
    return get_object_or_404(selectors.care_teams_managed_by(_viewer(request)), pk=patient_id)


def _care_team_page(
    request: HttpRequest, patient: PatientProfile, form: CareTeamAddForm | None, status: int = 200
) -> HttpResponse:
    seats = list(patient.care_team.all())
    _record(request, Action.READ, Resource.CARE_TEAM_MEMBERSHIP, seats)
    candidates = selectors.care_team_candidates(patient)
    context = {
        "nav": "organisation",
        "patient": patient,
        "seats": seats,
        "form": form or CareTeamAddForm(candidates=candidates),
    }
    return render(request, "console/organisation/care_team.html", context, status=status)


@_org_admin_only
@require_http_methods(["GET", "POST"])
def care_team_manage(request: HttpRequest, patient_id: int) -> HttpResponse:
    """One patient's care team: add a clinician (the API's `POST care-team/`)."""
    viewer = _viewer(request)
    patient = _managed_patient(request, patient_id)
    if request.method != "POST":
        return _care_team_page(request, patient, None)
    candidates = selectors.care_team_candidates(patient)
    form = CareTeamAddForm(request.POST, candidates=candidates)
    if not form.is_valid():
        return _care_team_page(request, patient, form, status=400)
    member = form.cleaned_data["member"]
    try:
        with transaction.atomic():
            seat = services.care_team_member_add(patient=patient, member_id=member.pk, by=viewer)
            _record(request, Action.CREATE, Resource.CARE_TEAM_MEMBERSHIP, [seat])
    except DomainError as error:
        form.add_error(None, error.detail)
        for field, problems in (error.errors or {}).items():
            if field == "member_id":
                form.add_error("member", problems)
        return _care_team_page(request, patient, form, status=error.status)
    messages.success(
        request, f"{member.display_name} joined {patient.user.display_name}'s care team."
    )
    return redirect("console:organisation-care-team", patient_id=patient.pk)


@_org_admin_only
@require_POST
def care_team_remove(request: HttpRequest, patient_id: int, membership_id: int) -> HttpResponse:
    """Take a clinician off the team (the API's `DELETE care-team/{id}/`): the seat ends with
    a date; the last physiotherapist stays."""
    viewer = _viewer(request)
    patient = _managed_patient(request, patient_id)
    seat = get_object_or_404(
        CareTeamMembership.objects.select_related("member", "patient__user"),
        pk=membership_id,
        patient=patient,
    )
    try:
        with transaction.atomic():  # recorded first, kept only if done (as the API)
            _record(request, Action.DELETE, Resource.CARE_TEAM_MEMBERSHIP, [seat])
            services.care_team_member_remove(membership=seat, by=viewer)
    except DomainError as error:
        messages.error(request, error.detail)
        patient = _managed_patient(request, patient_id)  # the team as it still is
        return _care_team_page(request, patient, None, status=error.status)
    messages.success(
        request, f"{seat.member.display_name} left {patient.user.display_name}'s care team."
    )
    return redirect("console:organisation-care-team", patient_id=patient.pk)
