"""The available-tasks index also carries the process id, so counting a queue reads the index only.

Without it the planner preferred viewflow's index on `status`, which reads every new task of
every node (the waiting handles included) to keep the few unclaimed work tasks: a cost that grows
with the open cases, not with the queue (issue 7's bench).
"""

from django.db import migrations

OLD = "viewflow_task (flow_task, created, id) WHERE status = 'NEW' AND owner_id IS NULL"
NEW = "viewflow_task (flow_task, created, id, process_id) WHERE status = 'NEW' AND owner_id IS NULL"


def _replace(definition: str) -> list[str]:
    return [
        "DROP INDEX IF EXISTS task_queue_available",
        f"CREATE INDEX task_queue_available ON {definition}",
    ]


class Migration(migrations.Migration):
    dependencies = [("workflows", "0003_task_queue_indexes")]
    operations = [migrations.RunSQL(_replace(NEW), reverse_sql=_replace(OLD))]
