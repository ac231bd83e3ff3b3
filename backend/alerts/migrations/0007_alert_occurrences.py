# Alert coalescing: how many reports an alert gathers and when the newest arrived. Existing
# alerts gathered one report, when they were raised.

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('alerts', '0006_indexes_for_filters'),
    ]

    operations = [
        migrations.AddField(
            model_name='alert',
            name='last_occurred_at',
            field=models.DateTimeField(default=django.utils.timezone.now, help_text='When the newest report it gathers arrived.'),
        ),
        migrations.AddField(
            model_name='alert',
            name='occurrences',
            field=models.PositiveIntegerField(default=1, help_text='How many reports this alert gathers (1 unless coalesced).'),
        ),
        migrations.RunSQL(
            "UPDATE alerts_alert SET last_occurred_at = created_at",
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
