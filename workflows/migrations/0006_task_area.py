"""Human tasks carry their case's area (flows.QueueView); the available-tasks index is on it.

The queues used to join every unclaimed task to its process, case process and case to keep the
tasks of the user's areas: at a million cases that join was most of the `available` queue's
time (issue 7's bench). Tasks written before this migration get their area here.
"""

from django.db import migrations

FLOW = "workflows/flows"
# The human steps and the table that links their process to its case.
STEPS = {
    "workflows_caseprocess": (
        f"{FLOW}.CaseFlow.triage",
        f"{FLOW}.CaseFlow.assign_manually",
        f"{FLOW}.CaseFlow.work",
    ),
    "workflows_followupprocess": (f"{FLOW}.FollowUpFlow.review",),
}
OLD_INDEX = (
    "CREATE INDEX task_queue_available ON viewflow_task (flow_task, created, id, process_id) "
    "WHERE status = 'NEW' AND owner_id IS NULL"
)
NEW_INDEX = {
    # Django compiles `data__area__in` to `(data -> 'area') IN (...)` on PostgreSQL.
    "postgresql": (
        "CREATE INDEX task_queue_available ON viewflow_task "
        "(flow_task, (data -> 'area'), created, id) WHERE status = 'NEW' AND owner_id IS NULL"
    ),
    "sqlite": (
        "CREATE INDEX task_queue_available ON viewflow_task "
        "(flow_task, created, id) WHERE status = 'NEW' AND owner_id IS NULL"
    ),
}


def _backfill_sql(vendor: str, table: str, steps: tuple[str, ...]) -> str:
    placeholders = ", ".join(["%s"] * len(steps))
    if vendor == "postgresql":
        return (
            "UPDATE viewflow_task t SET data = COALESCE(t.data, '{}'::jsonb) "
            "|| jsonb_build_object('area', c.area_id) "
            f"FROM {table} p JOIN casework_case c ON c.id = p.case_id "
            f"WHERE p.process_ptr_id = t.process_id AND t.flow_task IN ({placeholders})"
        )
    return (
        "UPDATE viewflow_task SET data = json_set(COALESCE(data, '{}'), '$.area', "
        f"(SELECT c.area_id FROM {table} p JOIN casework_case c ON c.id = p.case_id "
        "WHERE p.process_ptr_id = viewflow_task.process_id)) "
        f"WHERE flow_task IN ({placeholders})"
    )


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cursor:
        for table, steps in STEPS.items():
            cursor.execute(_backfill_sql(vendor, table, steps), list(steps))
        cursor.execute("DROP INDEX IF EXISTS task_queue_available")
        cursor.execute(NEW_INDEX.get(vendor, NEW_INDEX["sqlite"]))


def backwards(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS task_queue_available")
        cursor.execute(OLD_INDEX)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0005_task_queue_mine_covers_count")]
    operations = [migrations.RunPython(forwards, backwards)]
