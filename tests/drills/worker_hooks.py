"""Instrumentation for the drills' Celery workers: one row per task run in `drill_task_run`.

The drill creates the table in its own database; a worker started with DRILL_TASK_LOG=1 records
when each task started and finished, on which worker, and what it returned. A worker killed
mid-task leaves a row with no `finished_at`; a message redelivered after the kill shows up as a
second row with the same task id.
"""

import json
import logging
import os
import socket

from celery import signals

log = logging.getLogger(__name__)

TABLE_SQL = """
CREATE TABLE IF NOT EXISTS drill_task_run (
    id bigserial PRIMARY KEY,
    task_id text NOT NULL,
    task_name text NOT NULL,
    worker text NOT NULL,
    pid integer NOT NULL,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz,
    state text,
    result text
)
"""


def _worker() -> str:
    return os.environ.get("DRILL_WORKER_NAME", socket.gethostname())


def _execute(sql: str, params: list) -> None:
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    except Exception:  # noqa: BLE001 - instrumentation never breaks the task it watches
        log.exception("drill_task_run not written")


def on_prerun(task_id=None, task=None, **kwargs):
    _execute(
        "INSERT INTO drill_task_run (task_id, task_name, worker, pid) VALUES (%s, %s, %s, %s)",
        [task_id, task.name, _worker(), os.getpid()],
    )


def on_postrun(task_id=None, task=None, retval=None, state=None, **kwargs):
    try:
        result = json.dumps(retval, default=str)
    except (TypeError, ValueError):
        result = repr(retval)
    _execute(
        "UPDATE drill_task_run SET finished_at = clock_timestamp(), state = %s, result = %s "
        "WHERE id = (SELECT max(id) FROM drill_task_run WHERE task_id = %s AND pid = %s)",
        [state, result[:2000], task_id, os.getpid()],
    )


def connect() -> None:
    signals.task_prerun.connect(on_prerun, weak=False)
    signals.task_postrun.connect(on_postrun, weak=False)
