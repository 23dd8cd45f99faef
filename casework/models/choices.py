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


class Channel(models.TextChoices):
    """How a case reached the federation."""

    PORTAL = "portal", _("Portal")
    API = "api", _("API")
    EMAIL = "email", _("E-mail")
    PEC = "pec", _("PEC")
    PHONE = "phone", _("Phone")
    DESK = "desk", _("At the desk")


class CaseStatus(models.TextChoices):
    TRIAGE = "triage", _("In triage")
    UNASSIGNED = "unassigned", _("Unassigned")
    ASSIGNED = "assigned", _("Assigned")
    WAITING = "waiting", _("Waiting for the cooperative")
    RESOLVED = "resolved", _("Resolved, awaiting confirmation")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")
    REJECTED = "rejected", _("Rejected")


# The named sets of statuses, each the one home of its rule (attributes of the type, set once the
# members exist; they are not members themselves). In the order of the process.
S = CaseStatus
#: Not finished: on someone's desk, or awaiting the cooperative's answer or confirmation.
CaseStatus.OPEN = (S.TRIAGE, S.UNASSIGNED, S.ASSIGNED, S.WAITING, S.RESOLVED)
#: Finished for good: no more messages, no more moves.
CaseStatus.FINAL = (S.CLOSED, S.CANCELLED, S.REJECTED)
#: The SLA clocks run (the case waits on the federation, not on the cooperative).
CaseStatus.RUNNING = (S.TRIAGE, S.UNASSIGNED, S.ASSIGNED)
#: Held by a consultant and counted in their load.
CaseStatus.ACTIVE = (S.ASSIGNED, S.WAITING)
#: Has an assignee, always (a database constraint).
CaseStatus.WORKED = (S.ASSIGNED, S.WAITING, S.RESOLVED)
#: Resolved by a consultant, confirmed or not yet.
CaseStatus.RESOLUTION_REACHED = (S.RESOLVED, S.CLOSED)
#: Stopped without a resolution.
CaseStatus.STOPPED = (S.CANCELLED, S.REJECTED)
del S


class SlaState(models.TextChoices):
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    BREACHED = "breached", _("Breached")
    PAUSED = "paused", _("Paused")
    MET = "met", _("Met")
