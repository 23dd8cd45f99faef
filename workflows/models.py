"""viewflow processes that carry a case (and a supervisor's follow-up of a low rating)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process

from casework.models import Case


class CaseProcess(Process):
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="process")

    class Meta:
        verbose_name = _("case process")
        verbose_name_plural = _("case processes")


class FollowUpProcess(Process):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="follow_ups")
    note = models.TextField(_("supervisor's note"), blank=True)

    class Meta:
        verbose_name = _("follow-up of a low rating")
        verbose_name_plural = _("follow-ups of low ratings")
