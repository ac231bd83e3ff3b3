from django.apps import AppConfig


class ExerciseConfig(AppConfig):
    """Exercise library, programmes, session logs and assessments (issue [2/5])."""

    name = "backend.exercise"
    label = "exercise"
    verbose_name = "Exercise programmes"
