"""Sportello's domain model, one module per concern; every model is importable from here."""

from .accounts import CaseParticipant, Invitation
from .audit import CaseAccess, IdempotencyKey
from .calendars import BusinessCalendar, Closure, OpeningHours, SlaPolicy
from .cases import (
    Attachment,
    Case,
    CaseCounter,
    CaseEvent,
    CaseQuerySet,
    Message,
    Rating,
    SlaPause,
    attachment_path,
)
from .choices import PRIORITY_RANK, CaseStatus, Channel, Priority, SlaState
from .conversation import CannedReply, CaseRead
from .deadlines import Deadline, DeadlineKind, DeadlineReminder, RecurringObligation
from .hours import Estimate, ServicePlan, ServicePlanArea, TimeEntry
from .inbound import InboundEmail, Mailbox
from .ops import Heartbeat
from .outbox import Notification
from .people import Consultant, Membership, Supervisor, UserProfile
from .registry import Cooperative, Office, OutcomeCode, PracticeArea, Sector, Specialty, TriageRule
from .views import SavedView

__all__ = [
    "TimeEntry",
    "ServicePlanArea",
    "ServicePlan",
    "Estimate",
    "RecurringObligation",
    "DeadlineReminder",
    "DeadlineKind",
    "Deadline",
    "Invitation",
    "CaseParticipant",
    "Attachment",
    "BusinessCalendar",
    "Case",
    "CannedReply",
    "CaseAccess",
    "CaseRead",
    "Channel",
    "CaseCounter",
    "CaseEvent",
    "CaseQuerySet",
    "CaseStatus",
    "Closure",
    "Consultant",
    "Cooperative",
    "CaseStatus.FINAL",
    "Heartbeat",
    "IdempotencyKey",
    "InboundEmail",
    "Mailbox",
    "Membership",
    "Message",
    "Notification",
    "CaseStatus.OPEN",
    "OpeningHours",
    "Office",
    "OutcomeCode",
    "PRIORITY_RANK",
    "PracticeArea",
    "Priority",
    "Rating",
    "SavedView",
    "Sector",
    "SlaPause",
    "SlaPolicy",
    "SlaState",
    "Specialty",
    "Supervisor",
    "TriageRule",
    "UserProfile",
    "attachment_path",
]
