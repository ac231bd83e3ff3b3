"""The programme builder for one patient: prescribe or revise from the library, pause, resume,
complete, save as a template; and the printable programme.

Progressive enhancement: the builder is one plain form. "Add" beside a library exercise and
"Search the library" post the form back and re-render it with what was typed (nothing is
saved); "Save" hands the content to programme_create / programme_revise, whose refusals are
shown next to the fields they name.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from backend.accounts.models import PatientProfile, User
from backend.audit.models import Action, Resource
from backend.console.access import console_view
from backend.console.views.programmes_common import (
    audit,
    prescribe_from_template,
    viewer_of,
    visible_patient,
)
from backend.console.views.programmes_forms import (
    FromTemplateForm,
    ItemForm,
    LibraryFilter,
    PauseForm,
    ProgrammeForm,
    SaveAsTemplateForm,
    echoed,
    put_errors,
)
from backend.console.views.programmes_words import dose_in_words, weekdays_in_words
from backend.core.errors import DomainError
from backend.exercise import selectors
from backend.exercise.models import (
    Exercise,
    Programme,
    ProgrammeVersion,
    ProposalStatus,
)
from backend.exercise.services import programmes, templates
from backend.exercise.services.programmes import RECOMMENDED_MAX_EXERCISES, version_content

LIBRARY_PAGE = 40  # exercises listed under the search; the shipped library has about 30


def _library(viewer: User, search: LibraryFilter) -> QuerySet[Exercise]:
    exercises = selectors.exercises_visible_to(viewer)
    if search.is_valid():
        if search.cleaned_data["q"]:
            exercises = exercises.filter(name__icontains=search.cleaned_data["q"])
        if search.cleaned_data["category"]:
            exercises = exercises.filter(category=search.cleaned_data["category"])
        if search.cleaned_data["region"]:
            exercises = exercises.filter(body_regions__has=search.cleaned_data["region"])
    return exercises


def _rows_from(data: QueryDict) -> int:
    try:
        return max(0, min(int(data.get("rows", "0")), 30))
    except ValueError:
        return 0


def _posted_item_forms(data: QueryDict, exercises: list[Exercise]) -> list[ItemForm]:
    return [
        ItemForm(data, prefix=f"item-{index}", exercises=exercises)
        for index in range(_rows_from(data))
    ]


def _echoed_item_forms(data: QueryDict, exercises: list[Exercise]) -> list[ItemForm]:
    """The rows as typed, unjudged; rows marked for removal are gone."""
    forms = []
    for index in range(_rows_from(data)):
        typed = echoed(ItemForm(prefix=f"item-{index}", exercises=exercises), data)
        if not typed.get("remove"):
            forms.append(typed)
    return [
        ItemForm(prefix=f"item-{index}", exercises=exercises, initial=typed)
        for index, typed in enumerate(forms)
    ]


def _initial_content(patient: PatientProfile, version: ProgrammeVersion | None) -> dict[str, Any]:
    if version is None:
        return {
            "title": "",
            "start_date": timezone.localdate(),
            "sessions_per_week_min": 2,
            "sessions_per_week_max": 3,
            "training_weekdays": patient.training_weekdays,
            "activate": True,
            "items": [],
        }
    return version_content(version)


def _item_forms_from(items: list[dict[str, Any]], exercises: list[Exercise]) -> list[ItemForm]:
    return [
        ItemForm(prefix=f"item-{index}", exercises=exercises, initial=item)
        for index, item in enumerate(items)
    ]


def _with_added(
    forms: list[ItemForm], exercise_id: str, exercises: list[Exercise]
) -> list[ItemForm]:
    chosen = next((e for e in exercises if str(e.pk) == exercise_id), None)
    if chosen is None:
        return forms
    initial = {"exercise": chosen.pk, **(chosen.default_dose or {})}
    return [
        *forms,
        ItemForm(prefix=f"item-{len(forms)}", exercises=exercises, initial=initial),
    ]


def _builder_context(
    request: HttpRequest,
    patient: PatientProfile,
    programme: Programme | None,
    *,
    programme_form: ProgrammeForm,
    item_forms: list[ItemForm],
    search: LibraryFilter,
    exercises: list[Exercise],
    template_form: SaveAsTemplateForm | None = None,
) -> dict[str, Any]:
    viewer = viewer_of(request)
    by_id = {exercise.pk: exercise for exercise in exercises}
    rows: list[dict[str, Any]] = []
    chosen_ids: set[int] = set()
    for form in item_forms:
        chosen = (
            form.initial.get("exercise")
            if not form.is_bound
            else form.data.get(form.add_prefix("exercise"))
        )
        try:
            exercise = by_id.get(int(chosen)) if chosen not in (None, "") else None
        except (TypeError, ValueError):
            exercise = None
        rows.append({"form": form, "exercise": exercise})
        if exercise is not None:
            chosen_ids.add(exercise.pk)
    distinct = len(chosen_ids)
    open_proposals = (
        selectors.proposals_visible_to(viewer)
        .filter(programme=programme, status=ProposalStatus.OPEN)
        .count()
        if programme is not None
        else 0
    )
    matching = _library(viewer, search)
    return {
        "nav": "patients",
        "patient": patient,
        "programme": programme,
        "version": programme.current_version if programme else None,
        "form": programme_form,
        "rows": rows,
        "row_count": len(rows),
        "too_many": distinct > RECOMMENDED_MAX_EXERCISES,
        "distinct": distinct,
        "recommended_max": RECOMMENDED_MAX_EXERCISES,
        "search": search,
        "library": matching[:LIBRARY_PAGE],
        "pause_form": PauseForm(prefix="pause"),
        "template_form": template_form or SaveAsTemplateForm(),
        "from_template_form": FromTemplateForm(
            templates=_template_choices(viewer) if programme is None else [],
            initial={"start_date": timezone.localdate()},
        ),
        "open_proposals": open_proposals,
        "today": timezone.localdate(),
        "revising": programme is not None and programme.ever_active,
    }


def _template_choices(viewer: User) -> list[tuple[int, str]]:
    return list(selectors.templates_visible_to(viewer).values_list("id", "name"))


@console_view
def programme_builder(request: HttpRequest, patient_id: int) -> HttpResponse:
    viewer = viewer_of(request)
    patient = visible_patient(viewer, patient_id)
    programme = selectors.programme_in_hand(viewer=viewer, patient_id=patient.pk)
    exercises = list(selectors.exercises_visible_to(viewer))
    if request.method == "POST":
        return _builder_post(request, patient, programme, exercises)
    content = _initial_content(patient, programme.current_version if programme else None)
    context = _builder_context(
        request,
        patient,
        programme,
        programme_form=ProgrammeForm(initial=content),
        item_forms=_item_forms_from(content["items"], exercises),
        search=LibraryFilter(request.GET),
        exercises=exercises,
    )
    if programme is not None:
        audit(request, Action.READ, Resource.PROGRAMME, [programme])
    return render(request, "console/programmes/builder.html", context)


def _builder_post(
    request: HttpRequest,
    patient: PatientProfile,
    programme: Programme | None,
    exercises: list[Exercise],
) -> HttpResponse:
    data = request.POST
    search = LibraryFilter(data)
    if data.get("action") != "save":
        # "Add" or "Search": the same form again, one row more if an exercise was added.
        item_forms = _echoed_item_forms(data, exercises)
        if data.get("add_exercise"):
            item_forms = _with_added(item_forms, data["add_exercise"], exercises)
        context = _builder_context(
            request,
            patient,
            programme,
            programme_form=ProgrammeForm(initial=echoed(ProgrammeForm(), data)),
            item_forms=item_forms,
            search=search,
            exercises=exercises,
        )
        return render(request, "console/programmes/builder.html", context)
    programme_form = ProgrammeForm(data)
    all_rows = _posted_item_forms(data, exercises)
    typed = [form for form in all_rows if form.is_valid() and not form.cleaned_data["remove"]]
    saved_rows = [form for form in typed if not form.is_blank()]
    parsed = programme_form.is_valid() and all(form.is_valid() for form in all_rows)
    if parsed:
        content = {**programme_form.content(), "items": [f.item() for f in saved_rows]}
        try:
            return _save(request, patient, programme, programme_form, content)
        except (DomainError, ValidationError) as error:
            put_errors(error, programme_form, saved_rows)
    shown = [form for form in all_rows if not (form.is_valid() and form.cleaned_data["remove"])]
    context = _builder_context(
        request,
        patient,
        programme,
        programme_form=programme_form,
        item_forms=shown,
        search=search,
        exercises=exercises,
    )
    return render(request, "console/programmes/builder.html", context, status=400)


def _save(
    request: HttpRequest,
    patient: PatientProfile,
    programme: Programme | None,
    programme_form: ProgrammeForm,
    content: dict[str, Any],
) -> HttpResponse:
    viewer = viewer_of(request)
    with transaction.atomic():  # the write and its audit event commit together
        if programme is None:
            prescribed = programmes.programme_create(
                by=viewer,
                patient=patient,
                content=content,
                activate=programme_form.cleaned_data["activate"],
            )
            audit(request, Action.CREATE, Resource.PROGRAMME, [prescribed.programme])
        else:
            prescribed = programmes.programme_revise(
                programme=programme,
                by=viewer,
                content=content,
                reason=programme_form.cleaned_data["reason"],
            )
            audit(request, Action.UPDATE, Resource.PROGRAMME, [prescribed.programme])
    version = prescribed.programme.current_version
    assert version is not None  # noqa: S101  # every programme has a version
    messages.success(request, f"Programme saved: version {version.number}.")
    for warning in prescribed.warnings:
        messages.warning(request, warning)
    return redirect("console:programme_builder", patient_id=patient.pk)


@console_view
@require_POST
def programme_status(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Pause (any clinician of the team), resume or start, complete (the physiotherapist):
    who may is the services' rule."""
    viewer = viewer_of(request)
    patient = visible_patient(viewer, patient_id)
    programme = selectors.programme_in_hand(viewer=viewer, patient_id=patient.pk)
    if programme is None:
        raise Http404("No programme to change.")
    action = request.POST.get("action")
    try:
        if action == "pause":
            form = PauseForm(request.POST, prefix="pause")
            if not form.is_valid():
                messages.error(request, "Say why the programme is paused.")
                return redirect("console:programme_builder", patient_id=patient.pk)
            programmes.programme_pause(programme=programme, by=viewer, **form.cleaned_data)
            done, audited = "Programme paused.", Action.PAUSE
        elif action == "resume":
            programmes.programme_activate(programme=programme, by=viewer)
            done, audited = "Programme active.", Action.ACTIVATE
        elif action == "complete":
            programmes.programme_complete(programme=programme, by=viewer)
            done, audited = "Programme completed.", Action.COMPLETE
        else:
            messages.error(request, "Unknown action.")
            return redirect("console:programme_builder", patient_id=patient.pk)
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        audit(request, audited, Resource.PROGRAMME, [programme])
        messages.success(request, done)
    return redirect("console:programme_builder", patient_id=patient.pk)


