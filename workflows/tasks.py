"""Celery tasks of the process: the SLA sweep and the auto-close; beat runs them on admin schedules.

Small and idempotent, re-reading their rows (the domain's own tasks are in `casework.tasks`).
"""

from celery import shared_task

from casework import selectors
from casework.sla import watch
from casework.tasks import RETRY, deliver_notifications

from . import process


@shared_task(name="workflows.tasks.sla_sweep", **RETRY)
def sla_sweep() -> dict:
    """Mark and notify the cases newly at risk or breached (every minute)."""
    counts = watch.sweep()
    if any(counts.values()):
        deliver_notifications.delay()
    return counts


@shared_task(name="workflows.tasks.auto_close", **RETRY)
def auto_close() -> int:
    """Close the resolved cases whose confirmation window has ended."""
    closed = 0
    for case_id in selectors.cases_due_for_auto_close():
        if process.case_auto_close(case=case_id) is not None:
            closed += 1
    return closed
