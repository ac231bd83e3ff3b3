# Indexes for the API's filters (tests/core/test_filter_indexes.py, docs/explain.md).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The foreign keys' own indexes, now that composites lead with their columns (alert_patient_*,
# notification_inbox). Only the index is dropped: AlterField to db_index=False would also drop
# and re-validate the foreign key over the whole table, and remove any other single-column
# B-tree on the column.
FK_INDEXES = [
    ("alerts_alert_patient_id_c81ddaf7", "alerts_alert", "patient_id"),
    ("alerts_notification_recipient_id_952d69ed", "alerts_notification", "recipient_id"),
]


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_periodic_tasks'),
        ('alerts', '0005_sweep_decline_checks_task'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='alert',
            index=models.Index(fields=['patient', 'urgency'], name='alert_patient_urgency'),
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "{table}" ("{column}")',
                )
                for name, table, column in FK_INDEXES
            ],
            state_operations=[
                migrations.AlterField(
                    model_name='alert',
                    name='patient',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='alerts', to='accounts.patientprofile'),
                ),
                migrations.AlterField(
                    model_name='notification',
                    name='recipient',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to=settings.AUTH_USER_MODEL),
                ),
            ],
        ),
    ]
