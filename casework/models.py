"""Sportello's domain model: the federation's registry, people and roles, cases and their SLA."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .validators import TaxCodeField, normalise_tax_code, validate_tax_code

User = settings.AUTH_USER_MODEL


# --- The federation's registry -------------------------------------------------------------


class Office(models.Model):
    """A territorial office; its code is the province code, also the `holidays` subdivision."""

    code = models.CharField(_("province code"), max_length=4, unique=True)
    name = models.CharField(_("name"), max_length=100)
    city = models.CharField(_("city"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("territorial office")
        verbose_name_plural = _("territorial offices")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Sector(models.Model):
    """A sectoral association of the federation (agri-food, social cooperatives, ...)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["name"]
        verbose_name = _("sector")
        verbose_name_plural = _("sectors")

    def __str__(self) -> str:
        return self.name


class Cooperative(models.Model):
    class MembershipStatus(models.TextChoices):
        ACTIVE = "active", _("Active member")
        SUSPENDED = "suspended", _("Suspended")
        CEASED = "ceased", _("Ceased")

    name = models.CharField(_("name"), max_length=200)
    tax_code = TaxCodeField(
        _("tax code (partita IVA)"), max_length=11, unique=True, validators=[validate_tax_code]
    )
    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="cooperatives", verbose_name=_("office")
    )
    sector = models.ForeignKey(
        Sector, on_delete=models.PROTECT, related_name="cooperatives", verbose_name=_("sector")
    )
    membership_status = models.CharField(
        _("membership status"),
        max_length=12,
        choices=MembershipStatus.choices,
        default=MembershipStatus.ACTIVE,
    )
    joined_on = models.DateField(_("member since"), null=True, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("cooperative")
        verbose_name_plural = _("cooperatives")
        constraints = [
            models.CheckConstraint(
                condition=Q(membership_status__in=["active", "suspended", "ceased"]),
                name="cooperative_membership_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.tax_code = normalise_tax_code(self.tax_code)


class PracticeArea(models.Model):
    """A kind of assistance the federation offers (legal, fiscal, startup, hr, training)."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    reference_prefix = models.CharField(
        _("reference prefix"),
        max_length=5,
        unique=True,
        help_text=_("Letters that start the case references of this area, e.g. LEG."),
    )
    description = models.TextField(_("description"), blank=True)
    usual_documents = models.TextField(
        _("documents usually needed"),
        blank=True,
        help_text=_("Shown to cooperatives when they open a case in this area."),
    )
    default_priority = models.CharField(
        _("priority when no triage rule matches"),
        max_length=8,
        choices=[
            ("low", _("Low")),
            ("normal", _("Normal")),
            ("high", _("High")),
            ("urgent", _("Urgent")),
        ],
        blank=True,
        help_text=_(
            "Leave empty to send cases that no triage rule decides to a supervisor for triage."
        ),
    )
    confirmation_days = models.PositiveSmallIntegerField(
        _("business days to confirm a resolution"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("After these business days without an answer the case closes by itself."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("practice area")
        verbose_name_plural = _("practice areas")
        constraints = [
            models.CheckConstraint(
                condition=Q(reference_prefix__regex=r"^[A-Z]{2,5}$"),
                name="area_reference_prefix_letters",
                violation_error_message=_("The reference prefix must be 2 to 5 capital letters."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Specialty(models.Model):
    area = models.ForeignKey(
        PracticeArea, on_delete=models.CASCADE, related_name="specialties", verbose_name=_("area")
    )
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["area__position", "name"]
        verbose_name = _("specialty")
        verbose_name_plural = _("specialties")
        constraints = [
            models.UniqueConstraint(fields=["area", "code"], name="specialty_code_unique_in_area"),
        ]

    def __str__(self) -> str:
        return self.name


class OutcomeCode(models.Model):
    """How a case of an area ended (opinion issued, filing done, referred outside, ...)."""

    area = models.ForeignKey(
        PracticeArea, on_delete=models.CASCADE, related_name="outcomes", verbose_name=_("area")
    )
    code = models.SlugField(_("code"), max_length=40)
    label = models.CharField(_("label"), max_length=120)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["area__position", "label"]
        verbose_name = _("outcome code")
        verbose_name_plural = _("outcome codes")
        constraints = [
            models.UniqueConstraint(fields=["area", "code"], name="outcome_code_unique_in_area"),
        ]

    def __str__(self) -> str:
        return self.label


# --- People and roles ----------------------------------------------------------------------


class Membership(models.Model):
    """A user acting for a cooperative."""

    class Role(models.TextChoices):
        LEGAL_REPRESENTATIVE = "legal_rep", _("Legal representative")
        REFERENT = "referent", _("Referent")
        MEMBER = "member", _("Member")

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    cooperative = models.ForeignKey(
        Cooperative,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("cooperative"),
    )
    role = models.CharField(_("role"), max_length=12, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["cooperative__name"]
        verbose_name = _("cooperative membership")
        verbose_name_plural = _("cooperative memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "cooperative"],
                name="membership_unique_per_cooperative",
                violation_error_message=_("This person is already a member of this cooperative."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.cooperative}"


class Consultant(models.Model):
    """An expert who works cases of some practice areas from a territorial office."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="consultant", verbose_name=_("user")
    )
    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="consultants", verbose_name=_("office")
    )
    areas = models.ManyToManyField(
        PracticeArea, related_name="consultants", verbose_name=_("practice areas")
    )
    specialties = models.ManyToManyField(
        Specialty, related_name="consultants", blank=True, verbose_name=_("specialties")
    )
    capacity = models.PositiveSmallIntegerField(
        _("capacity (active cases)"),
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(500)],
    )
    absent_until = models.DateField(
        _("absent until (included)"),
        null=True,
        blank=True,
        help_text=_("Routing skips the consultant up to and including this date."),
    )
    # Kept by the case services so that routing reads it instead of counting cases.
    active_cases = models.PositiveIntegerField(_("active cases"), default=0, editable=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["user__username"]
        verbose_name = _("consultant")
        verbose_name_plural = _("consultants")
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__gte=1),
                name="consultant_capacity_positive",
                violation_error_message=_("Capacity must be at least one case."),
            ),
        ]

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    def is_absent_on(self, day) -> bool:
        return self.absent_until is not None and self.absent_until >= day


