"""Operations records: when each periodic job last completed, for the health endpoint."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """The last completed run of a periodic job: one row per job, overwritten by each run.

    `/health/` reads it by primary key to tell whether beat and the workers still run the job.
    """

    class Job(models.TextChoices):
        SLA_SWEEP = "sla_sweep", _("SLA sweep")

    job = models.CharField(_("job"), max_length=40, choices=Job.choices, primary_key=True)
    completed_at = models.DateTimeField(_("last completed at"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.job} @ {self.completed_at:%Y-%m-%d %H:%M:%S}"
