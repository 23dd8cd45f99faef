"""The outbox's sending side: claimed batches, each sent over one SMTP connection, no lock held."""

from __future__ import annotations

import contextlib
import logging
import smtplib
import uuid
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import models, transaction
from django.db.models import Prefetch
from django.db.models.functions import Now
from django.utils import timezone

from . import presenters
from .deadline_reminders import reminder_template_context
from .inbound.classify import OWN_HEADER
from .mail import (
    MESSAGE_KINDS,
    REMINDER_KINDS,
    SECRET_KINDS,
    case_thread_id,
    delivery_message_id,
    languages_of,
    latest_message_ids,
    render,
)
from .models import Attachment, Notification

log = logging.getLogger(__name__)

# A row that failed this many delivery runs is given up (`failed`), for a person to look at.
ATTEMPTS = 5


def deliver_pending(*, limit: int = 200, batch_size: int | None = None) -> dict[str, int]:
    """Send up to `limit` pending e-mails, `EMAIL_BATCH_SIZE` at a time over one SMTP connection.

    Each batch is claimed in a short transaction of its own (a token and the database's time on
    each row, committed), then sent with no transaction open and no row locked, so a slow or hung
    mail server holds nothing the SLA watch or the requests need. Each message's outcome is then
    written by one UPDATE that only the claim's token matches: a row is sent only by the run that
    claimed it. A row that failed in this run waits for the next run (a minute later) to retry.

    At least once, not exactly once: a worker killed after the mail server took a message and
    before its row says `sent` leaves that row claimed, and once the claim is older than
    EMAIL_CLAIM_SECONDS another run sends it again; a run stopped by its soft time limit while
    the server had the message gives the row back at once. Each outcome is written as soon as
    the server answers, so that is at most the one message in flight per stopped run, and it
    goes again with the same Message-ID (receiving systems may fold the copies).
    """
    batch_size = batch_size or settings.EMAIL_BATCH_SIZE
    counts = {"sent": 0, "failed": 0}
    tried: set[int] = set()
    while (room := limit - counts["sent"] - counts["failed"]) > 0:
        token = uuid.uuid4()
        rows = _claim(token=token, size=min(batch_size, room), tried=tried)
        if not rows:
            break
        tried.update(row.pk for row in rows)
        if not _send_batch(rows, token=token, counts=counts):
            break  # the mail server is down: another batch would only wait for it again
    return counts


def _claim(*, token: uuid.UUID, size: int, tried: set[int]) -> list[Notification]:
    """Mark up to `size` pending rows as being sent by `token`, committed; returns them.

    SKIP LOCKED lets two runs claim side by side; a row another run claimed and committed no
    longer matches once PostgreSQL re-reads it under the lock.
    """
    abandoned = Now() - timedelta(seconds=settings.EMAIL_CLAIM_SECONDS)
    with transaction.atomic():
        pks = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status=Notification.Status.PENDING)
            .filter(models.Q(claimed_at__isnull=True) | models.Q(claimed_at__lt=abandoned))
            .exclude(pk__in=tried)
            .order_by("created_at", "id")
            .values_list("pk", flat=True)[:size]
        )
        if not pks:
            return []
        Notification.objects.filter(pk__in=pks).update(claimed_at=Now(), claim_token=token)
    return list(
        Notification.objects.filter(pk__in=pks, claim_token=token)
        .select_related(
            "case__cooperative", "case__assignee", "recipient", "message__author", "mailbox"
        )
        # What an e-mail about a message lists of its documents: the public ones only.
        .prefetch_related(
            Prefetch(
                "message__attachments",
                queryset=Attachment.objects.filter(internal=False).order_by("created_at", "id"),
                to_attr="public_attachments",
            )
        )
        .order_by("created_at", "id")
    )


