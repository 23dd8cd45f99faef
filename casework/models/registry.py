"""The federation's registry: offices, sectors, cooperatives, practice areas and their rules."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..validators import TaxCodeField, normalise_tax_code, validate_tax_code
from .choices import Priority

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
    class Kind(models.TextChoices):
        # The kinds the law treats apart (recurring obligations apply by kind: a social
        # cooperative is audited every year, the others every two).
        LABOUR = "labour", _("Production and labour")
        SOCIAL = "social", _("Social cooperative")
        CONSUMER = "consumer", _("Consumer")
        HOUSING = "housing", _("Housing")
        AGRICULTURAL = "agricultural", _("Agricultural")
        SERVICES = "services", _("Services")
        OTHER = "other", _("Other")

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
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.LABOUR)
    # Dates recurring obligations count from (casework.models.deadlines.RecurringObligation).
    founded_on = models.DateField(_("founded on"), null=True, blank=True)
    last_audit_on = models.DateField(_("last audit (revisione) on"), null=True, blank=True)
    statements_approved_on = models.DateField(
        _("financial statements last approved on"), null=True, blank=True
    )
    # A merger (fusione per incorporazione, `services.cooperatives.merge_cooperatives`): the
    # cooperative that absorbed this one, and when. The row stays, ceased, for its history.
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="absorbed",
        verbose_name=_("merged into"),
        editable=False,
    )
    merged_at = models.DateTimeField(_("merged at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("cooperative")
        verbose_name_plural = _("cooperatives")
        constraints = [
            models.CheckConstraint(
                condition=Q(membership_status__in=["active", "suspended", "ceased"]),
                name="cooperative_membership_status_valid",
            ),
            # A merger is recorded whole: whom it merged into and when, or neither.
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True, merged_at__isnull=True)
                | Q(merged_into__isnull=False, merged_at__isnull=False),
                name="cooperative_merger_recorded_whole",
            ),
            models.CheckConstraint(
                condition=~Q(merged_into=models.F("pk")),
                name="cooperative_not_merged_into_itself",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.tax_code = normalise_tax_code(self.tax_code)


def parse_day_list(value: str) -> list[int]:
    """`"3, 7"` → [3, 7]; raises ValueError for anything but whole days from 1 to 60."""
    days = set()
    for part in (value or "").split(","):
        part = part.strip()
        if not part:
            continue
        if not (part.isascii() and part.isdigit()) or not 1 <= int(part) <= 60:
            raise ValueError(part)
        days.add(int(part))
    return sorted(days)


def validate_day_list(value: str) -> None:
    try:
        parse_day_list(value)
    except ValueError as bad:
        raise ValidationError(
            _("Write whole business days from 1 to 60 separated by commas, e.g. 3,7 (not “%(v)s”).")
            % {"v": bad.args[0]}
        ) from bad


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
    waiting_reminder_days = models.CharField(
        _("reminders while waiting on the cooperative (business days)"),
        max_length=40,
        default="3,7",
        validators=[validate_day_list],
        help_text=_(
            "Business days after a request for information at which the cooperative is "
            "reminded, separated by commas (e.g. 3,7); empty for none."
        ),
    )
    deadline_reminder_days = models.CharField(
        _("deadline reminders (days before)"),
        max_length=40,
        default="30,7,1",
        validators=[validate_day_list],
        help_text=_(
            "Calendar days before a deadline at which its responsible consultant (and the "
            "cooperative, when it is shared) are reminded, separated by commas; empty for none."
        ),
    )
    auto_close_warning_days = models.PositiveSmallIntegerField(
        _("warning before closing by itself (business days)"),
        default=2,
        validators=[MaxValueValidator(30)],
        help_text=_(
            "Business days before a resolved case closes by itself at which the cooperative is "
            "warned; 0 for no warning."
        ),
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

    @property
    def waiting_reminders(self) -> list[int]:
        """The business days of `waiting_reminder_days`, ascending, each once."""
        return parse_day_list(self.waiting_reminder_days)


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
