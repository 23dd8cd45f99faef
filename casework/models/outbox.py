"""The e-mail outbox: one row per message to send, written in the transaction that caused it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .cases import Case

User = settings.AUTH_USER_MODEL


class Notification(models.Model):
    """An e-mail to send, written in the same transaction as the change it reports (outbox).

    The delivery task sends pending rows after the commit, so a rolled-back change never
    e-mails anyone and a failed e-mail never rolls a change back; `dedupe_key` makes each
    transition notify each person once.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        # Kept for the reader's daily digest instead of being sent on its own.
        HELD = "held", _("Held for the daily digest")
        DIGESTED = "digested", _("Sent in a digest")

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    # The message it is about, if any (the digest lists them, threading follows them).
    message = models.ForeignKey(
        "casework.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
        db_index=False,
    )
    recipient = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    email = models.EmailField(_("e-mail"))
    kind = models.CharField(_("kind"), max_length=40)
    # Empty until delivery for the SLA watch's rows, which carry `context` for the template.
    subject = models.CharField(_("subject"), max_length=250, blank=True)
    body = models.TextField(_("text"), blank=True)
    context = models.JSONField(_("template context"), default=dict, blank=True)
    dedupe_key = models.CharField(max_length=200, unique=True)
    # Threading: this e-mail's Message-ID and the one of the previous e-mail of the case to the
    # same person (In-Reply-To), both without angle brackets; a reply by mail finds its case by
    # them.
    header_message_id = models.CharField(_("Message-ID"), max_length=200, blank=True, db_index=True)
    in_reply_to = models.CharField(_("In-Reply-To"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # Being sent: the delivery run that claimed the row (its token) and when, in the database's
    # time; only that run writes the outcome, and a claim older than EMAIL_CLAIM_SECONDS is
    # taken again (its worker was killed). Still `pending` meanwhile: it is not sent yet.
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    # Sent from this mailbox's own SMTP server (a PEC case is answered by PEC), else the site's.
    mailbox = models.ForeignKey(
        "casework.Mailbox",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(
                fields=["created_at"],
                name="notification_pending",
                condition=Q(status="pending"),
            ),
            # /metrics counts the failed e-mails at every scrape: this holds only them (few,
            # and written once each), so the count never reads the delivered ones.
            models.Index(
                fields=["created_at"],
                name="notification_failed",
                condition=Q(status="failed"),
            ),
            # The daily digest reads only the held rows, per person.
            models.Index(
                fields=["recipient", "created_at"],
                name="notification_held",
                condition=Q(status="held"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.email}"
