"""The alert engine's periodic tasks, in django-celery-beat's tables (editable in the admin).
Schedules are in UTC; each task converts per patient."""

from django.db import migrations

EVERY = [
    ("Send due reminders", "alerts.run_reminders", 5),
    ("Escalate unacknowledged alerts", "alerts.escalate_alerts", 5),
    ("Deliver notifications whose task never ran", "alerts.sweep_deliveries", 1),
    ("Evaluate ended local weeks (adherence and decline)", "alerts.evaluate_adherence", 60),
]
DAILY = [("Find overdue eGFR results", "alerts.kidney_overdue", "6", "0")]


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, minutes in EVERY:
        interval, _ = IntervalSchedule.objects.get_or_create(every=minutes, period="minutes")
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "interval": interval})
    for name, task, hour, minute in DAILY:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_week="*", day_of_month="*", month_of_year="*",
            timezone="UTC",
        )
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "crontab": crontab})


def remove(apps, schema_editor):
    tasks = [task for _, task, _ in EVERY] + [task for _, task, _, _ in DAILY]
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task__in=tasks).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0002_alerts_reminders_adherence"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
