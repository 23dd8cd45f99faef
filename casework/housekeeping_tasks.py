"""Celery tasks of housekeeping: one per purge, each run nightly by beat (workflows migration 0008).

Idempotent by nature: a purge deletes what is due when it runs, so a retry or a second run at
the same time deletes each row once (`casework.housekeeping`).
"""

import logging

from celery import shared_task

from . import housekeeping
from .tasks import RETRY

logger = logging.getLogger(__name__)


def _purge(name: str) -> int:
    result = housekeeping.purge_run(name=name)
    logger.info("Purged %d %s.", result.count, result.purge.label)
    return result.count


@shared_task(name="casework.housekeeping_tasks.purge_sessions", **RETRY)
def purge_sessions() -> int:
    """Delete expired sessions."""
    return _purge("sessions")


@shared_task(name="casework.housekeeping_tasks.purge_lockouts", **RETRY)
def purge_lockouts() -> int:
    """Delete django-axes failure records whose cool-off has ended."""
    return _purge("lockouts")


@shared_task(name="casework.housekeeping_tasks.purge_sent_emails", **RETRY)
def purge_sent_emails() -> int:
    """Delete e-mails sent more than PURGE_SENT_EMAILS_DAYS ago."""
    return _purge("sent-emails")


@shared_task(name="casework.housekeeping_tasks.purge_idempotency_keys", **RETRY)
def purge_idempotency_keys() -> int:
    """Delete intake idempotency keys older than a day."""
    return _purge("idempotency-keys")


@shared_task(name="casework.housekeeping_tasks.purge_case_reads", **RETRY)
def purge_case_reads() -> int:
    """Delete staff reads of cases older than CASE_ACCESS_RETENTION_DAYS."""
    return _purge("case-reads")
