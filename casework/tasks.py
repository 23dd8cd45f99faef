"""Celery tasks of the domain: sending the outbox, and recomputing due instants after a change.

Small and idempotent: they take scopes, re-read the rows and do nothing when nothing is left to
do. The domain enqueues them after commit; the process's own tasks are in `workflows.tasks`.
"""

from celery import shared_task
from django.db import OperationalError

from . import outbox
from .sla import recompute

RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "max_retries": 5,
    "acks_late": True,
}


@shared_task(name="casework.tasks.deliver_notifications", **RETRY)
def deliver_notifications() -> dict:
    """Send the outbox's pending e-mails (queued after each change, and every minute by beat)."""
    return outbox.deliver_pending()


@shared_task(name="casework.tasks.recompute_due_times", **RETRY)
def recompute_due_times(office_id=None, area_id=None, priority=None) -> int:
    """New due instants for open cases after an office calendar or an SLA policy changed."""
    return recompute.recompute_open_cases(office_id=office_id, area_id=area_id, priority=priority)
