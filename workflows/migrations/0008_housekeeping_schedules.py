"""Register housekeeping's purges with django-celery-beat: each nightly, ten minutes apart.

At night in Rome, when nobody works a case; apart, so that they never compete with one another
for the database.
"""

from django.db import migrations
from django.utils import timezone

TIME_ZONE = "Europe/Rome"
SCHEDULES = [
    # name, task, hour, minute
    ("Purge expired sessions", "casework.housekeeping_tasks.purge_sessions", 4, 0),
    ("Purge lapsed login lockouts", "casework.housekeeping_tasks.purge_lockouts", 4, 10),
    ("Purge sent e-mails", "casework.housekeeping_tasks.purge_sent_emails", 4, 20),
    ("Purge idempotency keys", "casework.housekeeping_tasks.purge_idempotency_keys", 4, 30),
    ("Purge old staff reads of cases", "casework.housekeeping_tasks.purge_case_reads", 4, 40),
]


def _schedule_fields(hour, minute):
    return {
        "minute": str(minute),
        "hour": str(hour),
        "day_of_week": "*",
        "day_of_month": "*",
        "month_of_year": "*",
        "timezone": TIME_ZONE,
    }


def _beat_reloads(apps):
    # Beat rereads its schedule when this row changes (the admin's saves touch it by signal).
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def register(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, hour, minute in SCHEDULES:
        schedule = CrontabSchedule.objects.filter(**_schedule_fields(hour, minute)).first()
        if schedule is None:
            schedule = CrontabSchedule.objects.create(**_schedule_fields(hour, minute))
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "crontab": schedule, "enabled": True}
        )
    _beat_reloads(apps)


def unregister(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[name for name, _, _, _ in SCHEDULES]).delete()
    for _, _, hour, minute in SCHEDULES:
        CrontabSchedule.objects.filter(
            **_schedule_fields(hour, minute), periodictask__isnull=True
        ).delete()
    _beat_reloads(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0007_deliver_task_renamed"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
