"""People and their roles: members of cooperatives, consultants, supervisors, profiles."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .registry import Cooperative, Office, PracticeArea, Specialty

User = settings.AUTH_USER_MODEL


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
    # A person who leaves a cooperative is deactivated in it, never deleted: their cases keep
    # their requester and their history; an inactive membership grants nothing.
    is_active = models.BooleanField(_("active"), default=True)
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)

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


class UserProfile(models.Model):
    """Per-person preferences that the auth user does not carry (language, e-mails, timeline)."""

    class Notify(models.TextChoices):
        EACH = "each", _("An e-mail for each message")
        DIGEST = "digest", _("One e-mail a day listing the cases with new messages")

    class TimelineOrder(models.TextChoices):
        NEWEST = "newest", _("Newest first")
        OLDEST = "oldest", _("Oldest first")

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    notify = models.CharField(
        _("new messages by e-mail"), max_length=8, choices=Notify.choices, default=Notify.EACH
    )
    default_view = models.ForeignKey(
        "casework.SavedView",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("default view of the case list"),
    )
    timeline_order = models.CharField(
        _("timeline order"),
        max_length=8,
        choices=TimelineOrder.choices,
        default=TimelineOrder.NEWEST,
    )
    # The secret of the person's private calendar feed (deadlines); empty until asked for, a new
    # one revokes the old URL.
    calendar_token = models.CharField(
        _("calendar feed secret"), max_length=64, blank=True, default="", editable=False
    )

    class Meta:
        verbose_name = _("user profile")
        verbose_name_plural = _("user profiles")
        constraints = [
            models.UniqueConstraint(
                fields=["calendar_token"],
                condition=~Q(calendar_token=""),
                name="profile_calendar_token_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.language})"