@console_view
@require_POST
def programme_from_template(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Prescribe one of the organisation's templates to this patient (programme_create with
    the template's content), then adjust it here."""
    viewer = viewer_of(request)
    patient = visible_patient(viewer, patient_id)
    form = FromTemplateForm(request.POST, templates=_template_choices(viewer))
    if not form.is_valid():
        messages.error(request, "Choose a template and a start date.")
        return redirect("console:programme_builder", patient_id=patient.pk)
    options = dict(form.cleaned_data)
    template = selectors.templates_visible_to(viewer).get(pk=options.pop("template"))
    try:
        prescribe_from_template(request, template=template, patient=patient, options=options)
    except DomainError as error:
        messages.error(request, error.detail)
    return redirect("console:programme_builder", patient_id=patient.pk)


@console_view
@require_POST
def programme_save_as_template(request: HttpRequest, patient_id: int) -> HttpResponse:
    viewer = viewer_of(request)
    patient = visible_patient(viewer, patient_id)
    programme = selectors.programme_in_hand(viewer=viewer, patient_id=patient.pk)
    if programme is None:
        raise Http404("No programme to save.")
    form = SaveAsTemplateForm(request.POST)
    if form.is_valid():
        try:
            template = templates.template_create(
                by=viewer, programme=programme, **form.cleaned_data
            )
        except DomainError as error:
            for field, problems in (error.errors or {"__all__": [error.detail]}).items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            audit(request, Action.READ, Resource.PROGRAMME, [programme])
            messages.success(request, f"Saved as the template “{template.name}”.")
            return redirect("console:template", template_id=template.pk)
    exercises = list(selectors.exercises_visible_to(viewer))
    content = version_content(programme.current_version) if programme.current_version else {}
    context = _builder_context(
        request,
        patient,
        programme,
        programme_form=ProgrammeForm(initial=content),
        item_forms=_item_forms_from(content.get("items", []), exercises),
        search=LibraryFilter(),
        exercises=exercises,
        template_form=form,
    )
    return render(request, "console/programmes/builder.html", context, status=400)


@console_view
def programme_print(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The programme in force on one page, for families without the app."""
    viewer = viewer_of(request)
    patient = visible_patient(viewer, patient_id)
    programme = selectors.programme_current(viewer=viewer, patient_id=patient.pk)
    selectors.programme_items_load(programme)
    version = programme.current_version
    assert version is not None  # noqa: S101  # every programme has a version
    items = [{"item": item, "dose": dose_in_words(item)} for item in version.items.all()]
    audit(request, Action.READ, Resource.PROGRAMME, [programme])
    return render(
        request,
        "console/programmes/print.html",
        {
            "patient": patient,
            "programme": programme,
            "version": version,
            "items": items,
            "weekdays": weekdays_in_words(version.training_weekdays),
            "builder_url": reverse("console:programme_builder", args=[patient.pk]),
        },
    )
