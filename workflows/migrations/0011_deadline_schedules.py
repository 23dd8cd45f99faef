"""Register the deadlines' beat tasks: the deadline sweep and the recurring obligations.

The sweep (reminders, missed deadlines) runs every fifteen minutes: a reminder is due on a day,
so a quarter of an hour late at most. The obligations' generator runs once a day at 02:30 in
Rome, when nobody works (it names its task by string: `casework.tasks.generate_obligations`).
"""

from django.db import migrations
from django.utils import timezone

TIME_ZONE = "Europe/Rome"
SWEEP = ("Remind and mark missed deadlines", "casework.tasks.sweep_deadlines", 900)
OBLIGATIONS = (
    "Generate the recurring obligations' deadlines",
    "casework.tasks.generate_obligations",
    2,
    30,
)


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
    name, task, seconds = SWEEP
    interval, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
    PeriodicTask.objects.get_or_create(
        name=name, defaults={"task": task, "interval": interval, "enabled": True}
    )
    name, task, hour, minute = OBLIGATIONS
    crontab = CrontabSchedule.objects.filter(**_crontab(hour, minute)).first()
    if crontab is None:
        crontab = CrontabSchedule.objects.create(**_crontab(hour, minute))
    PeriodicTask.objects.get_or_create(
        name=name, defaults={"task": task, "crontab": crontab, "enabled": True}
    )
    _beat_reloads(apps)


def unregister(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[SWEEP[0], OBLIGATIONS[0]]).delete()
    _beat_reloads(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0010_mail_intake_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
