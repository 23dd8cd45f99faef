# Issue 19 (health): one row per periodic job, overwritten by each completed run (the SLA sweep
# writes its own at the end); /health/ reads it by primary key. A new, empty table.
# The outbox check needs no new index: 0002's partial index `notification_pending`
# (created_at WHERE status = 'pending') already serves its "oldest pending" lookup.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('casework', '0012_fk_indexes_partial'),
    ]

    operations = [
        migrations.CreateModel(
            name='Heartbeat',
            fields=[
                ('job', models.CharField(choices=[('sla_sweep', 'SLA sweep')], max_length=40, primary_key=True, serialize=False, verbose_name='job')),
                ('completed_at', models.DateTimeField(verbose_name='last completed at')),
            ],
            options={
                'verbose_name': 'heartbeat',
                'verbose_name_plural': 'heartbeats',
            },
        ),
    ]
