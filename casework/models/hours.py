"""Hours: what a cooperative's membership includes, the time consultants record, estimates."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .cases import Case
from .registry import Cooperative, PracticeArea

User = settings.AUTH_USER_MODEL


class ServicePlan(models.Model):
    """The hours of consulting a cooperative's membership includes in a year."""

    cooperative = models.ForeignKey(
        Cooperative,
        on_delete=models.CASCADE,
        related_name="service_plans",
        verbose_name=_("cooperative"),
    )
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    # Hours in total; per-area hours (ServicePlanArea) are counted on their own and, when the
    # plan has no total, are all it includes.
    hours_included = models.DecimalField(
        _("hours included in total"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    effective_from = models.DateField(_("effective from"))
    effective_until = models.DateField(_("effective until"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["cooperative__name", "-year"]
        verbose_name = _("service plan")
        verbose_name_plural = _("service plans")
        constraints = [
            models.UniqueConstraint(fields=["cooperative", "year"], name="service_plan_per_year"),
            models.CheckConstraint(
                condition=Q(effective_until__gte=models.F("effective_from")),
                name="service_plan_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cooperative} · {self.year}"


class ServicePlanArea(models.Model):
    plan = models.ForeignKey(
        ServicePlan, on_delete=models.CASCADE, related_name="areas", verbose_name=_("plan")
    )
    area = models.ForeignKey(
        PracticeArea, on_delete=models.PROTECT, related_name="+", verbose_name=_("practice area")
    )
    hours_included = models.DecimalField(_("hours included"), max_digits=7, decimal_places=2)

    class Meta:
        verbose_name = _("hours of an area")
        verbose_name_plural = _("hours per area")
        constraints = [
            models.UniqueConstraint(fields=["plan", "area"], name="service_plan_area_once"),
        ]

    def __str__(self) -> str:
        return f"{self.plan} · {self.area}"


class Estimate(models.Model):
    """Hours beyond the plan that a consultant proposes and the cooperative accepts or declines.

    While one is pending the case waits on the cooperative (status `waiting`, SLA paused with
    reason `estimate`), a step of the case's viewflow process.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the cooperative")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="estimates", verbose_name=_("case")
    )
    minutes = models.PositiveIntegerField(
        _("minutes"), validators=[MinValueValidator(1), MaxValueValidator(100 * 60)]
    )
    note = models.TextField(_("note"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    proposed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("proposed by")
    )
    proposed_at = models.DateTimeField(_("proposed at"), default=timezone.now)
    answered_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answer_note = models.TextField(_("answer note"), blank=True)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        verbose_name = _("estimate")
        verbose_name_plural = _("estimates")
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status="pending"),
                name="estimate_one_pending_per_case",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} · {self.minutes} min · {self.status}"


class TimeEntry(models.Model):
    """Time a consultant spent on a case."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="time_entries", verbose_name=_("case")
    )
    # Empty only for the totals migrated from before time entries existed with nobody assigned.
    consultant = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="time_entries",
        verbose_name=_("consultant"),
    )
    day = models.DateField(_("date"))
    minutes = models.PositiveIntegerField(
        _("minutes"), validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    billable = models.BooleanField(_("billable"), default=True)
    # The estimate the cooperative accepted for work beyond its plan, if this is such work.
    estimate = models.ForeignKey(
        Estimate,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="entries",
        verbose_name=_("accepted estimate"),
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["day", "id"]
        verbose_name = _("time entry")
        verbose_name_plural = _("time entries")
        indexes = [
            models.Index(fields=["day"], name="time_entry_day"),
            models.Index(fields=["consultant", "day"], name="time_entry_consultant"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(minutes__gte=1), name="time_entry_minutes_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} · {self.day} · {self.minutes} min"
