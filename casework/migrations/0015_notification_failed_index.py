# Issue 19 (metrics): /metrics counts the failed e-mails at every scrape; a partial index of the
# failed rows only (a handful, each written once) keeps that an index-only scan instead of a read
# of the whole outbox. Building it reads the outbox once (seconds for 90 days of e-mails).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0014_notification_claim"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("status", "failed")),
                fields=["created_at"],
                name="notification_failed",
            ),
        ),
    ]
