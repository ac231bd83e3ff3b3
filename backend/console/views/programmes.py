"""Programme templates and progression proposals in the console."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from backend.accounts.selectors import patients_visible_to
from backend.audit.models import Action, Resource
from backend.console.access import console_view
from backend.console.views.programmes_common import (
    audit,
    prescribe_from_template,
    viewer_of,
    visible_patient,
)
from backend.console.views.programmes_forms import PrescribeFromTemplateForm, TemplateEditForm
from backend.console.views.programmes_words import dose_in_words, weekdays_in_words
from backend.core.errors import DomainError
from backend.exercise import selectors
from backend.exercise.models import ProgrammeTemplate, ProgressionProposal, ProposalStatus
from backend.exercise.services import progression, templates

PROPOSALS_PAGE = 50  # open proposals shown at once, oldest first


# --- Templates ------------------------------------------------------------------------------


@console_view
def template_list(request: HttpRequest) -> HttpResponse:
    viewer = viewer_of(request)
    rows = [
        {
            "template": template,
            "exercises": len(template.content.get("items", [])),
            "weekdays": weekdays_in_words(template.content.get("training_weekdays", [])),
        }
        for template in selectors.templates_visible_to(viewer)
    ]
    return render(
        request,
        "console/programmes/templates.html",
        {"nav": "templates", "rows": rows, "may_write": templates.template_may_write(viewer)},
    )


def _template(request: HttpRequest, template_id: int) -> ProgrammeTemplate:
    return get_object_or_404(selectors.templates_visible_to(viewer_of(request)), pk=template_id)


def _patient_choices(request: HttpRequest) -> list[tuple[int, str]]:
    patients = (
        patients_visible_to(viewer_of(request))
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "pk")
    )
    return [(patient.pk, patient.user.display_name) for patient in patients]


def _template_page(
    request: HttpRequest,
    template: ProgrammeTemplate,
    *,
    edit_form: TemplateEditForm | None = None,
    prescribe_form: PrescribeFromTemplateForm | None = None,
    status: int = 200,
) -> HttpResponse:
    viewer = viewer_of(request)
    stored = template.content.get("items", [])
    exercises = selectors.exercises_visible_to(viewer).in_bulk(
        [item["exercise"] for item in stored]
    )
    items = [
        {"exercise": exercises.get(item["exercise"]), "dose": dose_in_words(item)}
        for item in stored
    ]
    may_write = templates.template_may_write(viewer)
    context: dict[str, Any] = {
        "nav": "templates",
        "template": template,
        "items": items,
        "weekdays": weekdays_in_words(template.content.get("training_weekdays", [])),
        "may_write": may_write,
        "edit_form": edit_form
        or TemplateEditForm(initial={"name": template.name, "description": template.description}),
        "prescribe_form": prescribe_form
        or PrescribeFromTemplateForm(
            patients=_patient_choices(request) if may_write else [],
            initial={"start_date": timezone.localdate()},
        ),
    }
    return render(request, "console/programmes/template_detail.html", context, status=status)


@console_view
def template_detail(request: HttpRequest, template_id: int) -> HttpResponse:
    """Read (clinicians of the organisation); rename and describe (physiotherapists)."""
    template = _template(request, template_id)
    if request.method != "POST":
        return _template_page(request, template)
    form = TemplateEditForm(request.POST)
    if form.is_valid():
        try:
            templates.template_update(
                template=template, by=viewer_of(request), changes=form.cleaned_data
            )
        except DomainError as error:
            for field, problems in (error.errors or {"__all__": [error.detail]}).items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            messages.success(request, "Template saved.")
            return redirect("console:template", template_id=template.pk)
    template.refresh_from_db()
    return _template_page(request, template, edit_form=form, status=400)


@console_view
@require_POST
def template_archive(request: HttpRequest, template_id: int) -> HttpResponse:
    template = _template(request, template_id)
    try:
        templates.template_archive(template=template, by=viewer_of(request))
    except DomainError as error:
        messages.error(request, error.detail)
        return redirect("console:template", template_id=template.pk)
    messages.success(request, f"Template “{template.name}” archived.")
    return redirect("console:templates")


@console_view
@require_POST
def template_prescribe(request: HttpRequest, template_id: int) -> HttpResponse:
    """Prescribe the template to a patient, then open the builder to adjust it."""
    viewer = viewer_of(request)
    template = _template(request, template_id)
    form = PrescribeFromTemplateForm(request.POST, patients=_patient_choices(request))
    if form.is_valid():
        options = dict(form.cleaned_data)
        patient = visible_patient(viewer, options.pop("patient"))
        try:
            prescribe_from_template(request, template=template, patient=patient, options=options)
        except DomainError as error:
            form.add_error(None, error.detail)
        else:
            return redirect("console:programme_builder", patient_id=patient.pk)
    return _template_page(request, template, prescribe_form=form, status=400)


# --- Progression proposals ------------------------------------------------------------------


def _evidence(
    proposal: ProgressionProposal, results: dict[tuple[int, int], Any]
) -> list[dict[str, Any]]:
    """The two qualifying sessions: when, effort and pain, and the item done vs prescribed."""
    item = proposal.item
    zone = ZoneInfo(proposal.programme.patient.timezone)
    sessions = []
    for session in proposal.evidence.get("sessions", []):
        result = results.get((session["session_id"], proposal.item_id))
        sessions.append(
            {
                # In the patient's own time zone: "Monday evening" is the patient's evening.
                "started_at": timezone.localtime(
                    datetime.fromisoformat(session["started_at"]), zone
                ),
                "completion": session.get("completion"),
                "effort": session.get("effort"),
                "effort_scale": session.get("effort_scale"),
                "pain_before": session.get("pain_before"),
                "pain_after": session.get("pain_after"),
                "done": _done_in_words(result),
                "prescribed": dose_in_words(item),
            }
        )
    return sessions


def _done_in_words(result: Any) -> str:
    if result is None:
        return "not recorded"
    if result.skipped:
        return "skipped"
    return (
        dose_in_words(
            {
                "sets": result.sets_done,
                "reps": result.reps_done,
                "load_unit": result.load_unit,
                "load_value": result.load_value,
                "duration_minutes": result.duration_minutes_done,
            }
        )
        or "done"
    )


def _proposal_rows(request: HttpRequest, proposals: list[ProgressionProposal]) -> list[Any]:
    results = selectors.proposal_evidence_results(viewer_of(request), proposals)
    return [{"proposal": p, "sessions": _evidence(p, results)} for p in proposals]


@console_view
def proposal_list(request: HttpRequest) -> HttpResponse:
    viewer = viewer_of(request)
    proposals = list(
        selectors.proposals_visible_to(viewer)
        .filter(status=ProposalStatus.OPEN)
        .select_related("programme__patient__user")
        .order_by("created_at", "id")[:PROPOSALS_PAGE]
    )
    audit(
        request,
        Action.READ,
        Resource.PROPOSAL,
        proposals,
        patient_of=lambda p: p.programme.patient_id,
    )
    return render(
        request,
        "console/programmes/proposals.html",
        {"nav": "patients", "rows": _proposal_rows(request, proposals)},
    )


def _decide(request: HttpRequest, proposal_id: int, decision: str) -> HttpResponse:
    viewer = viewer_of(request)
    proposal = get_object_or_404(
        selectors.proposals_visible_to(viewer).select_related("programme__patient__user"),
        pk=proposal_id,
    )
    decide = progression.proposal_accept if decision == "accept" else progression.proposal_dismiss
    error = ""
    try:
        decided = decide(proposal=proposal, by=viewer)
    except DomainError as refused:
        error = refused.detail
    else:
        audit(
            request,
            Action(decision),
            Resource.PROPOSAL,
            [decided],
            patient_of=lambda p: p.programme.patient_id,
        )
        proposal.status = decided.status
        proposal.resulting_version = decided.resulting_version
    if request.headers.get("HX-Request"):
        # htmx swaps the proposal's card for its outcome.
        row = {"proposal": proposal, "sessions": [], "error": error, "decided": not error}
        return render(request, "console/programmes/_proposal.html", {"row": row})
    if error:
        messages.error(request, error)
    elif proposal.status == ProposalStatus.ACCEPTED and proposal.resulting_version:
        messages.success(request, f"Accepted: version {proposal.resulting_version.number}.")
    else:
        messages.success(request, "Dismissed.")
    return redirect("console:proposals")


@console_view
@require_POST
def proposal_accept(request: HttpRequest, proposal_id: int) -> HttpResponse:
    return _decide(request, proposal_id, "accept")


@console_view
@require_POST
def proposal_dismiss(request: HttpRequest, proposal_id: int) -> HttpResponse:
    return _decide(request, proposal_id, "dismiss")
