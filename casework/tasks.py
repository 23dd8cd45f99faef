"""Celery tasks of the domain: sending the outbox, and recomputing due instants after a change.

Small and idempotent: they take scopes, re-read the rows and do nothing when nothing is left to
do. The domain enqueues them after commit; the process's own tasks are in `workflows.tasks`.
"""

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from . import deadline_reminders, digest, mailboxes, outbox, reminders
from .services import obligations
from .sla import recompute

# A database that is briefly away (restarted, failed over) is retried, 1, 2, 4... up to 60 s
# apart with jitter; time limits are CELERY_TASK_SOFT_TIME_LIMIT / CELERY_TASK_TIME_LIMIT unless
# a task says otherwise.
RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 5,
    "acks_late": True,
}


# On the `mail` queue (CELERY_TASK_ROUTES). Mail-server failures are not retried here: each row
# records its attempt, and the next run (after the next change, or beat's minute) tries again.
@shared_task(
    name="casework.tasks.deliver_notifications",
    soft_time_limit=settings.EMAIL_DELIVERY_SOFT_TIME_LIMIT,
    time_limit=settings.EMAIL_DELIVERY_TIME_LIMIT,
    **RETRY,
)
def deliver_notifications() -> dict:
    """Send the outbox's pending e-mails (queued after each change, and every minute by beat)."""
    return outbox.deliver_pending()


@shared_task(name="casework.tasks.recompute_due_times", **RETRY)
def recompute_due_times(office_id=None, area_id=None, priority=None) -> int:
    """New due instants for open cases after an office calendar or an SLA policy changed."""
    return recompute.recompute_open_cases(office_id=office_id, area_id=area_id, priority=priority)


@shared_task(name="casework.tasks.send_digests", **RETRY)
def send_digests() -> int:
    """Each person's daily digest of held e-mails (beat, 18:00); a second run finds none left."""
    written = digest.send_digests()
    if written:
        deliver_notifications.delay()
    return written


# Every 10 minutes (beat). Each reminder is sent in a transaction of its own, so a run cut short
# keeps those it sent and the next run goes on; one racing another sends nothing twice.
@shared_task(name="casework.tasks.send_reminders", soft_time_limit=240, time_limit=270, **RETRY)
def send_reminders() -> dict:
    """Remind cooperatives of the cases waiting on them, and warn before a case closes by itself."""
    return reminders.send_due_reminders()


# Every 15 minutes (beat). Each deadline is written in a transaction of its own under a SKIP
# LOCKED row lock, so a run cut short keeps what it did and one racing another sends nothing twice.
@shared_task(name="casework.tasks.sweep_deadlines", soft_time_limit=600, time_limit=660, **RETRY)
def sweep_deadlines() -> dict:
    """Mark the deadlines whose day passed as missed, and send the deadline reminders due."""
    return deadline_reminders.sweep_deadlines()


# Every minute (beat). One run at a time per mailbox (a lease on its row, longer than these
# limits); a mail server that is down is written on the mailbox, never raised, and a message
# left unmarked by a run cut short is taken again, once, by the next.
@shared_task(
    name="casework.tasks.poll_mailboxes",
    soft_time_limit=mailboxes.RUN_SOFT_TIME_LIMIT,
    time_limit=mailboxes.RUN_TIME_LIMIT,
    **RETRY,
)
def poll_mailboxes() -> dict:
    """Read every enabled mailbox: each new message opens or answers a case, exactly once."""
    return mailboxes.poll_all()


# Daily (beat, 02:30). Each obligation is generated under its row lock and each case opened under
# its deadline's, so a run cut short is finished by the next and two runs racing make nothing twice.
@shared_task(
    name="casework.tasks.generate_obligations", soft_time_limit=1800, time_limit=1860, **RETRY
)
def generate_obligations(obligation_ids=None) -> dict:
    """The recurring obligations' deadlines for the next twelve months, and the cases now due
    (of every active obligation, or of those ids: the admin's "generate now")."""
    return obligations.obligations_generate(obligation_ids=obligation_ids).as_dict()
