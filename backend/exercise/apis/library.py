from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.apis import current_user
from backend.audit.models import Action, Resource
from backend.audit.services import record_access
from backend.core.idempotency import idempotent
from backend.core.serializers import ErrorSerializer
from backend.exercise import selectors
from backend.exercise.codes import BodyRegion, Category, Equipment, MuscleGroup
from backend.exercise.models import Exercise
from backend.exercise.serializers import ExerciseInput, ExerciseOutput
from backend.exercise.services import library


class ExerciseFilter(filters.FilterSet):
    category = filters.ChoiceFilter(choices=Category.choices)
    region = filters.ChoiceFilter(
        choices=BodyRegion.choices, field_name="body_regions", lookup_expr="has"
    )
    muscle_group = filters.ChoiceFilter(
        choices=MuscleGroup.choices, field_name="muscle_groups", lookup_expr="has"
    )
    equipment = filters.ChoiceFilter(choices=Equipment.choices, lookup_expr="has")
    q = filters.CharFilter(method="search", label="Text in name or instructions")

    class Meta:
        model = Exercise
        fields = ["category", "region", "muscle_group", "equipment", "q"]

    def search(self, queryset: Any, name: str, value: str) -> Any:
        return queryset.filter(Q(name__icontains=value) | Q(instructions__icontains=value))


@extend_schema(tags=["exercises"])
class ExerciseListCreateApi(generics.ListAPIView):
    """The exercise library: shipped exercises and your organisation's (patients: only the
    exercises of their own programmes)."""

    serializer_class = ExerciseOutput
    filterset_class = ExerciseFilter

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Exercise.objects.none()
        return selectors.exercises_visible_to(current_user(self.request))

    @extend_schema(
        request=ExerciseInput,
        responses={201: ExerciseOutput, 403: ErrorSerializer, 409: ErrorSerializer},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        """Add an exercise to your organisation's library (clinicians)."""
        data = ExerciseInput(data=request.data)
        data.is_valid(raise_exception=True)
        exercise = library.exercise_create(by=current_user(request), data=data.validated_data)
        record_access(request, Action.CREATE, Resource.EXERCISE, [exercise])
        return Response(ExerciseOutput(exercise).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["exercises"])
class ExerciseDetailApi(APIView):
    @extend_schema(responses={200: ExerciseOutput})
    def get(self, request: Request, exercise_id: int) -> Response:
        exercise = generics.get_object_or_404(
            selectors.exercises_visible_to(current_user(request)), pk=exercise_id
        )
        return Response(ExerciseOutput(exercise).data)

    @extend_schema(
        request=ExerciseInput,
        responses={200: ExerciseOutput, 403: ErrorSerializer, 409: ErrorSerializer},
    )
    @transaction.atomic  # the write and its audit event commit together
    def patch(self, request: Request, exercise_id: int) -> Response:
        """Edit one of your organisation's exercises."""
        viewer = current_user(request)
        exercise = generics.get_object_or_404(
            selectors.exercises_visible_to(viewer), pk=exercise_id
        )
        data = ExerciseInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        exercise = library.exercise_update(
            exercise=exercise, by=viewer, changes=data.validated_data
        )
        record_access(request, Action.UPDATE, Resource.EXERCISE, [exercise])
        return Response(ExerciseOutput(exercise).data)
