# The outbox's delivery claims a batch of rows (token and time), then sends it with no transaction
# open (issue 19). Two nullable columns: PostgreSQL adds them without rewriting the table.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0013_heartbeat"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="claimed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="claimed at"),
        ),
        migrations.AddField(
            model_name="notification",
            name="claim_token",
            field=models.UUIDField(blank=True, null=True),
        ),
    ]
