"""Saved views of the staff case list: a name and the list's filters, private or shared."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .registry import PracticeArea

User = settings.AUTH_USER_MODEL


class SavedView(models.Model):
    """The filters and order of `/work/cases/` under a name, for its owner or for an area."""

    owner = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="saved_views", verbose_name=_("owner")
    )
    name = models.CharField(_("name"), max_length=80)
    # The list's query string as a dict of lists ({"status": ["assigned"], "sort": ["-due"]}).
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    shared_with_area = models.ForeignKey(
        PracticeArea,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="saved_views",
        verbose_name=_("shared with the area"),
        help_text=_("Empty: only its owner sees it."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_view_name_per_owner"),
        ]

    def __str__(self) -> str:
        return self.name
