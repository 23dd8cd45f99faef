"""E-mails about cases, written to the outbox in the transaction that caused them.

`casework.mail` renders each in its reader's language; `casework.outbox` sends the rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from . import tasks
from .mail import languages_of, render
from .models import Case, Notification


@dataclass(frozen=True)
class Mail:
    """An e-mail about a case to queue: `emails/<kind>.txt` for each recipient."""

    case: Case
    recipients: Iterable
    kind: str
    dedupe: str
    context: dict | None = None


def notify(*, case: Case, recipients, kind: str, dedupe: str, context: dict | None = None) -> None:
    """Queue one e-mail per recipient; a dedupe key already used means it was queued before.

    The template `emails/<kind>.txt` starts with the subject line; it is rendered in the
    recipient's language. Internal notes are never passed to templates meant for cooperatives.
    """
    notify_all([Mail(case=case, recipients=recipients, kind=kind, dedupe=dedupe, context=context)])


def notify_all(mails: Iterable[Mail]) -> None:
    """Queue the e-mails of one move: the readers' languages in one query, rows in one INSERT."""
    addressed = [
        (mail, {u for u in mail.recipients if u is not None and u.email}) for mail in mails
    ]
    languages = languages_of(user for _mail, users in addressed for user in users)
    rows = []
    for mail, users in addressed:
        for user in users:
            subject, body = render(
                kind=mail.kind,
                case=mail.case,
                user=user,
                context=mail.context,
                language=languages[user.pk],
            )
            rows.append(
                Notification(
                    case=mail.case,
                    recipient=user,
                    email=user.email,
                    kind=mail.kind,
                    subject=subject,
                    body=body,
                    dedupe_key=f"{mail.dedupe}:{user.pk}"[:200],
                )
            )
    if not rows:
        return
    # A key already used is skipped by the database, without a savepoint per row.
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    # Imported, after commit; `robust`: a broker that is down must not fail the change that queued
    # the rows (it is committed), and the periodic delivery picks them up.
    transaction.on_commit(tasks.deliver_notifications.delay, robust=True)
