"""Celery tasks of the process: the SLA sweep and the auto-close; beat runs them on admin schedules.

Small and idempotent, re-reading their rows (the domain's own tasks are in `casework.tasks`).
"""

from celery import shared_task

from casework import selectors
from casework.models import Heartbeat
from casework.services.ops import heartbeat_record
from casework.sla import watch
from casework.tasks import RETRY, deliver_notifications

from . import process


# Every minute, and /health/ wants one within 3: short limits. A sweep cut short has committed
# its batches (casework.sla.watch); the next one goes on from there. It only enqueues the e-mails
# (on the `mail` queue), it never waits for a mail server.
@shared_task(name="workflows.tasks.sla_sweep", soft_time_limit=90, time_limit=120, **RETRY)
def sla_sweep() -> dict:
    """Mark and notify the cases newly at risk or breached (every minute).

    A completed run leaves its heartbeat, which /health/ checks is recent.
    """
    counts = watch.sweep()
    heartbeat_record(job=Heartbeat.Job.SLA_SWEEP)
    if any(counts.values()):
        deliver_notifications.delay()
    return counts


# Every 5 minutes; each case closes in a transaction of its own, so a run cut short keeps those.
@shared_task(name="workflows.tasks.auto_close", soft_time_limit=240, time_limit=270, **RETRY)
def auto_close() -> int:
    """Close the resolved cases whose confirmation window has ended."""
    closed = 0
    for case_id in selectors.cases_due_for_auto_close():
        if process.case_auto_close(case=case_id) is not None:
            closed += 1
    return closed
