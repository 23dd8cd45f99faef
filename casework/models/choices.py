"""The codes a case carries (status, priority, SLA state) and the named sets of them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

User = settings.AUTH_USER_MODEL


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class CaseStatus(models.TextChoices):
    TRIAGE = "triage", _("In triage")
    UNASSIGNED = "unassigned", _("Unassigned")
    ASSIGNED = "assigned", _("Assigned")
    WAITING = "waiting", _("Waiting for the cooperative")
    RESOLVED = "resolved", _("Resolved, awaiting confirmation")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")
    REJECTED = "rejected", _("Rejected")


OPEN_STATUSES = (
    CaseStatus.TRIAGE,
    CaseStatus.UNASSIGNED,
    CaseStatus.ASSIGNED,
    CaseStatus.WAITING,
    CaseStatus.RESOLVED,
)
FINAL_STATUSES = (CaseStatus.CLOSED, CaseStatus.CANCELLED, CaseStatus.REJECTED)


class SlaState(models.TextChoices):
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    BREACHED = "breached", _("Breached")
    PAUSED = "paused", _("Paused")
    MET = "met", _("Met")
