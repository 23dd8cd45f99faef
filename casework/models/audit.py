"""Records kept for accountability and safe retries: staff reads of cases, idempotency keys."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .cases import Case

User = settings.AUTH_USER_MODEL


class IdempotencyKey(models.Model):
    """Remembers the case an intake request created, so that a retried request returns it."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    key = models.CharField(_("key"), max_length=200)
    request_hash = models.CharField(_("request fingerprint"), max_length=64)
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="+", verbose_name=_("case")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique"),
        ]

    def __str__(self) -> str:
        return self.key


class CaseAccess(models.Model):
    """A read of a case by federation staff: who looked at which case, when and how (GDPR)."""

    class Channel(models.TextChoices):
        PAGE = "page", _("Case page")
        API = "api", _("API")
        DOWNLOAD = "download", _("Document download")

    # PROTECT: deleting a staff account must not silently erase who read what (deactivate it).
    user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="case_accesses", verbose_name=_("user")
    )
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="accesses", verbose_name=_("case")
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    accessed_at = models.DateTimeField(_("read at"), default=timezone.now)

    class Meta:
        ordering = ["-accessed_at", "-id"]
        verbose_name = _("case read by staff")
        verbose_name_plural = _("case reads by staff")
        indexes = [
            models.Index(fields=["case", "accessed_at"], name="case_access_case_time"),
            models.Index(fields=["user", "accessed_at"], name="case_access_user_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=["page", "api", "download"]),
                name="case_access_channel_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} · {self.channel} · {self.accessed_at:%Y-%m-%d %H:%M}"
