"""Invitations to a cooperative and the people who follow a case besides its requester."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .cases import Case
from .people import Membership
from .registry import Cooperative

User = settings.AUTH_USER_MODEL

INVITATION_VALID_FOR = timedelta(days=7)


def _invitation_expiry():
    return timezone.now() + INVITATION_VALID_FOR


class Invitation(models.Model):
    """A person asked by e-mail to join a cooperative with a role.

    The link carries a random secret; only its SHA-256 is stored, so a leaked database does not
    open accounts. Accepting it (once, within seven days) sets the password of a new account or
    adds the membership to the account that already has that address.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        REVOKED = "revoked", _("Revoked")

    cooperative = models.ForeignKey(
        Cooperative,
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("cooperative"),
    )
    email = models.EmailField(_("e-mail"))
    role = models.CharField(
        _("role"), max_length=12, choices=Membership.Role.choices, default=Membership.Role.MEMBER
    )
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    invited_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("last sent at"), default=timezone.now)
    sent_count = models.PositiveSmallIntegerField(_("times sent"), default=1)
    expires_at = models.DateTimeField(_("expires at"), default=_invitation_expiry)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accepted by"),
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            # One open invitation per address and cooperative: a second one is a resend.
            models.UniqueConstraint(
                fields=["cooperative", "email"],
                condition=Q(status="pending"),
                name="invitation_one_pending_per_address",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.cooperative}"

    @property
    def is_usable(self) -> bool:
        return self.status == self.Status.PENDING and self.expires_at > timezone.now()


class CaseParticipant(models.Model):
    """A person of the case's cooperative who follows it: sees it and gets its messages."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="participant_links", db_index=False
    )
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="participations", verbose_name=_("person")
    )
    added_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("added by"),
    )
    created_at = models.DateTimeField(_("added at"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        constraints = [
            models.UniqueConstraint(fields=["case", "user"], name="case_participant_unique"),
        ]
        indexes = [models.Index(fields=["user", "case"], name="case_participant_user")]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.case_id}"
