"""Ships the starter exercise library (global exercises: no organisation)."""

from django.db import migrations


def load(apps, schema_editor):
    from backend.exercise.library_data import STARTER_EXERCISES

    Exercise = apps.get_model("exercise", "Exercise")
    for entry in STARTER_EXERCISES:
        fields = {key: value for key, value in entry.items() if key != "name"}
        Exercise.objects.update_or_create(
            organisation=None, name=entry["name"], defaults=fields
        )


def unload(apps, schema_editor):
    from backend.exercise.library_data import STARTER_EXERCISES

    Exercise = apps.get_model("exercise", "Exercise")
    names = [entry["name"] for entry in STARTER_EXERCISES]
    Exercise.objects.filter(organisation=None, name__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [("exercise", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
