# Indexes in each per-patient list's exact order, tie-breaker included (issue #12,
# "History-proof reads"): a page is then the first rows of one index range, read in order
# and stopped at the LIMIT, with no Sort, however long the patient's history.
# alert_patient_triage is new (the list sorts by urgency first: no index served a patient's
# alerts in that order, a page sorted all of them); notification_inbox_newest replaces its
# prefix notification_inbox, built before the old one is dropped.
#
# Production would build these with django.contrib.postgres.operations.AddIndexConcurrently
# (atomic = False), so that inserts are not blocked while a large table is indexed. It is not
# used here: it fails on SQLite, which the test suite and `make run` use.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('alerts', '0008_purge_expired_records_task'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='alert',
            index=models.Index(fields=['patient', 'urgency_rank', '-created_at', '-id'], name='alert_patient_triage'),
        ),
        migrations.AddIndex(
            model_name='notification',
            index=models.Index(fields=['recipient', '-created_at', '-id'], name='notification_inbox_newest'),
        ),
        migrations.RemoveIndex(
            model_name='notification',
            name='notification_inbox',
        ),
    ]