def _send_batch(rows: list[Notification], *, token: uuid.UUID, counts: dict[str, int]) -> bool:
    """Send a claimed batch, one connection per mail server: the site's, and that of each
    mailbox its rows leave from (a PEC case is answered from its PEC mailbox). False when a
    server seems down: the run ends, as another batch would only wait for it again."""
    servers: dict[int | None, tuple] = {}
    for row in rows:
        mailbox = _mailbox_of(row)
        servers.setdefault(mailbox.pk if mailbox else None, (mailbox, []))[1].append(row)
    up = True
    try:
        for mailbox, group in servers.values():
            sent = _send_to_server(group, mailbox=mailbox, token=token, counts=counts)
            up = up and sent
    except BaseException:
        # The servers not reached yet: their rows are given back too (the settled ones are not
        # the token's any more).
        Notification.objects.filter(pk__in=[row.pk for row in rows], claim_token=token).update(
            claimed_at=None, claim_token=None
        )
        raise
    return up


def _mailbox_of(row: Notification):
    """The mailbox whose SMTP server sends the row, or None for the site's server."""
    mailbox = row.mailbox if row.mailbox_id else None
    return mailbox if mailbox is not None and mailbox.smtp_host else None


def _connection(mailbox):
    if mailbox is None:
        return get_connection()
    return get_connection(
        host=mailbox.smtp_host,
        port=mailbox.smtp_port,
        username=mailbox.smtp_username,
        password=mailbox.smtp_password,
        use_ssl=mailbox.smtp_use_ssl,
        use_tls=False,  # SMTPS or plain, never both (the site's EMAIL_USE_TLS is not this server's)
        timeout=settings.EMAIL_TIMEOUT,
    )


def _send_to_server(
    rows: list[Notification], *, mailbox, token: uuid.UUID, counts: dict[str, int]
) -> bool:
    """Send rows over one connection to their server; False when the mail server seems down.

    A connection that breaks mid-batch costs the message in flight one attempt, and the rest go
    over one new connection. When a connection cannot be opened, or the second one breaks too,
    every row not sent yet counts a failed attempt with that error (this run tried and could not
    reach the server) and the run ends: at most two connections, so a hung server costs a few
    EMAIL_TIMEOUTs, never one per message. Rows the run could not settle (a soft time limit, a
    database error) are given back unclaimed on the way out.
    """
    waiting = list(rows)
    try:
        _prepare(waiting)
        for _attempt in range(2):
            connection = _connection(mailbox)
            try:
                connection.open()
            except OSError as error:  # refused, timed out, TLS, login: nothing of the batch left
                broke = error
                break
            try:
                broke = _send_over(connection, waiting, token=token, counts=counts)
            finally:
                # QUIT waits at most EMAIL_TIMEOUT; a broken connection's error changes nothing.
                with contextlib.suppress(OSError):
                    connection.close()
            if broke is None:
                return True
        while waiting:
            _record_failure(waiting.pop(0), token=token, error=broke, counts=counts)
        return False
    finally:
        if waiting:
            Notification.objects.filter(
                pk__in=[row.pk for row in waiting], claim_token=token
            ).update(claimed_at=None, claim_token=None)


def _send_over(connection, waiting: list[Notification], *, token, counts) -> Exception | None:
    """Send the waiting rows in order over an open connection; the error if the connection broke."""
    while waiting:
        row = waiting[0]
        try:
            if not row.body and row.case is not None:
                row.subject, row.body = _text_of(row, language=row.language)
            connection.send_messages([_message_of(row)])
        except SoftTimeLimitExceeded:
            raise  # the run's time is up: the row in flight is given back, not charged
        except Exception as error:  # noqa: BLE001 - any failure is this row's attempt
            _record_failure(waiting.pop(0), token=token, error=error, counts=counts)
            if _connection_broke(error):
                return error
            continue
        _record_sent(waiting.pop(0), token=token, counts=counts)
    return None


def _connection_broke(error: Exception) -> bool:
    """Whether the connection is gone (timeout, reset, 421), not just this message refused."""
    # 421 is the server closing the connection (smtplib closes its side too); any other answer
    # is about this message, and the connection carries on.
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code == 421
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return any(code == 421 for code, _answer in error.recipients.values())
    return isinstance(error, OSError)


