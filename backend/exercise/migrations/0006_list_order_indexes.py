# Indexes in each per-patient list's exact order, tie-breaker included (issue #12,
# "History-proof reads"): a page is then the first rows of one index range, read in order
# and stopped at the LIMIT, with no Sort, however long the patient's history.
# Each replaces the index that is its prefix (one index write per insert, not two); the new
# one is built before the old is dropped.
#
# Production would build these with django.contrib.postgres.operations.AddIndexConcurrently
# (atomic = False), so that inserts are not blocked while a large table is indexed. It is not
# used here: it fails on SQLite, which the test suite and `make run` use.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('exercise', '0005_session_symptoms_reported_clock_ahead'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='assessment',
            index=models.Index(fields=['patient', '-measured_at', '-id'], name='assessment_patient_newest'),
        ),
        migrations.AddIndex(
            model_name='sessionlog',
            index=models.Index(fields=['patient', '-started_at', '-id'], name='session_patient_newest'),
        ),
        migrations.RemoveIndex(
            model_name='assessment',
            name='assessment_patient_time',
        ),
        migrations.RemoveIndex(
            model_name='sessionlog',
            name='session_patient_started',
        ),
    ]
