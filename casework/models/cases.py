"""Cases and what hangs off them: messages, documents, events, SLA pauses, ratings."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import limits
from .calendars import SlaPolicy
from .choices import CaseStatus, Channel, Priority, SlaState
from .registry import Cooperative, OutcomeCode, PracticeArea, Specialty

User = settings.AUTH_USER_MODEL


# --- Cases ---------------------------------------------------------------------------------


def sla_watched(clock: str, mark: str) -> Q:
    """The cases the SLA watch still looks at for one transition (`mark`: warned or breached).

    Running cases whose clock is not yet marked; for the first response, only while it is
    pending. The watch's partial indexes hold exactly these, and the sweep's pick (ORM and SQL
    alike, `casework.sla.watch`) starts from this condition, so it is a range scan of them.
    """
    condition = {
        "status__in": list(CaseStatus.RUNNING),
        "clock_running_since__isnull": False,
        f"{clock}_{mark}_at__isnull": True,
    }
    if clock == "first_response":
        condition["first_response_at__isnull"] = True
    return Q(**condition)


def due_that_matters() -> models.Case:
    """The due instant of the clock a case's SLA is about (`sla.clocks.clock_that_matters`): the
    first response's while it is pending or if it came late, else the resolution's. Lists
    order by it; the index `case_open_due` holds it for the open cases of each area."""
    return models.Case(
        models.When(
            Q(first_response_due_at__isnull=False)
            & (
                Q(first_response_at__isnull=True)
                | Q(first_response_at__gt=models.F("first_response_due_at"))
            ),
            then=models.F("first_response_due_at"),
        ),
        default=models.F("resolution_due_at"),
        output_field=models.DateTimeField(),
    )


class CaseQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=CaseStatus.OPEN)


class CaseCounter(models.Model):
    """The last number handed out per area prefix and year; gaps are tolerated, duplicates not."""

    prefix = models.CharField(_("reference prefix"), max_length=5)
    year = models.PositiveSmallIntegerField(_("year"))
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("case counter")
        verbose_name_plural = _("case counters")
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="case_counter_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last_number}"


class Case(models.Model):
    class RejectionReason(models.TextChoices):
        OUT_OF_SCOPE = "out_of_scope", _("Out of scope")
        DUPLICATE = "duplicate", _("Duplicate of another case")

    reference = models.CharField(_("reference"), max_length=24, unique=True, editable=False)
    # cooperative, area and assignee have no index of their own: the composite indexes in Meta
    # start with them and serve their lookups and foreign key checks, and every index is one
    # more write on each SLA update of a case.
    cooperative = models.ForeignKey(
        Cooperative,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("cooperative"),
        db_index=False,
    )
    requester = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="requested_cases",
        verbose_name=_("requester"),
    )
    area = models.ForeignKey(
        PracticeArea,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("area"),
        db_index=False,
    )
    specialty = models.ForeignKey(
        Specialty,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("specialty"),
        db_index=False,  # case_specialty, partial
    )
    subject = models.CharField(_("subject"), max_length=limits.SUBJECT)
    description = models.TextField(_("description"))
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=12, choices=CaseStatus.choices, default=CaseStatus.TRIAGE
    )
    assignee = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_cases",
        verbose_name=_("assignee"),
        db_index=False,
    )
    outcome = models.ForeignKey(
        OutcomeCode,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("outcome"),
        db_index=False,  # case_outcome, partial
    )
    resolution_summary = models.TextField(_("resolution summary"), blank=True)
    rejection_reason = models.CharField(
        _("rejection reason"), max_length=20, choices=RejectionReason.choices, blank=True
    )
    # The sum of the case's time entries (casework.models.hours.TimeEntry), kept by the service
    # that records them so that lists and reports read one column.
    minutes_spent = models.PositiveIntegerField(_("minutes spent"), default=0)
    # Seen only by its requester, the cooperative's legal representatives, its participants
    # and staff of its area (casework.selectors.cases_visible_to).
    confidential = models.BooleanField(_("confidential"), default=False)
    channel = models.CharField(
        _("channel"), max_length=8, choices=Channel.choices, default=Channel.PORTAL
    )
    # The last public message or change of status (what makes a case unread for the others).
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now)
    # Full-text search documents, kept by database triggers on PostgreSQL (migration 0018):
    # what everyone who sees the case may find (reference, subject, description, public
    # messages), and what only staff may (internal notes, document names). Apart, so that a
    # member's search can never match a word of an internal note. The application never
    # writes them: the triggers keep the row's own values whatever a save sends.
    search_public = SearchVectorField(null=True, editable=False)
    search_staff = SearchVectorField(null=True, editable=False)

    created_at = models.DateTimeField(_("opened at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    confirmation_due_at = models.DateTimeField(_("closes by itself at"), null=True, blank=True)

    # SLA clocks, computed by the services at each event and stored so that "at risk" and
    # "breached" are indexed range queries rather than a computation over every open case.
    sla_policy = models.ForeignKey(
        SlaPolicy,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("SLA policy"),
        # Not indexed: only deleting a policy looks cases up by it (a rare scan), while every
        # SLA write of a case would pay for the index.
        db_index=False,
    )
    first_response_due_at = models.DateTimeField(_("first response due at"), null=True, blank=True)
    first_response_warn_at = models.DateTimeField(
        _("first response at risk from"), null=True, blank=True
    )
    resolution_due_at = models.DateTimeField(_("resolution due at"), null=True, blank=True)
    resolution_warn_at = models.DateTimeField(_("resolution at risk from"), null=True, blank=True)
    # Business seconds consumed before the current running stretch of each clock (seconds, so
    # that pausing and resuming many times never drifts by rounding).
    first_response_elapsed_seconds = models.PositiveIntegerField(
        _("first response: business seconds consumed"), default=0
    )
    resolution_elapsed_seconds = models.PositiveIntegerField(
        _("resolution: business seconds consumed"), default=0
    )
    # When the clocks last started running (None while paused or stopped).
    clock_running_since = models.DateTimeField(_("SLA clocks running since"), null=True, blank=True)
    sla_paused_at = models.DateTimeField(_("SLA clocks paused at"), null=True, blank=True)
    sla_state = models.CharField(
        _("SLA"), max_length=10, choices=SlaState.choices, default=SlaState.ON_TRACK
    )
    # Marks written once by the SLA sweep: each transition is notified exactly once.
    first_response_warned_at = models.DateTimeField(
        _("first response warning sent at"), null=True, blank=True
    )
    first_response_breached_at = models.DateTimeField(
        _("first response breach recorded at"), null=True, blank=True
    )
    resolution_warned_at = models.DateTimeField(
        _("resolution warning sent at"), null=True, blank=True
    )
    resolution_breached_at = models.DateTimeField(
        _("resolution breach recorded at"), null=True, blank=True
    )

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            # With what a cooperative's report and routing's continuity (who last helped it in
            # an area) read of each case, so both are index-only scans of that cooperative's
            # entries rather than a page of the table per case (bench/results.md).
            models.Index(
                fields=["cooperative", "-created_at"],
                name="case_coop_recent",
                include=[
                    "id",
                    "status",
                    "area",
                    "assignee",
                    "outcome",
                    "resolved_at",
                    "resolution_due_at",
                    "first_response_at",
                    "first_response_due_at",
                    "first_response_elapsed_seconds",
                    "resolution_elapsed_seconds",
                    "minutes_spent",
                ],
            ),
            models.Index(fields=["assignee", "status"], name="case_assignee_status"),
            models.Index(fields=["area", "status", "-created_at"], name="case_area_status"),
            models.Index(fields=["status", "-created_at"], name="case_status_recent"),
            models.Index(fields=["sla_state", "status"], name="case_sla_state"),
            # Lists sorted by activity (the inbox's, the staff list's) read it in order.
            models.Index(fields=["-last_activity_at", "-id"], name="case_last_activity"),
            # Foreign keys only a deletion looks up (PROTECT): only cases that have one are in
            # them, so an open case without an outcome (or a specialty) skips them on every
            # SLA write (a recompute's cost is the writes into the case's indexes).
            models.Index(
                fields=["outcome"], name="case_outcome", condition=Q(outcome__isnull=False)
            ),
            models.Index(
                fields=["specialty"], name="case_specialty", condition=Q(specialty__isnull=False)
            ),
            # Every column the SLA summary and the dashboard's backlog read of an open case, so
            # their counts are index-only scans of the open cases, not a page of the table per
            # case (bench/results.md).
            models.Index(
                fields=["area", "sla_state", "status", "cooperative", "id"],
                name="case_open_summary",
                condition=Q(status__in=CaseStatus.OPEN),
            ),
            # The staff list of an area's open cases, most urgent first (sort=due): read in
            # order and stopped at the page, not every open case sorted (50 → 1 ms for 16,000
            # cases at a million, bench/results.md).
            models.Index(
                models.F("area"),
                due_that_matters(),
                models.F("id"),
                name="case_open_due",
                condition=Q(status__in=CaseStatus.OPEN),
            ),
            # The dashboard's and the reports' periods: the cases resolved, answered, closed or
            # breached between two dates, each read from its own date's index with what the
            # figures group by (a scan of every case ever opened each, 160-250 ms at a million).
            # Partial: a new case has none of these dates, so an intake writes none of them.
            *(
                models.Index(
                    fields=[field],
                    include=["area", "cooperative", *extra],
                    name=name,
                    condition=Q(**{f"{field}__isnull": False}),
                )
                for field, name, extra in (
                    ("resolved_at", "case_resolved_on", ["status", "outcome"]),
                    ("first_response_at", "case_answered_on", ["first_response_elapsed_seconds"]),
                    ("closed_at", "case_closed_on", []),
                    ("first_response_breached_at", "case_fr_breached_on", []),
                    ("resolution_breached_at", "case_res_breached_on", []),
                )
            ),
            models.Index(
                fields=["confirmation_due_at"],
                name="case_confirmation_due",
                condition=Q(status="resolved"),
            ),
            # The SLA watch: each index holds only running cases not yet marked for its
            # transition, so the sweep's range scans touch only what is newly due.
            *[
                models.Index(
                    fields=[f"{clock}_{instant}_at"],
                    name=f"case_watch_{short}_{instant}",
                    condition=sla_watched(clock, mark),
                )
                for clock, short in (("first_response", "fr"), ("resolution", "res"))
                for instant, mark in (("warn", "warned"), ("due", "breached"))
            ],
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in CaseStatus]), name="case_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(priority__in=[p.value for p in Priority]), name="case_priority_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=list(CaseStatus.WORKED)) | Q(assignee__isnull=False),
                name="case_worked_has_assignee",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(rejection_reason=""),
                name="case_rejected_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} · {self.subject}"

    def clean(self) -> None:
        if self.specialty_id and self.area_id and self.specialty.area_id != self.area_id:
            raise ValidationError({"specialty": _("The specialty belongs to another area.")})
        if self.outcome_id and self.area_id and self.outcome.area_id != self.area_id:
            raise ValidationError({"outcome": _("The outcome belongs to another area.")})


class Message(models.Model):
    """A public reply on a case, or an internal note that only staff may read."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="case_messages"
    )
    body = models.TextField(_("text"))
    internal = models.BooleanField(_("internal note"), default=False)
    created_at = models.DateTimeField(_("written at"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [models.Index(fields=["case", "created_at"], name="message_case_time")]

    def __str__(self) -> str:
        return f"{self.case.reference} · {self.created_at:%Y-%m-%d %H:%M}"


def attachment_path(instance: Attachment, filename: str) -> str:
    now = timezone.now()
    return f"cases/{now:%Y/%m}/{instance.case_id}/{filename}"


class Attachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="attachments"
    )
    uploaded_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="case_attachments"
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=300)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=120)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64)
    internal = models.BooleanField(_("internal"), default=False)
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    # A signed document (a CAdES .p7m, a PAdES PDF) as far as its envelope could be read: kind,
    # inner file name, signers; empty for any other document.
    signature = models.JSONField(_("signature"), default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        indexes = [models.Index(fields=["case", "created_at"], name="attachment_case_time")]

    def __str__(self) -> str:
        return self.original_name


class CaseEvent(models.Model):
    """One row of a case's append-only audit trail: who did what, when, before and after."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Opened")
        TRIAGED = "triaged", _("Triaged")
        REJECTED = "rejected", _("Rejected")
        ROUTED = "routed", _("Routed")
        ROUTING_FAILED = "routing_failed", _("No consultant available")
        ASSIGNED = "assigned", _("Assigned")
        CLAIMED = "claimed", _("Claimed")
        RELEASED = "released", _("Released")
        HANDED_BACK = "handed_back", _("Handed back to a supervisor")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        REPLIED = "replied", _("Replied")
        NOTE_ADDED = "note_added", _("Internal note")
        ATTACHMENT_ADDED = "attachment_added", _("Document attached")
        TIME_RECORDED = "time_recorded", _("Time recorded")
        INFO_REQUESTED = "info_requested", _("Information requested")
        INFO_PROVIDED = "info_provided", _("Information provided")
        RESOLVED = "resolved", _("Resolved")
        CONFIRMED = "confirmed", _("Confirmed by the cooperative")
        REOPENED = "reopened", _("Reopened")
        AUTO_CLOSED = "auto_closed", _("Closed automatically")
        RATED = "rated", _("Rated")
        PRIORITY_CHANGED = "priority_changed", _("Priority changed")
        CANCELLED = "cancelled", _("Cancelled")
        WAITING_REMINDED = "waiting_reminded", _("Reminder sent to the cooperative")
        AUTO_CLOSE_WARNED = "auto_close_warned", _("Warned before closing by itself")
        SLA_RECOMPUTED = "sla_recomputed", _("SLA due times recomputed")
        SLA_PAUSED = "sla_paused", _("SLA clock paused")
        SLA_RESUMED = "sla_resumed", _("SLA clock resumed")
        SLA_AT_RISK = "sla_at_risk", _("SLA at risk")
        SLA_BREACHED = "sla_breached", _("SLA breached")
        FOLLOW_UP = "follow_up", _("Follow-up by a supervisor")
        EMAIL_RECEIVED = "email_received", _("E-mail received")
        ATTACHMENT_REFUSED = "attachment_refused", _("Document refused")
        PEC_RECEIPT = "pec_receipt", _("PEC receipt")
        MAIL_LINKED = "mail_linked", _("E-mail linked by a supervisor")
        CONFIDENTIALITY_CHANGED = "confidentiality_changed", _("Confidentiality changed")
        PARTICIPANT_ADDED = "participant_added", _("Participant added")
        PARTICIPANT_REMOVED = "participant_removed", _("Participant removed")
        DEADLINE_ADDED = "deadline_added", _("Deadline added")
        DEADLINE_CHANGED = "deadline_changed", _("Deadline changed")
        DEADLINE_DONE = "deadline_done", _("Deadline met")
        DEADLINE_MISSED = "deadline_missed", _("Deadline missed")
        DEADLINE_REMINDED = "deadline_reminded", _("Deadline reminder sent")
        ESTIMATE_PROPOSED = "estimate_proposed", _("Estimate proposed")
        ESTIMATE_ACCEPTED = "estimate_accepted", _("Estimate accepted")
        ESTIMATE_DECLINED = "estimate_declined", _("Estimate declined")
        COOPERATIVE_MERGED = "cooperative_merged", _("Cooperative merged into another")

    # Indexed by event_case_time, which starts with it.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events", db_index=False)
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="case_events"
    )
    kind = models.CharField(_("event"), max_length=24, choices=Kind.choices)
    created_at = models.DateTimeField(_("at"), default=timezone.now)
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        indexes = [
            models.Index(fields=["case", "created_at"], name="event_case_time"),
            models.Index(fields=["kind", "created_at"], name="event_kind_time"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} · {self.get_kind_display()} · {self.created_at:%Y-%m-%d %H:%M}"


class SlaPause(models.Model):
    """A stretch during which a case's clocks stood still, and why."""

    class Reason(models.TextChoices):
        INFO_REQUESTED = "info_requested", _("Waiting for information from the cooperative")
        AWAITING_CONFIRMATION = "awaiting_confirmation", _("Waiting for the cooperative to confirm")
        ESTIMATE = "estimate", _("Waiting for the cooperative to accept an estimate")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="sla_pauses")
    reason = models.CharField(_("reason"), max_length=24, choices=Reason.choices)
    started_at = models.DateTimeField(_("from"))
    ended_at = models.DateTimeField(_("until"), null=True, blank=True)

    class Meta:
        ordering = ["started_at"]
        verbose_name = _("SLA pause")
        verbose_name_plural = _("SLA pauses")
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(ended_at__isnull=True), name="sla_one_open_pause"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="sla_pause_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.reason} {self.started_at:%Y-%m-%d %H:%M}"


class Rating(models.Model):
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="rating")
    score = models.PositiveSmallIntegerField(
        _("score"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), blank=True)
    rated_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(_("rated at"), default=timezone.now)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5),
                name="rating_score_range",
                violation_error_message=_("The score must be from 1 to 5."),
            ),
        ]
        # The dashboard's low ratings of a period, newest first.
        indexes = [models.Index(fields=["created_at"], name="rating_created")]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.score}/5"
