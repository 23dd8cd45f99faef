"""E-mails about a person's account (invitations, password resets and changes, leaving a
cooperative): queued in the outbox like every other e-mail of Sportello, in the reader's language.

They belong to no case, so they have no thread: each is a Notification without `case`, its text
written now (`emails/<kind>.txt`, first line the subject), sent after the commit by the outbox's
worker, and retried by it while the mail server is down. Those carrying a single-use link
(`mail.SECRET_KINDS`) lose their text once sent.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from .mail import language_of, new_message_id, render
from .models import Notification
from .notifications import deliver_soon

# The e-mails about an account rather than a case (`emails/<kind>.txt`): no case reference in
# their subject, no thread.
ACCOUNT_KINDS = frozenset(
    {"invitation", "invitation_accepted", "membership_ended", "password_reset", "password_changed"}
)


def absolute_url(path: str) -> str:
    """A link of the site for an e-mail: SPORTELLO_BASE_URL and the path."""
    return settings.SPORTELLO_BASE_URL.rstrip("/") + path


def account_mail_queue(
    *,
    kind: str,
    email: str,
    dedupe: str,
    recipient=None,
    language: str | None = None,
    context: dict | None = None,
) -> None:
    """Queue one e-mail to `email` (a person with an account: `recipient`, whose language it
    is in unless `language` says otherwise). A dedupe key already used queues nothing."""
    if not email:
        return
    language = language or (language_of(recipient) if recipient else settings.LANGUAGE_CODE)
    subject, body = render(
        kind=kind, case=None, user=recipient, context=context or {}, language=language
    )
    Notification.objects.bulk_create(
        [
            Notification(
                recipient=recipient,
                email=email,
                kind=kind,
                subject=subject,
                body=body,
                dedupe_key=dedupe[:200],
                header_message_id=new_message_id(None),
            )
        ],
        ignore_conflicts=True,
    )
    transaction.on_commit(deliver_soon, robust=True)
