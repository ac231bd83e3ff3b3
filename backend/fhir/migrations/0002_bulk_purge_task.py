"""Schedules the bulk exports' purge (backend.fhir.bulk.services.exports_purge) in
django-celery-beat's tables (editable in the admin)."""

from django.db import migrations

NAME = "Purge expired FHIR bulk exports, fail dead runs, re-drive lost ones"
TASK = "fhir.bulk_purge_expired"


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    interval, _ = IntervalSchedule.objects.get_or_create(every=15, period="minutes")
    PeriodicTask.objects.get_or_create(name=NAME, defaults={"task": TASK, "interval": interval})


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("fhir", "0001_bulk_export_jobs"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
