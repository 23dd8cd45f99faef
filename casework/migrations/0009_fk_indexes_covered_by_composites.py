# Drops four single-column foreign key indexes that a composite index already serves, since it
# starts with the same column (and is not partial): casework_case's cooperative_id
# (case_coop_recent), area_id (case_area_status) and assignee_id (case_assignee_status), and
# casework_caseevent's case_id (event_case_time). Each index costs a write on every update of an
# SLA field; the lookups and foreign key checks use the composites (EXPLAIN on the bench database).
#
# Only the indexes go. AlterField alone would also drop and re-add each foreign key constraint,
# which re-checks every row of casework_case and casework_caseevent under a lock that blocks
# writes; the state change and the DROP INDEX are therefore separate.
#
# On PostgreSQL it also drops casework_case_reference_07e6b6eb_like, the varchar_pattern_ops
# index Django adds beside the unique index of a CharField: it serves only LIKE 'prefix%', which
# no query runs on the reference (equality and ordering use casework_case_reference_key, the
# admin's exact search compares UPPER(reference)). Django keeps no state for it; an AlterField of
# the reference would create it again.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

DROPPED = [
    ("casework_case", "casework_case_area_id_5d2cb8ad", "area_id"),
    ("casework_case", "casework_case_assignee_id_de84f58a", "assignee_id"),
    ("casework_case", "casework_case_cooperative_id_c8210618", "cooperative_id"),
    ("casework_caseevent", "casework_caseevent_case_id_46aaa1c4", "case_id"),
]


LIKE_INDEX = "casework_case_reference_07e6b6eb_like"


def drop_like_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{LIKE_INDEX}"')


def create_like_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{LIKE_INDEX}" '
            'ON "casework_case" ("reference" varchar_pattern_ops)'
        )


class Migration(migrations.Migration):

    dependencies = [
        ('casework', '0008_notification_context'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" ("{column}")',
                )
                for table, index, column in DROPPED
            ],
            state_operations=[
                migrations.AlterField(
                    model_name='case',
                    name='area',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='cases', to='casework.practicearea', verbose_name='area'),
                ),
                migrations.AlterField(
                    model_name='case',
                    name='assignee',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='assigned_cases', to=settings.AUTH_USER_MODEL, verbose_name='assignee'),
                ),
                migrations.AlterField(
                    model_name='case',
                    name='cooperative',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='cases', to='casework.cooperative', verbose_name='cooperative'),
                ),
                migrations.AlterField(
                    model_name='caseevent',
                    name='case',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='events', to='casework.case'),
                ),
            ],
        ),
        migrations.RunPython(drop_like_index, create_like_index, elidable=True),
    ]
