"""Housekeeping: the purges of rows nobody needs any more, run nightly by beat and by `purge`.

Each purge names the rows due at an instant (a QuerySet) and deletes them in batches, each batch
its own short transaction, so that a large backlog never holds long locks. On PostgreSQL a batch
locks its rows with `FOR UPDATE SKIP LOCKED` before deleting them: two purges running at once take
different rows, each row is deleted once and neither waits for nor fails on the other. SQLite,
which has no row locks, serialises the batches' transactions instead.

What each purge keeps, and why, is in the README ("Security and operations") and at the setting
of its period in `casework.config.settings`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import CaseAccess, IdempotencyKey, Notification

# A client retries an intake within minutes; a day covers any sane retry policy (as Stripe's).
IDEMPOTENCY_KEY_LIFETIME = timedelta(hours=24)

Progress = Callable[[int], None]


def expired_sessions(*, now: datetime) -> QuerySet:
    """Sessions past their expiry, as `clearsessions` finds them (the database session store)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if not hasattr(store, "get_model_class"):
        raise ImproperlyConfigured(
            f"{settings.SESSION_ENGINE} keeps no sessions in the database: nothing to purge."
        )
    return store.get_model_class().objects.filter(expire_date__lt=now)


def lapsed_lockouts(*, now: datetime) -> QuerySet:
    """django-axes failure records whose cool-off has ended: they no longer lock anyone out.

    The same rule as axes' own `clean_expired_user_attempts`, which runs only on a sign-in for
    the same account; with no cool-off configured a lockout lasts until reset, so none lapses.
    """
    if getattr(settings, "AXES_USE_ATTEMPT_EXPIRATION", False):
        return AccessAttempt.objects.filter(expiration__expires_at__lte=now)
    cool_off = get_cool_off()
    if cool_off is None:
        return AccessAttempt.objects.none()
    return AccessAttempt.objects.filter(attempt_time__lte=now - cool_off)


def sent_emails(*, now: datetime) -> QuerySet:
    """Delivered e-mails older than PURGE_SENT_EMAILS_DAYS; pending and failed ones stay.

    Each row's dedupe key guards against queuing one transition's e-mail twice at the moment
    it happens; the transition itself cannot happen again, so the key is not needed afterwards.
    """
    cutoff = now - timedelta(days=_days("PURGE_SENT_EMAILS_DAYS"))
    return Notification.objects.filter(status=Notification.Status.SENT).filter(
        Q(sent_at__lt=cutoff) | Q(sent_at__isnull=True, created_at__lt=cutoff)
    )


def idempotency_keys(*, now: datetime) -> QuerySet:
    """Intake idempotency keys older than a day: a retry after that opens a new case."""
    return IdempotencyKey.objects.filter(created_at__lt=now - IDEMPOTENCY_KEY_LIFETIME)


def case_reads(*, now: datetime) -> QuerySet:
    """Staff reads of cases older than CASE_ACCESS_RETENTION_DAYS (GDPR accountability)."""
    cutoff = now - timedelta(days=_days("CASE_ACCESS_RETENTION_DAYS"))
    return CaseAccess.objects.filter(accessed_at__lt=cutoff)


@dataclass(frozen=True)
class Purge:
    name: str  # as the command and the Celery task call it
    label: str  # what the rows are, in the command's output
    due: Callable[..., QuerySet]


PURGES = {
    purge.name: purge
    for purge in (
        Purge("sessions", "expired sessions", expired_sessions),
        Purge("lockouts", "lapsed login lockouts", lapsed_lockouts),
        Purge("sent-emails", "sent e-mails", sent_emails),
        Purge("idempotency-keys", "idempotency keys", idempotency_keys),
        Purge("case-reads", "staff reads of cases", case_reads),
    )
}


@dataclass(frozen=True)
class PurgeResult:
    purge: Purge
    count: int  # rows deleted, or that would be on a dry run


def purge_run(
    *,
    name: str,
    now: datetime | None = None,
    batch_size: int | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> PurgeResult:
    """Delete the rows purge `name` finds due at `now` (or count them, on a dry run)."""
    purge = PURGES.get(name)
    if purge is None:
        raise ValueError(f"Unknown purge {name!r} (known: {', '.join(PURGES)}).")
    if batch_size is None:
        batch_size = settings.PURGE_BATCH_SIZE
    if batch_size < 1:
        raise ValueError(f"The batch size must be 1 or more, not {batch_size}.")
    rows = purge.due(now=now or timezone.now())
    if dry_run:
        return PurgeResult(purge=purge, count=rows.count())
    count = rows_delete_in_batches(rows=rows, batch_size=batch_size, progress=progress)
    return PurgeResult(purge=purge, count=count)


def rows_delete_in_batches(
    *, rows: QuerySet, batch_size: int, progress: Progress | None = None
) -> int:
    """Delete `rows` at most `batch_size` at a time, one transaction each; the number deleted.

    Each batch first locks its ids (skipping rows another purge holds), then deletes them through
    the ORM, so that a model with dependent rows (axes' attempt expirations) loses them too; a
    model without any is deleted in one `DELETE ... WHERE id IN (...)`. `progress` hears the
    running total after each full batch, that is whenever more rows may follow.
    """
    model = rows.model
    locked = rows.order_by("pk").select_for_update(skip_locked=True, of=("self",))
    deleted = 0
    while True:
        with transaction.atomic(using=rows.db):
            ids = list(locked.values_list("pk", flat=True)[:batch_size])
            if ids:
                _total, by_model = model._base_manager.using(rows.db).filter(pk__in=ids).delete()
                deleted += by_model.get(model._meta.label, 0)
        # Fewer than a batch: the rest, if any, is locked by a purge running now, which takes it.
        if len(ids) < batch_size:
            return deleted
        if progress is not None:
            progress(deleted)


def _days(setting: str) -> int:
    days = getattr(settings, setting)
    if days < 1:
        raise ImproperlyConfigured(f"{setting} must be 1 or more days, not {days}.")
    return days
