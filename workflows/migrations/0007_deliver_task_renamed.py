"""The outbox's delivery task moved to the domain (`casework.tasks`): its beat schedule follows."""

from django.db import migrations

RENAMED = {"workflows.tasks.deliver_notifications": "casework.tasks.deliver_notifications"}


def rename(apps, schema_editor, mapping=RENAMED):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for old, new in mapping.items():
        PeriodicTask.objects.filter(task=old).update(task=new)


def rename_back(apps, schema_editor):
    rename(apps, schema_editor, {new: old for old, new in RENAMED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0006_task_area"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(rename, rename_back)]
