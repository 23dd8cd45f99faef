"""Register the mail intake with django-celery-beat: every enabled mailbox read each minute."""

from django.db import migrations
from django.utils import timezone

NAME, TASK, SECONDS = "Read the mailboxes", "casework.tasks.poll_mailboxes", 60


def _beat_reloads(apps):
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def register(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    interval, _ = IntervalSchedule.objects.get_or_create(every=SECONDS, period="seconds")
    PeriodicTask.objects.get_or_create(
        name=NAME, defaults={"task": TASK, "interval": interval, "enabled": True}
    )
    _beat_reloads(apps)


def unregister(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=NAME).delete()
    _beat_reloads(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0009_conversation_schedules"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
