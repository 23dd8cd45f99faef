"""Partial indexes for the two task queues on viewflow's task table (which this app does not own)."""

from django.db import migrations

INDEXES = [
    (
        "task_queue_mine",
        "viewflow_task (owner_id, created, id) WHERE status = 'ASSIGNED'",
    ),
    (
        "task_queue_available",
        "viewflow_task (flow_task, created, id) WHERE status = 'NEW' AND owner_id IS NULL",
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0002_periodic_tasks"),
        ("viewflow", "0015_task_scheduled"),
    ]
    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {name} ON {definition}",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, definition in INDEXES
    ]
