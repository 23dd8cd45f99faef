"""What the conversation on a case needs besides its messages: read state and canned replies."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import canned
from .cases import Case
from .registry import PracticeArea

User = settings.AUTH_USER_MODEL


class CaseRead(models.Model):
    """When a person last opened a case: the case is unread for them if it moved since.

    One row per person and case, written when they open it and when they act on it (what a
    person did themselves is never news to them).
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="case_reads")
    # Indexed by the unique constraint's (case, user) order, which serves "who read this case".
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reads", db_index=False)
    read_at = models.DateTimeField(_("read at"), default=timezone.now)

    class Meta:
        verbose_name = _("case read")
        verbose_name_plural = _("case reads")
        constraints = [
            models.UniqueConstraint(fields=["case", "user"], name="case_read_unique"),
        ]
        indexes = [models.Index(fields=["user", "case"], name="case_read_user")]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.case_id} · {self.read_at:%Y-%m-%d %H:%M}"


class CannedReply(models.Model):
    """A ready text for a reply, per area (or every area) and language, kept in the admin."""

    title = models.CharField(_("title"), max_length=120)
    area = models.ForeignKey(
        PracticeArea,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="canned_replies",
        verbose_name=_("area"),
        help_text=_("Leave empty to offer it in every area."),
    )
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    body = models.TextField(
        _("text"),
        help_text=_(
            "Placeholders: {{cooperative}}, {{requester}} and {{reference}} "
            "(or {{cooperativa}}, {{richiedente}}, {{riferimento}})."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "title"]
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        unknown = canned.unknown_placeholders(self.body)
        if unknown:
            raise ValidationError({"body": str(canned.UnknownPlaceholder(unknown))})
