"""SLA policies and the offices' business calendars (opening hours and closures)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import Priority
from .registry import Office, PracticeArea

User = settings.AUTH_USER_MODEL


# --- SLA configuration ---------------------------------------------------------------------


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
