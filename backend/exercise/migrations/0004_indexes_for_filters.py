# Indexes for the API's filters (tests/core/test_filter_indexes.py, docs/explain.md).

import django.db.models.deletion
from django.db import migrations, models

# The foreign keys' own patient_id / programme_id indexes: composites now lead with these
# columns. Only the index itself is dropped: an AlterField to db_index=False would also drop
# and re-validate the foreign key (a scan of the whole table under lock) and remove every
# other single-column B-tree on the column, partial unique ones included.
FK_INDEXES = [
    ("exercise_sessionlog_patient_id_47778d4a", "exercise_sessionlog", "patient_id"),
    ("exercise_sessionlog_programme_id_42927475", "exercise_sessionlog", "programme_id"),
    ("exercise_assessment_patient_id_82445f6e", "exercise_assessment", "patient_id"),
]


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_periodic_tasks'),
        ('exercise', '0003_assessment_value_wider'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='sessionlog',
            index=models.Index(fields=['patient', 'updated_at'], name='session_patient_updated'),
        ),
        migrations.RemoveIndex(
            model_name='sessionlog',
            name='session_updated',
        ),
        migrations.AddIndex(
            model_name='assessment',
            index=models.Index(fields=['patient', '-measured_at'], name='assessment_patient_time'),
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
                    model_name='assessment',
                    name='patient',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='assessments', to='accounts.patientprofile'),
                ),
                migrations.AlterField(
                    model_name='sessionlog',
                    name='patient',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='sessions', to='accounts.patientprofile'),
                ),
                migrations.AlterField(
                    model_name='sessionlog',
                    name='programme',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='sessions', to='exercise.programme'),
                ),
            ],
        ),
    ]
