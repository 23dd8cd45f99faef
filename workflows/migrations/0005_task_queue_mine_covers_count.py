"""The held-tasks index also carries the step and the process, so counting "mine" reads the index.

The count of a consultant's queue filters on the step (`flow_task`); without it in the index every
held task's row was read from the table (17 ms for a hundred tasks at a million cases, cold).
"""

from django.db import migrations

OLD = "viewflow_task (owner_id, created, id) WHERE status = 'ASSIGNED'"
NEW = "viewflow_task (owner_id, created, id, flow_task, process_id) WHERE status = 'ASSIGNED'"


def _replace(definition: str) -> list[str]:
    return [
        "DROP INDEX IF EXISTS task_queue_mine",
        f"CREATE INDEX task_queue_mine ON {definition}",
    ]


class Migration(migrations.Migration):
    dependencies = [("workflows", "0004_task_queue_available_covers_process")]
    operations = [migrations.RunSQL(_replace(NEW), reverse_sql=_replace(OLD))]
