"""Register the periodic tasks with django-celery-beat, so beat runs them with nothing to set up."""

from django.db import migrations

SCHEDULES = [
    ("SLA sweep", "workflows.tasks.sla_sweep", 60),
    ("Deliver notifications", "workflows.tasks.deliver_notifications", 60),
    ("Auto-close resolved cases", "workflows.tasks.auto_close", 300),
]


def register(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, seconds in SCHEDULES:
        schedule, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "interval": schedule, "enabled": True}
        )


def unregister(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[name for name, _, _ in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(register, unregister)]
