"""Celery tasks: small and idempotent, re-reading their rows; beat runs them on admin schedules."""

from celery import shared_task
from django.db import OperationalError

from casework import clocks, escalation

from . import process

RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "max_retries": 5,
    "acks_late": True,
}


@shared_task(name="workflows.tasks.sla_sweep", **RETRY)
def sla_sweep() -> dict:
    """Mark and notify the cases newly at risk or breached (every minute)."""
    counts = escalation.sweep()
    if any(counts.values()):
        deliver_notifications.delay()
    return counts


@shared_task(name="workflows.tasks.deliver_notifications", **RETRY)
def deliver_notifications() -> dict:
    return escalation.deliver_pending()


@shared_task(name="workflows.tasks.auto_close", **RETRY)
def auto_close() -> int:
    """Close the resolved cases whose confirmation window has ended."""
    closed = 0
    for case_id in escalation.cases_due_for_auto_close():
        if process.auto_close(case=case_id) is not None:
            closed += 1
    return closed


@shared_task(name="workflows.tasks.recompute_due_times", **RETRY)
def recompute_due_times(office_id=None, area_id=None, priority=None) -> int:
    """New due instants for open cases after an office calendar or an SLA policy changed."""
    return clocks.recompute_open_cases(office_id=office_id, area_id=area_id, priority=priority)
