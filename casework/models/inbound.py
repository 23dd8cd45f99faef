"""Mail that comes in: the mailboxes Sportello reads, and each message taken from them."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .cases import Case, Message
from .outbox import Notification
from .registry import Cooperative, PracticeArea

User = settings.AUTH_USER_MODEL


class Mailbox(models.Model):
    """An address of the federation that Sportello reads: IMAP in production, a Maildir in
    `make run`. A PEC mailbox also sends the answers to the cases that came through it."""

    class Kind(models.TextChoices):
        IMAP = "imap", _("IMAP server")
        MAILDIR = "maildir", _("Maildir folder")

    name = models.SlugField(_("name"), max_length=40, unique=True)
    address = models.EmailField(
        _("address"), blank=True, help_text=_("The address people write to, e.g. fiscale@…")
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.IMAP)
    # IMAP
    host = models.CharField(_("IMAP host"), max_length=200, blank=True)
    port = models.PositiveIntegerField(_("IMAP port"), default=993)
    use_tls = models.BooleanField(_("IMAP over TLS"), default=True)
    username = models.CharField(_("IMAP user"), max_length=200, blank=True)
    password = models.CharField(_("IMAP password"), max_length=200, blank=True)
    folder = models.CharField(_("IMAP folder"), max_length=200, default="INBOX")
    # Maildir
    path = models.CharField(
        _("Maildir path"),
        max_length=500,
        blank=True,
        help_text=_("A folder with new/, cur/ and tmp/; relative paths start at the checkout."),
    )
    area = models.ForeignKey(
        PracticeArea,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="mailboxes",
        verbose_name=_("practice area"),
        help_text=_("New cases from this mailbox go to this area; empty: a supervisor triages."),
    )
    is_pec = models.BooleanField(
        _("PEC mailbox"),
        default=False,
        help_text=_("Certified e-mail: envelopes and receipts are read, answers leave from here."),
    )
    # Outgoing (a PEC mailbox answers its cases from the provider's SMTP server).
    smtp_host = models.CharField(_("SMTP host"), max_length=200, blank=True)
    smtp_port = models.PositiveIntegerField(_("SMTP port"), default=465)
    smtp_use_ssl = models.BooleanField(_("SMTP over TLS (SMTPS)"), default=True)
    smtp_username = models.CharField(_("SMTP user"), max_length=200, blank=True)
    smtp_password = models.CharField(_("SMTP password"), max_length=200, blank=True)
    is_enabled = models.BooleanField(_("enabled"), default=True)
    last_polled_at = models.DateTimeField(_("last read at"), null=True, blank=True)
    # One reading at a time: a run takes the mailbox until this instant (a lease, so a worker
    # killed mid-run holds it only until then).
    polling_until = models.DateTimeField(_("being read until"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self) -> str:
        return self.address or self.name

    def clean(self) -> None:
        if self.kind == self.Kind.IMAP and not (self.host and self.username):
            raise ValidationError(_("An IMAP mailbox needs a host and a user."))
        if self.kind == self.Kind.MAILDIR and not self.path:
            raise ValidationError({"path": _("A Maildir mailbox needs its path.")})
        if self.is_pec and not self.address:
            raise ValidationError({"address": _("A PEC mailbox needs its address.")})


def inbound_path(instance: InboundEmail, filename: str) -> str:
    now = timezone.now()
    return f"inbound/{now:%Y/%m}/{instance.mailbox_id}/{filename}"


class InboundEmail(models.Model):
    """One message taken from a mailbox, once: what it became, or why it is waiting.

    The row is written in the transaction that opens or answers the case, so a message is a case
    exactly once (the Message-ID is unique per mailbox); the mailbox's copy is flagged or moved
    only after that commit.
    """

    class Status(models.TextChoices):
        OPENED = "opened", _("Opened a case")
        REPLIED = "replied", _("Added to a case")
        RECEIPT = "receipt", _("PEC receipt")
        IGNORED = "ignored", _("Ignored")
        UNMATCHED = "unmatched", _("Waiting for a supervisor")
        LINKED = "linked", _("Linked by a supervisor")
        DISCARDED = "discarded", _("Discarded by a supervisor")
        FAILED = "failed", _("Could not be processed")

    class Ignored(models.TextChoices):
        AUTO_REPLY = "auto_reply", _("Automatic reply")
        BOUNCE = "bounce", _("Delivery failure")
        OWN = "own", _("Sent by Sportello")

    mailbox = models.ForeignKey(
        Mailbox, on_delete=models.PROTECT, related_name="messages", verbose_name=_("mailbox")
    )
    header_message_id = models.CharField(_("Message-ID"), max_length=255)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    ignored_reason = models.CharField(
        _("why ignored"), max_length=12, choices=Ignored.choices, blank=True
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    from_address = models.EmailField(_("from"), max_length=254, blank=True)
    from_name = models.CharField(_("sender's name"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    # The whole original, kept for a supervisor while it waits (and as the case's .eml later).
    raw = models.FileField(_("original message"), upload_to=inbound_path, max_length=300)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    is_pec = models.BooleanField(_("PEC"), default=False)
    # The certified data of a PEC envelope (daticert.xml) or of a receipt, as read.
    certified = models.JSONField(_("certified data"), default=dict, blank=True)
    case = models.ForeignKey(
        Case,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_emails",
        verbose_name=_("case"),
    )
    message = models.ForeignKey(
        Message,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_emails",
        verbose_name=_("message"),
        db_index=False,
    )
    # A receipt: the outgoing PEC e-mail it is about.
    receipt_for = models.ForeignKey(
        Notification,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pec_receipts",
        verbose_name=_("receipt of"),
        db_index=False,
    )
    # A supervisor's decision on unmatched mail.
    cooperative = models.ForeignKey(
        Cooperative,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("linked to"),
        db_index=False,
    )
    decided_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("reason"), blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("incoming e-mail")
        verbose_name_plural = _("incoming e-mails")
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "header_message_id"], name="inbound_once_per_mailbox"
            ),
        ]
        indexes = [
            # The supervisors' list of unmatched mail, and the failed ones for the admin.
            models.Index(
                fields=["received_at"],
                name="inbound_waiting",
                condition=Q(status__in=["unmatched", "failed"]),
            ),
            # Deleting an e-mail of the outbox (the nightly purge of sent ones) or a message looks
            # for the rows pointing at it: without these, one scan of every incoming e-mail per
            # row deleted (minutes for a purge at a million cases).
            models.Index(
                fields=["receipt_for"],
                name="inbound_receipt_for",
                condition=Q(receipt_for__isnull=False),
            ),
            models.Index(
                fields=["message"], name="inbound_message", condition=Q(message__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_address} · {self.subject[:60]}"