class Supervisor(models.Model):
    """Watches SLAs and assigns work, for some practice areas or for all of them."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="supervisor", verbose_name=_("user")
    )
    all_areas = models.BooleanField(_("supervises every area"), default=False)
    areas = models.ManyToManyField(
        PracticeArea, related_name="supervisors", blank=True, verbose_name=_("practice areas")
    )

    class Meta:
        ordering = ["user__username"]
        verbose_name = _("supervisor")
        verbose_name_plural = _("supervisors")

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()


# --- SLA configuration ---------------------------------------------------------------------


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class SlaPolicy(models.Model):
    """Targets in business minutes for the cases of one area at one priority."""

    area = models.ForeignKey(
        PracticeArea, on_delete=models.CASCADE, related_name="sla_policies", verbose_name=_("area")
    )
    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices)
    first_response_minutes = models.PositiveIntegerField(
        _("first response target (business minutes)"), validators=[MinValueValidator(1)]
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution target (business minutes)"), validators=[MinValueValidator(1)]
    )
    warning_percent = models.PositiveSmallIntegerField(
        _("warning threshold (percentage elapsed)"),
        default=75,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )

    class Meta:
        ordering = ["area__position", "priority"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.UniqueConstraint(
                fields=["area", "priority"],
                name="sla_policy_unique_area_priority",
                violation_error_message=_("This area already has a policy for this priority."),
            ),
            models.CheckConstraint(
                condition=Q(warning_percent__gte=1, warning_percent__lte=100),
                name="sla_policy_warning_percent_range",
                violation_error_message=_("The warning threshold must be between 1 and 100 %."),
            ),
            models.CheckConstraint(
                condition=Q(first_response_minutes__gte=1, resolution_minutes__gte=1),
                name="sla_policy_targets_positive",
                violation_error_message=_("SLA targets must be at least one business minute."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.area} · {self.get_priority_display()}"

    def clean(self) -> None:
        if (
            self.first_response_minutes
            and self.resolution_minutes
            and self.first_response_minutes > self.resolution_minutes
        ):
            raise ValidationError(
                {
                    "first_response_minutes": _(
                        "The first response target cannot be longer than the resolution target."
                    )
                }
            )


class BusinessCalendar(models.Model):
    """Opening hours and closures of one territorial office (Europe/Rome)."""

    office = models.OneToOneField(
        Office, on_delete=models.CASCADE, related_name="calendar", verbose_name=_("office")
    )
    observe_national_holidays = models.BooleanField(_("closed on national holidays"), default=True)
    observe_patron_day = models.BooleanField(
        _("closed on the patron saint's day"),
        default=True,
        help_text=_("The province's patron day, from the office's province code."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return str(_("Calendar of %(office)s") % {"office": self.office.name})


class OpeningHours(models.Model):
    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="opening_hours"
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens_at = models.TimeField(_("opens at"))
    closes_at = models.TimeField(_("closes at"))

    class Meta:
        ordering = ["weekday", "opens_at"]
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")),
                name="opening_hours_close_after_open",
                violation_error_message=_("Closing time must be after opening time."),
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="opening_hours_weekday_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}–{self.closes_at:%H:%M}"


class Closure(models.Model):
    """An extra closure of an office (e.g. Christmas Eve afternoon, a strike, a move)."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="closures"
    )
    starts_at = models.DateTimeField(_("closed from"))
    ends_at = models.DateTimeField(_("closed until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="closure_ends_after_start",
                violation_error_message=_("A closure must end after it starts."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} → {self.ends_at:%Y-%m-%d %H:%M}"


# --- Cases ---------------------------------------------------------------------------------


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


class CaseQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def for_cooperatives(self, cooperative_ids):
        return self.filter(cooperative_id__in=cooperative_ids)

    def in_areas(self, area_ids):
        return self.filter(area_id__in=area_ids)


class CaseCounter(models.Model):
    """The last number handed out per area prefix and year; gaps are tolerated, duplicates not."""

    prefix = models.CharField(max_length=5)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
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
    subject = models.CharField(_("subject"), max_length=200)
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
    minutes_spent = models.PositiveIntegerField(_("minutes spent"), default=0)

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
            # entries (at a million cases, its largest cooperative's eleven thousand cases were
            # a page of the table each, per query).
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
            # Foreign keys only a deletion looks up (PROTECT): only cases that have one are in
            # them, so an open case without an outcome (or a specialty) skips them on every
            # SLA write (issue 7's recompute is bound by the writes into these indexes).
            models.Index(
                fields=["outcome"], name="case_outcome", condition=Q(outcome__isnull=False)
            ),
            models.Index(
                fields=["specialty"], name="case_specialty", condition=Q(specialty__isnull=False)
            ),
            # Every column the SLA summary and the dashboard's backlog read of an open case, so
            # their counts are index-only scans of the open cases (at a million cases, reading
            # their rows meant a page of the table each: 0.7 s for the summary).
            models.Index(
                fields=["area", "sla_state", "status", "cooperative", "id"],
                name="case_open_summary",
                condition=Q(status__in=OPEN_STATUSES),
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
                    condition=Q(
                        status__in=["triage", "unassigned", "assigned"],
                        clock_running_since__isnull=False,
                        **{f"{clock}_{mark}_at__isnull": True},
                        **(
                            {"first_response_at__isnull": True} if clock == "first_response" else {}
                        ),
                    ),
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
                condition=~Q(status__in=["assigned", "waiting", "resolved"])
                | Q(assignee__isnull=False),
                name="case_worked_has_assignee",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(rejection_reason=""),
                name="case_rejected_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} · {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

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
        SLA_RECOMPUTED = "sla_recomputed", _("SLA due times recomputed")
        SLA_PAUSED = "sla_paused", _("SLA clock paused")
        SLA_RESUMED = "sla_resumed", _("SLA clock resumed")
        SLA_AT_RISK = "sla_at_risk", _("SLA at risk")
        SLA_BREACHED = "sla_breached", _("SLA breached")
        FOLLOW_UP = "follow_up", _("Follow-up by a supervisor")

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

    def __str__(self) -> str:
        return f"{self.case_id}: {self.score}/5"


class TriageRule(models.Model):
    """Decides the priority of a new case of an area without a supervisor (keyword or specialty)."""

    area = models.ForeignKey(
        PracticeArea, on_delete=models.CASCADE, related_name="triage_rules", verbose_name=_("area")
    )
    keyword = models.CharField(
        _("keyword"),
        max_length=80,
        blank=True,
        help_text=_("Matches when the subject or description contains it (any case)."),
    )
    specialty = models.ForeignKey(
        Specialty, on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("specialty")
    )
    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["area", "position", "id"]
        verbose_name = _("triage rule")
        verbose_name_plural = _("triage rules")
        constraints = [
            models.CheckConstraint(
                condition=~Q(keyword="") | Q(specialty__isnull=False),
                name="triage_rule_has_condition",
                violation_error_message=_("A rule needs a keyword, a specialty or both."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.area}: {self.keyword or self.specialty} → {self.get_priority_display()}"

    def clean(self) -> None:
        if self.specialty_id and self.area_id and self.specialty.area_id != self.area_id:
            raise ValidationError({"specialty": _("The specialty belongs to another area.")})


class IdempotencyKey(models.Model):
    """Remembers the case an intake request created, so that a retried request returns it."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique"),
        ]

    def __str__(self) -> str:
        return self.key


class UserProfile(models.Model):
    """Per-person preferences that the auth user does not carry (language of e-mails)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )

    class Meta:
        verbose_name = _("user profile")
        verbose_name_plural = _("user profiles")

    def __str__(self) -> str:
        return f"{self.user} ({self.language})"


class Notification(models.Model):
    """An e-mail to send, written in the same transaction as the change it reports (outbox).

    The delivery task sends pending rows after the commit, so a rolled-back change never
    e-mails anyone and a failed e-mail never rolls a change back; `dedupe_key` makes each
    transition notify each person once.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    recipient = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    email = models.EmailField(_("e-mail"))
    kind = models.CharField(_("kind"), max_length=40)
    # Empty until delivery for the SLA watch's rows, which carry `context` for the template.
    subject = models.CharField(_("subject"), max_length=250, blank=True)
    body = models.TextField(_("text"), blank=True)
    context = models.JSONField(_("template context"), default=dict, blank=True)
    dedupe_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(
                fields=["created_at"],
                name="notification_pending",
                condition=Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.email}"


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
