"""Register the conversation's beat tasks: the waiting reminders and the daily digest.

The reminders run every ten minutes (a reminder is due on a business-day boundary, so ten
minutes late at most); the digest once a day at 18:00 in Rome, after the offices close.
"""

from django.db import migrations
from django.utils import timezone

TIME_ZONE = "Europe/Rome"
REMINDERS = ("Remind cooperatives of waiting cases", "casework.tasks.send_reminders", 600)
DIGEST = ("Send the daily digests of new messages", "casework.tasks.send_digests", 18, 0)


def _crontab(hour, minute):
    return {
        "minute": str(minute),
        "hour": str(hour),
        "day_of_week": "*",
        "day_of_month": "*",
        "month_of_year": "*",
        "timezone": TIME_ZONE,
    }


def _beat_reloads(apps):
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def register(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    name, task, seconds = REMINDERS
    interval, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
    PeriodicTask.objects.get_or_create(
        name=name, defaults={"task": task, "interval": interval, "enabled": True}
    )
    name, task, hour, minute = DIGEST
    crontab = CrontabSchedule.objects.filter(**_crontab(hour, minute)).first()
    if crontab is None:
        crontab = CrontabSchedule.objects.create(**_crontab(hour, minute))
    PeriodicTask.objects.get_or_create(
        name=name, defaults={"task": task, "crontab": crontab, "enabled": True}
    )
    _beat_reloads(apps)


def unregister(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[REMINDERS[0], DIGEST[0]]).delete()
    _beat_reloads(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0008_housekeeping_schedules"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