def _message_of(row: Notification) -> EmailMessage:
    # The row's own Message-ID, also when it is sent again after a killed worker, so that a copy
    # is recognisably the same; In-Reply-To and References thread the case in the reader's mail.
    # Auto-Submitted and Sportello's own marker: mail intake never takes its own e-mails back.
    headers = {
        "Message-ID": f"<{row.header_message_id}>",
        "Auto-Submitted": "auto-generated",
        OWN_HEADER: row.kind,
    }
    if row.in_reply_to:
        headers["In-Reply-To"] = f"<{row.in_reply_to}>"
    if row.case is not None:
        references = [case_thread_id(row.case), row.in_reply_to]
        headers["References"] = " ".join(f"<{ref}>" for ref in references if ref)
    # From the mailbox's own address when its server sends it (a PEC answer), else the site's.
    sender = mailbox.address if (mailbox := _mailbox_of(row)) is not None else None
    return EmailMessage(row.subject, row.body, sender, [row.email], headers=headers)


def _prepare(rows: list[Notification]) -> None:
    """What the batch's rows need before sending, in two queries at most for the whole batch.

    The rows written at delivery (the SLA watch's, the e-mails about a message) need their
    readers' languages; the rows queued without a Message-ID (the SLA watch's, written in SQL)
    get one, stable over retries, and In-Reply-To the last e-mail the person got on the case.
    """
    to_write = [row for row in rows if not row.body and row.case is not None]
    languages = languages_of(row.recipient for row in to_write if row.recipient is not None)
    for row in rows:
        row.language = languages.get(row.recipient_id)
    unthreaded = [row for row in rows if not row.header_message_id]
    if not unthreaded:
        return
    previous = latest_message_ids(
        {(row.case_id, row.recipient_id) for row in unthreaded if row.case_id},
        statuses=[Notification.Status.SENT],
    )
    for row in unthreaded:
        row.header_message_id = delivery_message_id(row.pk)
        row.in_reply_to = previous.get((row.case_id, row.recipient_id), "")


def _record_sent(row: Notification, *, token, counts) -> None:
    settled = Notification.objects.filter(pk=row.pk, claim_token=token).update(
        status=Notification.Status.SENT,
        sent_at=timezone.now(),
        attempts=models.F("attempts") + 1,
        subject=row.subject,
        # A sent link to set a password is not kept (`SECRET_KINDS`).
        body="" if row.kind in SECRET_KINDS else row.body,
        header_message_id=row.header_message_id,
        in_reply_to=row.in_reply_to,
        claimed_at=None,
        claim_token=None,
    )
    counts["sent"] += 1
    if not settled:
        # Only a run slower than the hard time limit can see this (its claim was taken again).
        log.warning("e-mail %s sent after its claim expired: it may go twice", row.pk)


def _record_failure(row: Notification, *, token, error: Exception, counts) -> None:
    Notification.objects.filter(pk=row.pk, claim_token=token).update(
        attempts=models.F("attempts") + 1,
        last_error=f"{type(error).__name__}: {error}"[:2000],
        status=models.Case(
            models.When(attempts__gte=ATTEMPTS - 1, then=models.Value(Notification.Status.FAILED)),
            default=models.F("status"),
        ),
        subject=row.subject,
        body=row.body,
        header_message_id=row.header_message_id,
        in_reply_to=row.in_reply_to,
        claimed_at=None,
        claim_token=None,
    )
    counts["failed"] += 1


def _text_of(row: Notification, *, language: str | None = None) -> tuple[str, str]:
    """The e-mail of a row written at delivery, in the reader's language.

    An e-mail about a message shows the message as it stands after its transaction committed,
    with its public documents; a deadline's reminder, the deadline as the sweep saw it; an SLA
    transition's, the clock and its due instant.
    """
    if row.kind in MESSAGE_KINDS:
        message = row.message
        context = {
            "message": message,
            "attachments": getattr(message, "public_attachments", []) if message else [],
        }
    elif row.kind in REMINDER_KINDS:
        context = reminder_template_context(row.context)
    else:
        clock = row.context.get("clock", "resolution")
        context = {
            "due_at": getattr(row.case, f"{clock}_due_at"),
            "clock": str(presenters.CLOCK_WORDS.get(clock, clock)),
        }
    return render(
        kind=row.kind, case=row.case, user=row.recipient, context=context, language=language
    )
