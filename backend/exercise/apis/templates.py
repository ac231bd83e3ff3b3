"""Programme templates: the organisation's clinicians read them, its physiotherapists write
them and prescribe from them (who may prescribe is the programme services' rule)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.apis import current_user
from backend.accounts.serializers import PersonOutput, StrictSerializer, WeekdaysField
from backend.audit.models import Action, Resource
from backend.audit.services import record_access
from backend.core.idempotency import idempotent
from backend.core.serializers import ErrorSerializer, IdField
from backend.core.validators import plausible_date
from backend.exercise import selectors
from backend.exercise.apis.common import patient_for_write
from backend.exercise.models import ProgrammeTemplate
from backend.exercise.serializers import DoseFields, PrescribedOutput, ProgrammeItemInput
from backend.exercise.services import templates
from backend.exercise.services.programmes import DOSE_FIELDS

REFUSALS = {403: ErrorSerializer, 409: ErrorSerializer}


# --- Shapes ---------------------------------------------------------------------------------


TEXT_DOSE_FIELDS = {"load_unit", "band_colour", "intensity_scale", "notes"}
UNSET_DOSE = {name: "" if name in TEXT_DOSE_FIELDS else None for name in DOSE_FIELDS}


class TemplateItemOutput(DoseFields):
    """One item: the exercise and every dose field (null, or blank for text, when unset)."""

    exercise = serializers.IntegerField(help_text="An exercise of the library.")
    notes = serializers.CharField()

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for field in fields.values():
            field.required = True  # always in the answer (DoseFields' are optional as input)
        return fields

    def to_representation(self, instance: Any) -> Any:
        return super().to_representation({**UNSET_DOSE, **instance})


class TemplateContentOutput(serializers.Serializer):
    goals = serializers.CharField()
    sessions_per_week_min = serializers.IntegerField()
    sessions_per_week_max = serializers.IntegerField()
    training_weekdays = serializers.ListField(child=serializers.IntegerField())
    items = TemplateItemOutput(many=True)


class TemplateOutput(serializers.ModelSerializer):
    content = TemplateContentOutput()
    created_by = PersonOutput(allow_null=True)

    class Meta:
        model = ProgrammeTemplate
        fields = ["id", "name", "description", "content", "created_by", "created_at", "updated_at"]


class TemplateContentInput(StrictSerializer):
    """A programme's content without its title and dates (those are each prescription's)."""

    goals = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    sessions_per_week_min = serializers.IntegerField(min_value=1, max_value=7, default=2)
    sessions_per_week_max = serializers.IntegerField(min_value=1, max_value=7, default=3)
    training_weekdays = WeekdaysField(required=False)
    items = ProgrammeItemInput(many=True, min_length=1, max_length=30)  # type: ignore[call-arg]  # ListSerializer kwargs


class TemplateInput(StrictSerializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    content = TemplateContentInput()


class TemplatePatchInput(StrictSerializer):
    """Each part optional; content, when sent, is whole (it replaces the template's)."""

    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    content = TemplateContentInput(required=False)


class SaveAsTemplateInput(StrictSerializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class PrescribeFromTemplateInput(StrictSerializer):
    patient = IdField()
    title = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="Default: the template's name."
    )
    start_date = serializers.DateField(
        required=False, validators=[plausible_date], help_text="Default: today."
    )
    activate = serializers.BooleanField(default=False, help_text="Start it at once.")


def _content(validated: dict[str, Any]) -> dict[str, Any]:
    return {**validated, "items": [dict(item) for item in validated["items"]]}


def _template_changes(validated: dict[str, Any]) -> dict[str, Any]:
    changes = dict(validated)
    if "content" in changes:
        changes["content"] = _content(changes["content"])
    return changes


# --- Endpoints ------------------------------------------------------------------------------


@extend_schema(tags=["programme templates"])
class TemplateListCreateApi(generics.ListAPIView):
    """Your organisation's programme templates (clinicians; others get an empty list)."""

    serializer_class = TemplateOutput

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return ProgrammeTemplate.objects.none()
        return selectors.templates_visible_to(current_user(self.request))

    @extend_schema(request=TemplateInput, responses={201: TemplateOutput, **REFUSALS})
    @idempotent
    def post(self, request: Request) -> Response:
        """Save a template from a body (physiotherapists)."""
        data = TemplateInput(data=request.data)
        data.is_valid(raise_exception=True)
        template = templates.template_create(
            by=current_user(request), **_template_changes(data.validated_data)
        )
        return Response(TemplateOutput(template).data, status=status.HTTP_201_CREATED)


def _visible(request: Request, template_id: int) -> ProgrammeTemplate:
    return generics.get_object_or_404(
        selectors.templates_visible_to(current_user(request)), pk=template_id
    )


@extend_schema(tags=["programme templates"])
class TemplateDetailApi(APIView):
    @extend_schema(responses={200: TemplateOutput})
    def get(self, request: Request, template_id: int) -> Response:
        return Response(TemplateOutput(_visible(request, template_id)).data)

    @extend_schema(request=TemplatePatchInput, responses={200: TemplateOutput, **REFUSALS})
    def patch(self, request: Request, template_id: int) -> Response:
        """Rename, describe, or replace the content as a whole (physiotherapists)."""
        template = _visible(request, template_id)
        # Not `partial=True`: that would make the content's own fields optional too.
        data = TemplatePatchInput(data=request.data)
        data.is_valid(raise_exception=True)
        template = templates.template_update(
            template=template,
            by=current_user(request),
            changes=_template_changes(data.validated_data),
        )
        return Response(TemplateOutput(template).data)

    @extend_schema(responses={204: None, 403: ErrorSerializer})
    def delete(self, request: Request, template_id: int) -> Response:
        """Archive: it leaves the list; programmes prescribed from it keep their content."""
        templates.template_archive(
            template=_visible(request, template_id), by=current_user(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["programme templates"])
class TemplatePrescribeApi(APIView):
    @extend_schema(
        request=PrescribeFromTemplateInput, responses={201: PrescribedOutput, **REFUSALS}
    )
    @idempotent
    def post(self, request: Request, template_id: int) -> Response:
        """Prescribe the template to a patient (physiotherapists on the patient's care team):
        a programme as `POST /programmes/` makes, draft unless `activate`."""
        viewer = current_user(request)
        template = _visible(request, template_id)
        data = PrescribeFromTemplateInput(data=request.data)
        data.is_valid(raise_exception=True)
        options = dict(data.validated_data)
        patient = patient_for_write(viewer, options.pop("patient"))
        prescribed = templates.programme_create_from_template(
            template=template, by=viewer, patient=patient, **options
        )
        record_access(request, Action.CREATE, Resource.PROGRAMME, [prescribed.programme])
        programme = selectors.programme_get(viewer=viewer, programme_id=prescribed.programme.pk)
        body = {"programme": programme, "warnings": prescribed.warnings}
        return Response(PrescribedOutput(body).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["programme templates"])
class ProgrammeSaveAsTemplateApi(APIView):
    @extend_schema(request=SaveAsTemplateInput, responses={201: TemplateOutput, **REFUSALS})
    @idempotent
    @transaction.atomic  # the template and the read of the programme it copies, together
    def post(self, request: Request, programme_id: int) -> Response:
        """Save the programme's version in force as a template of your organisation."""
        viewer = current_user(request)
        programme = selectors.programme_get(viewer=viewer, programme_id=programme_id)
        data = SaveAsTemplateInput(data=request.data)
        data.is_valid(raise_exception=True)
        template = templates.template_create(by=viewer, programme=programme, **data.validated_data)
        record_access(request, Action.READ, Resource.PROGRAMME, [programme])
        return Response(TemplateOutput(template).data, status=status.HTTP_201_CREATED)
