"""Django admin for federation administrators: registry, people, SLA setup; cases read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline

from . import models, tasks
from .admin_imports import (
    ConsultantResource,
    CooperativeResource,
    ImportExportAdmin,
    MembershipResource,
)
from .admin_merge import CooperativeMergeAdmin
from .admin_people import deactivate_memberships  # also registers InvitationAdmin
from .services.mail_intake import mail_take
from .services.obligations import obligation_check
from .sla.clocks import CLOCK_FIELDS
from .validators import normalise_tax_code

admin.site.site_header = _("Sportello administration")
admin.site.site_title = _("Sportello administration")
admin.site.index_title = _("Federation registry and configuration")

User = get_user_model()

# What an administrator may correct on a case; everything else is owned by the services.
CASE_EDITABLE_FIELDS = ["specialty", "subject", "description", "resolution_summary"]


# --- Shared building blocks ------------------------------------------------------------------


class ReadOnlyAdminMixin:
    """Rows written only by the domain services: administrators may look, never edit."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AppendOnlyAdminMixin(ReadOnlyAdminMixin):
    """The audit trail: not even deleted from the admin."""

    def has_delete_permission(self, request, obj=None):
        return False


def _names(objects) -> str:
    return ", ".join(str(obj) for obj in objects)


# --- Forms -------------------------------------------------------------------------------------


class TaxCodeField(forms.CharField):
    """Accepts the partita IVA as people type it ("IT 00488410010") and keeps the 11 digits."""

    def to_python(self, value):
        value = super().to_python(value)
        return normalise_tax_code(value) if value else value


class CooperativeAdminForm(forms.ModelForm):
    # Longer than the stored 11 digits so that a pasted "IT 00488410010" fits before normalising.
    tax_code = TaxCodeField(
        label=models.Cooperative._meta.get_field("tax_code").verbose_name,
        max_length=20,
        help_text=_("11 digits; spaces and the IT prefix are removed."),
    )

    class Meta:
        model = models.Cooperative
        fields = [
            "name",
            "tax_code",
            "office",
            "sector",
            "membership_status",
            "joined_on",
            "city",
            "email",
        ]


class ConsultantAdminForm(forms.ModelForm):
    class Meta:
        model = models.Consultant
        fields = ["user", "office", "areas", "specialties", "capacity", "absent_until", "is_active"]
        error_messages = {
            "areas": {"required": _("A consultant needs at least one practice area.")},
        }

    def clean(self):
        cleaned = super().clean()
        areas = cleaned.get("areas")
        specialties = cleaned.get("specialties")
        if areas and specialties:
            area_ids = {area.pk for area in areas}
            stray = [specialty for specialty in specialties if specialty.area_id not in area_ids]
            if stray:
                self.add_error(
                    "specialties",
                    _(
                        "These specialties belong to areas the consultant does not work in: "
                        "%(specialties)s."
                    )
                    % {"specialties": _names(stray)},
                )
        return cleaned


class SupervisorAdminForm(forms.ModelForm):
    class Meta:
        model = models.Supervisor
        fields = ["user", "all_areas", "areas"]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("all_areas") and not cleaned.get("areas") and "areas" not in self.errors:
            self.add_error(
                "areas",
                _("Choose at least one practice area, or tick “supervises every area”."),
            )
        return cleaned


class TriageRuleAdminForm(forms.ModelForm):
    class Meta:
        model = models.TriageRule
        fields = ["area", "keyword", "specialty", "priority", "position", "is_active"]

    def clean(self):
        cleaned = super().clean()
        specialty = cleaned.get("specialty")
        # Inside the practice area page the area comes from the parent, not from the form.
        area = cleaned.get("area") or (self.instance.area if self.instance.area_id else None)
        if specialty is not None and area is not None and specialty.area_id != area.pk:
            self.add_error("specialty", _("The specialty belongs to another area."))
        return cleaned


class OpeningHoursFormSet(BaseInlineFormSet):
    """Refuses overlapping opening intervals on the same weekday, which the SLA clock cannot use."""

    def clean(self):
        super().clean()
        intervals: dict[int, list[tuple]] = {}
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or not form.cleaned_data:
                continue
            if form.cleaned_data.get("DELETE"):
                continue
            weekday = form.cleaned_data.get("weekday")
            opens_at = form.cleaned_data.get("opens_at")
            closes_at = form.cleaned_data.get("closes_at")
            if weekday is None or opens_at is None or closes_at is None:
                continue
            for other_open, other_close in intervals.get(weekday, []):
                if opens_at < other_close and other_open < closes_at:
                    raise forms.ValidationError(
                        _("Opening hours of %(weekday)s overlap.")
                        % {"weekday": models.OpeningHours.Weekday(weekday).label}
                    )
            intervals.setdefault(weekday, []).append((opens_at, closes_at))


class CaseAdminForm(forms.ModelForm):
    class Meta:
        model = models.Case
        fields = CASE_EDITABLE_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "specialty" in self.fields and self.instance.area_id:
            self.fields["specialty"].queryset = models.Specialty.objects.filter(
                area_id=self.instance.area_id
            )


# --- The federation's registry -----------------------------------------------------------------


@admin.register(models.Office)
class OfficeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "city", "email", "has_calendar"]
    search_fields = ["code", "name", "city"]
    list_select_related = ["calendar"]

    @admin.display(boolean=True, description=_("business calendar"))
    def has_calendar(self, obj):
        return hasattr(obj, "calendar")


@admin.register(models.Sector)
class SectorAdmin(TranslationAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


class CooperativeMembershipInline(admin.TabularInline):
    model = models.Membership
    fk_name = "cooperative"
    extra = 0
    fields = ["user", "role", "created_at"]
    autocomplete_fields = ["user"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


@admin.register(models.Cooperative)
class CooperativeAdmin(ImportExportAdmin, CooperativeMergeAdmin):
    resource_classes = [CooperativeResource]
    form = CooperativeAdminForm
    list_display = ["name", "tax_code", "office", "sector", "membership_status", "city"]
    list_filter = ["membership_status", "office", "sector"]
    search_fields = ["name", "=tax_code", "city", "email"]
    list_select_related = ["office", "sector"]
    # Written by a merger only (`admin_merge`): shown, never edited.
    readonly_fields = ["merged_into", "merged_at"]
    inlines = [CooperativeMembershipInline]
    actions = ["merge_into_another"]


class SpecialtyInline(TranslationTabularInline):
    model = models.Specialty
    extra = 0
    fields = ["code", "name"]


class OutcomeCodeInline(TranslationTabularInline):
    model = models.OutcomeCode
    extra = 0
    fields = ["code", "label", "is_active"]


class SlaPolicyInline(admin.TabularInline):
    model = models.SlaPolicy
    extra = 0
    max_num = len(models.Priority.choices)
    fields = ["priority", "first_response_minutes", "resolution_minutes", "warning_percent"]


class TriageRuleInline(admin.TabularInline):
    model = models.TriageRule
    form = TriageRuleAdminForm
    extra = 0
    fields = ["position", "keyword", "specialty", "priority", "is_active"]

    def get_formset(self, request, obj=None, **kwargs):
        # Only the specialties of the area being edited make sense in its rules.
        self._parent_area = obj
        return super().get_formset(request, obj, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "specialty":
            area = getattr(self, "_parent_area", None)
            kwargs["queryset"] = (
                models.Specialty.objects.filter(area=area)
                if area is not None
                else models.Specialty.objects.none()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(models.PracticeArea)
class PracticeAreaAdmin(TranslationAdmin):
    list_display = ["name", "code", "reference_prefix", "is_active", "position"]
    list_filter = ["is_active"]
    search_fields = ["name", "code", "reference_prefix"]
    inlines = [SpecialtyInline, OutcomeCodeInline, SlaPolicyInline, TriageRuleInline]

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is models.SlaPolicy and formset.has_changed():
            _schedule_recompute(area_id=form.instance.pk)


@admin.register(models.Specialty)
class SpecialtyAdmin(TranslationAdmin):
    list_display = ["name", "code", "area"]
    list_filter = ["area"]
    search_fields = ["name", "code", "area__name"]
    list_select_related = ["area"]


@admin.register(models.OutcomeCode)
class OutcomeCodeAdmin(TranslationAdmin):
    list_display = ["label", "code", "area", "is_active"]
    list_filter = ["area", "is_active"]
    search_fields = ["label", "code"]
    list_select_related = ["area"]


@admin.register(models.CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    """Ready texts offered in the case page's composer; the model's `clean` refuses a
    placeholder that does not exist, so the admin form shows it next to the text."""

    list_display = ["title", "area", "language", "is_active", "position"]
    list_filter = ["area", "language", "is_active"]
    list_editable = ["is_active", "position"]
    search_fields = ["title", "body"]
    list_select_related = ["area"]
    fields = ["title", "area", "language", "body", "is_active", "position"]


# --- People and roles --------------------------------------------------------------------------


@admin.register(models.Membership)
class MembershipAdmin(ImportExportAdmin, admin.ModelAdmin):
    resource_classes = [MembershipResource]
    list_display = ["user", "cooperative", "role", "created_at", "is_active", "left_at"]
    list_filter = ["role", "is_active", "cooperative__office"]
    actions = [deactivate_memberships]
    search_fields = [
        "user__username",
        "user__first_name",
        "user__last_name",
        "user__email",
        "cooperative__name",
        "=cooperative__tax_code",
    ]
    list_select_related = ["user", "cooperative"]
    autocomplete_fields = ["user", "cooperative"]


@admin.register(models.Consultant)
class ConsultantAdmin(ImportExportAdmin, admin.ModelAdmin):
    resource_classes = [ConsultantResource]
    form = ConsultantAdminForm
    list_display = [
        "__str__",
        "office",
        "area_names",
        "capacity",
        "active_cases",
        "absent_until",
        "is_active",
    ]
    list_filter = ["is_active", "office", "areas"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__email"]
    list_select_related = ["user", "office"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["areas", "specialties"]
    readonly_fields = ["active_cases"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("areas")

    @admin.display(description=models.Consultant._meta.get_field("areas").verbose_name)
    def area_names(self, obj):
        return _names(obj.areas.all())


@admin.register(models.Supervisor)
class SupervisorAdmin(admin.ModelAdmin):
    form = SupervisorAdminForm
    list_display = ["__str__", "all_areas", "area_names"]
    list_filter = ["all_areas", "areas"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__email"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["areas"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("areas")

    @admin.display(description=models.Supervisor._meta.get_field("areas").verbose_name)
    def area_names(self, obj):
        return _names(obj.areas.all())


@admin.register(models.UserProfile)
class UserProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "language"]
    list_filter = ["language"]
    search_fields = ["user__username", "user__email"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]


class UserMembershipInline(admin.TabularInline):
    model = models.Membership
    fk_name = "user"
    extra = 0
    fields = ["cooperative", "role", "created_at"]
    autocomplete_fields = ["cooperative"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("cooperative")


class UserConsultantInline(admin.StackedInline):
    model = models.Consultant
    form = ConsultantAdminForm
    fk_name = "user"
    max_num = 1
    fields = ["office", "areas", "specialties", "capacity", "absent_until", "is_active"]
    filter_horizontal = ["areas", "specialties"]


class UserSupervisorInline(admin.StackedInline):
    model = models.Supervisor
    form = SupervisorAdminForm
    fk_name = "user"
    max_num = 1
    fields = ["all_areas", "areas"]
    filter_horizontal = ["areas"]


class UserProfileInline(admin.StackedInline):
    model = models.UserProfile
    fk_name = "user"
    max_num = 1
    fields = ["language"]


# The stock user admin plus the roles a person holds in Sportello, edited on the same page.
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [UserMembershipInline, UserConsultantInline, UserSupervisorInline, UserProfileInline]


# --- SLA configuration -------------------------------------------------------------------------


@admin.register(models.SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "area",
        "priority",
        "first_response_minutes",
        "resolution_minutes",
        "warning_percent",
    ]
    list_filter = ["area", "priority"]
    search_fields = ["area__name", "area__code"]
    list_select_related = ["area"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # Open cases of this area and priority get due instants from the new targets.
        _schedule_recompute(area_id=obj.area_id, priority=obj.priority)


@admin.register(models.TriageRule)
class TriageRuleAdmin(admin.ModelAdmin):
    form = TriageRuleAdminForm
    list_display = ["area", "position", "keyword", "specialty", "priority", "is_active"]
    list_filter = ["area", "priority", "is_active"]
    search_fields = ["keyword", "specialty__name"]
    list_select_related = ["area", "specialty"]


# --- Recurring obligations (casework.services.obligations) -------------------------------------


class RecurringObligationAdminForm(forms.ModelForm):
    cooperative_kinds = forms.MultipleChoiceField(
        label=_("cooperative kinds"),
        choices=models.Cooperative.Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every cooperative."),
    )

    class Meta:
        model = models.RecurringObligation
        fields = [
            "name",
            "area",
            "rule",
            "anchor",
            "start_date",
            "interval_months",
            "within_days",
            "deadline_kind",
            "cooperative_kinds",
            "open_case_days_before",
            "shared",
            "is_active",
            "position",
        ]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        candidate = models.RecurringObligation(
            **{name: cleaned.get(name) for name in self.Meta.fields if name != "area"}
        )
        candidate.area = cleaned.get("area")
        try:
            obligation_check(candidate)
        except forms.ValidationError as refused:
            for name, messages in refused.message_dict.items():
                for message in messages:
                    self.add_error(name if name in self.fields else None, message)
        return cleaned


@admin.register(models.RecurringObligation)
class RecurringObligationAdmin(admin.ModelAdmin):
    form = RecurringObligationAdminForm
    list_display = [
        "name",
        "area",
        "rule",
        "anchor",
        "interval_months",
        "within_days",
        "deadline_kind",
        "open_case_days_before",
        "is_active",
    ]
    list_filter = ["area", "rule", "deadline_kind", "is_active"]
    search_fields = ["name"]
    list_select_related = ["area"]
    actions = ["generate_now"]

    @admin.action(description=_("Generate their deadlines and cases now"))
    def generate_now(self, request, queryset):
        # In the background: a new obligation may open a case for each cooperative at once.
        ids = list(queryset.filter(is_active=True).values_list("pk", flat=True))
        if ids:
            tasks.generate_obligations.delay_on_commit(obligation_ids=ids)
        self.message_user(
            request,
            _(
                "Generating the deadlines of %(count)d active obligations in the background; "
                "`manage.py generate_obligations --dry-run` shows what a run does."
            )
            % {"count": len(ids)},
            messages.SUCCESS,
        )


class OpeningHoursInline(admin.TabularInline):
    model = models.OpeningHours
    formset = OpeningHoursFormSet
    extra = 0
    fields = ["weekday", "opens_at", "closes_at"]


class ClosureInline(admin.TabularInline):
    model = models.Closure
    extra = 0
    fields = ["starts_at", "ends_at", "reason"]


@admin.register(models.BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["__str__", "observe_national_holidays", "observe_patron_day", "updated_at"]
    list_filter = ["observe_national_holidays", "observe_patron_day"]
    search_fields = ["office__name", "office__code"]
    list_select_related = ["office"]
    inlines = [OpeningHoursInline, ClosureInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Opening hours and closures live in inlines: mark the calendar changed so every process
        # rebuilds it, then move the due instants of the office's open cases.
        calendar = form.instance
        models.BusinessCalendar.objects.filter(pk=calendar.pk).update(updated_at=timezone.now())
        _schedule_recompute(office_id=calendar.office_id)


# --- Cases (looked at here, worked in the app) ---------------------------------------------------


class MessageInline(admin.StackedInline):
    """Messages may be corrected or removed (moderation); new replies are written in the app."""

    model = models.Message
    extra = 0
    fields = ["author", "internal", "created_at", "body"]
    readonly_fields = ["author", "internal", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


class AttachmentInline(AppendOnlyAdminMixin, admin.TabularInline):
    model = models.Attachment
    extra = 0
    # The file itself is served only through the app's permission check, never by a bare URL.
    fields = ["original_name", "content_type", "size", "internal", "uploaded_by", "created_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")


class CaseEventInline(AppendOnlyAdminMixin, admin.TabularInline):
    model = models.CaseEvent
    extra = 0
    fields = ["created_at", "kind", "actor", "before", "after", "note"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class SlaPauseInline(AppendOnlyAdminMixin, admin.TabularInline):
    model = models.SlaPause
    extra = 0
    fields = ["reason", "started_at", "ended_at"]
    readonly_fields = fields


class RatingInline(AppendOnlyAdminMixin, admin.StackedInline):
    model = models.Rating
    extra = 0
    fields = ["score", "comment", "rated_by", "created_at"]
    readonly_fields = fields


class ParticipantInline(AppendOnlyAdminMixin, admin.TabularInline):
    """Participants are added and removed on the case (portal, workspace, API), each an event."""

    model = models.CaseParticipant
    extra = 0
    fields = ["user", "added_by", "created_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "added_by")


# The clock fields, the policy and the state first.
CASE_SLA_FIELDS = [
    "sla_policy",
    "sla_state",
    *(name for name in CLOCK_FIELDS if name not in ("sla_policy", "sla_state")),
]


@admin.register(models.Case)
class CaseAdmin(admin.ModelAdmin):
    """Cases are opened, moved and closed by the services (events, SLA, notifications).

    Here an administrator finds a case and corrects its wording; the state, the people and
    the clocks are read-only.
    """

    form = CaseAdminForm
    list_display = [
        "reference",
        "subject",
        "cooperative",
        "area",
        "priority",
        "status",
        "sla_state",
        "assignee",
        "created_at",
    ]
    list_filter = ["status", "priority", "sla_state", "channel", "area", "cooperative__office"]
    search_fields = ["=reference", "subject", "cooperative__name", "=cooperative__tax_code"]
    search_help_text = _("Exact reference, words of the subject, cooperative name or tax code.")
    list_select_related = ["cooperative", "area", "assignee"]
    # The primary key follows creation order and is indexed, unlike created_at alone.
    ordering = ["-id"]
    show_full_result_count = False
    list_per_page = 50
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "reference",
                    "cooperative",
                    "requester",
                    "area",
                    "specialty",
                    "subject",
                    "description",
                    "priority",
                    "status",
                    "assignee",
                    "channel",
                ]
            },
        ),
        (
            _("Resolution"),
            {"fields": ["outcome", "resolution_summary", "rejection_reason", "minutes_spent"]},
        ),
        (
            _("Dates"),
            {
                "fields": [
                    "created_at",
                    "updated_at",
                    "first_response_at",
                    "resolved_at",
                    "closed_at",
                    "confirmation_due_at",
                    "last_activity_at",
                ]
            },
        ),
        (_("SLA"), {"fields": CASE_SLA_FIELDS, "classes": ["collapse"]}),
    ]
    inlines = [
        MessageInline,
        AttachmentInline,
        ParticipantInline,
        SlaPauseInline,
        RatingInline,
        CaseEventInline,
    ]

    def get_readonly_fields(self, request, obj=None):
        editable = set(CASE_EDITABLE_FIELDS)
        return [
            name
            for fieldset in self.fieldsets
            for name in fieldset[1]["fields"]
            if name not in editable
        ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(
                "cooperative",
                "area",
                "assignee",
                "requester",
                "specialty",
                "outcome",
                "sla_policy__area",
            )
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.CaseEvent)
class CaseEventAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "case_reference", "kind", "actor", "note"]
    list_filter = ["kind"]
    search_fields = ["=case__reference"]
    search_help_text = _("Exact case reference.")
    list_select_related = ["case", "actor"]
    ordering = ["-id"]
    show_full_result_count = False
    list_per_page = 50
    fields = ["case", "created_at", "kind", "actor", "before", "after", "note"]
    readonly_fields = fields

    @admin.display(description=models.Case._meta.get_field("reference").verbose_name)
    def case_reference(self, obj):
        return obj.case.reference


@admin.register(models.Rating)
class RatingAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["case_reference", "score", "rated_by", "created_at"]
    list_filter = ["score"]
    search_fields = ["=case__reference"]
    list_select_related = ["case", "rated_by"]
    ordering = ["-id"]
    show_full_result_count = False
    fields = ["case", "score", "comment", "rated_by", "created_at"]
    readonly_fields = fields

    @admin.display(description=models.Case._meta.get_field("reference").verbose_name)
    def case_reference(self, obj):
        return obj.case.reference


@admin.register(models.Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "kind", "email", "subject", "status", "attempts", "sent_at"]
    list_filter = ["status", "kind"]
    search_fields = ["email", "subject", "=dedupe_key"]
    ordering = ["-id"]
    show_full_result_count = False
    fields = [
        "case",
        "recipient",
        "email",
        "kind",
        "subject",
        "body",
        "dedupe_key",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
        "claimed_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("case", "recipient")


@admin.register(models.CaseCounter)
class CaseCounterAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    """Shown so that numbering can be checked; edited, it would hand out duplicate references."""

    list_display = ["prefix", "year", "last_number"]
    list_filter = ["year"]
    fields = ["prefix", "year", "last_number"]
    readonly_fields = fields


@admin.register(models.IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "user", "key", "case"]
    search_fields = ["=key", "user__username", "=case__reference"]
    list_select_related = ["user", "case"]
    ordering = ["-id"]
    show_full_result_count = False
    fields = ["user", "key", "request_hash", "case", "created_at"]
    readonly_fields = fields


@admin.register(models.CaseAccess)
class CaseAccessAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    """Who of the staff read which case (GDPR accountability): to look at, never to edit."""

    list_display = ["accessed_at", "case_reference", "user", "channel"]
    list_filter = ["channel"]
    search_fields = ["=case__reference", "user__username"]
    search_help_text = _("Exact case reference, or a username.")
    list_select_related = ["case", "user"]
    ordering = ["-id"]
    show_full_result_count = False
    list_per_page = 50
    date_hierarchy = "accessed_at"
    fields = ["case", "user", "channel", "accessed_at"]
    readonly_fields = fields

    @admin.display(description=models.Case._meta.get_field("reference").verbose_name)
    def case_reference(self, obj):
        return obj.case.reference


@admin.register(models.SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    """Saved views of the staff case list (made on the list itself; here to look after them)."""

    list_display = ["name", "owner", "shared_with_area", "created_at"]
    list_filter = ["shared_with_area"]
    search_fields = ["name", "owner__username"]
    list_select_related = ["owner", "shared_with_area"]
    autocomplete_fields = ["owner"]
    readonly_fields = ["created_at"]


@admin.register(models.CaseRead)
class CaseReadAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    """When each person last opened a case (what makes a case unread for them): to look at."""

    list_display = ["read_at", "case_reference", "user"]
    search_fields = ["=case__reference", "user__username"]
    search_help_text = _("Exact case reference, or a username.")
    list_select_related = ["case", "user"]
    ordering = ["-read_at"]
    show_full_result_count = False
    list_per_page = 50
    fields = ["case", "user", "read_at"]
    readonly_fields = fields

    @admin.display(description=models.Case._meta.get_field("reference").verbose_name)
    def case_reference(self, obj):
        return obj.case.reference


def _schedule_recompute(**scope) -> None:
    """Recompute due instants in the background once the change that needs it has committed."""
    tasks.recompute_due_times.delay_on_commit(**scope)


@admin.register(models.Heartbeat)
class HeartbeatAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    """When each periodic job last completed (what `/health/` reads): to look at, never to edit."""

    list_display = ["job", "completed_at"]
    fields = ["job", "completed_at"]
    readonly_fields = fields


# --- Mail intake ---------------------------------------------------------------------------------


class MailboxAdminForm(forms.ModelForm):
    """The passwords are never shown back; left empty, the stored one is kept."""

    SECRET_FIELDS = ("password", "smtp_password")

    class Meta:
        model = models.Mailbox
        fields = "__all__"
        widgets = {
            "password": forms.PasswordInput(render_value=False),
            "smtp_password": forms.PasswordInput(render_value=False),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.SECRET_FIELDS:
            if getattr(self.instance, name, ""):
                self.fields[name].help_text = _("Stored. Leave empty to keep it.")

    def _keep_secret(self, name: str) -> str:
        return self.cleaned_data.get(name) or getattr(self.instance, name, "")

    def clean_password(self):
        return self._keep_secret("password")

    def clean_smtp_password(self):
        return self._keep_secret("smtp_password")


@admin.register(models.Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxAdminForm
    list_display = ["name", "address", "kind", "area", "is_pec", "is_enabled", "last_polled_at"]
    list_filter = ["kind", "is_pec", "is_enabled", "area"]
    search_fields = ["name", "address"]
    list_select_related = ["area"]
    readonly_fields = ["last_polled_at", "polling_until", "last_error"]
    fieldsets = [
        (None, {"fields": ["name", "address", "kind", "area", "is_pec", "is_enabled"]}),
        (
            _("IMAP"),
            {"fields": ["host", "port", "use_tls", "username", "password", "folder"]},
        ),
        (_("Maildir"), {"fields": ["path"]}),
        (
            _("SMTP for PEC answers"),
            {
                "fields": [
                    "smtp_host",
                    "smtp_port",
                    "smtp_use_ssl",
                    "smtp_username",
                    "smtp_password",
                ]
            },
        ),
        (_("Status"), {"fields": ["last_polled_at", "polling_until", "last_error"]}),
    ]


@admin.register(models.InboundEmail)
class InboundEmailAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    """Each message taken from a mailbox: what it became, or its error; failed ones retried."""

    list_display = [
        "received_at",
        "status",
        "from_address",
        "subject",
        "mailbox",
        "case_reference",
        "attempts",
    ]
    list_filter = ["status", "mailbox", "is_pec"]
    search_fields = ["=header_message_id", "from_address", "subject"]
    search_help_text = _("Exact Message-ID, a sender's address or words of the subject.")
    list_select_related = ["mailbox", "case"]
    ordering = ["-received_at", "-id"]
    show_full_result_count = False
    list_per_page = 50
    actions = ["take_again"]
    fields = [
        "mailbox",
        "header_message_id",
        "status",
        "ignored_reason",
        "received_at",
        "from_name",
        "from_address",
        "subject",
        "original",
        "size",
        "is_pec",
        "certified",
        "case",
        "message",
        "receipt_for",
        "cooperative",
        "decided_by",
        "decided_at",
        "decision_note",
        "error",
        "attempts",
    ]
    readonly_fields = fields

    @admin.display(description=models.Case._meta.get_field("reference").verbose_name)
    def case_reference(self, obj):
        return obj.case.reference if obj.case_id else "—"

    @admin.display(description=_("original message"))
    def original(self, obj):
        # Through the workspace's checked download, never a public URL of the stored file.
        url = reverse("work:mail_original", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download the .eml"))

    @admin.action(description=_("Try again to take the failed messages"))
    def take_again(self, request, queryset):
        """Each failed message taken again from its stored original, as the next poll would
        (`mail_take` retries a failed row of the same Message-ID); the others are left alone."""
        failed = list(queryset.filter(status=models.InboundEmail.Status.FAILED))
        taken = 0
        for inbound in failed:
            try:
                with inbound.raw.open("rb") as original:
                    raw = original.read()
            except (OSError, ValueError):
                self.message_user(
                    request,
                    _("The original of %(message)s is no longer stored.") % {"message": inbound},
                    level=messages.WARNING,
                )
                continue
            again = mail_take(mailbox=inbound.mailbox, raw=raw, received_at=inbound.received_at)
            if again.status != models.InboundEmail.Status.FAILED:
                taken += 1
        self.message_user(
            request,
            _("%(taken)d of %(total)d failed messages taken.")
            % {"taken": taken, "total": len(failed)},
            level=messages.SUCCESS if taken == len(failed) else messages.WARNING,
        )


# --- Hours: service plans, time entries, estimates ------------------------------------------


class ServicePlanAreaInline(admin.TabularInline):
    model = models.ServicePlanArea
    extra = 0
    fields = ["area", "hours_included"]
    autocomplete_fields = ["area"]


@admin.register(models.ServicePlan)
class ServicePlanAdmin(admin.ModelAdmin):
    """The hours a cooperative's membership includes in a year: in total (for every area without
    hours of its own) and per area. What was used is on the cooperative's page and in the API."""

    list_display = [
        "cooperative",
        "year",
        "hours_included",
        "effective_from",
        "effective_until",
        "area_hours",
    ]
    list_filter = ["year", "cooperative__office"]
    search_fields = ["cooperative__name", "=cooperative__tax_code"]
    autocomplete_fields = ["cooperative"]
    list_select_related = ["cooperative"]
    inlines = [ServicePlanAreaInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("areas__area")

    @admin.display(description=_("hours per area"))
    def area_hours(self, obj):
        return ", ".join(f"{row.area.code} {row.hours_included}" for row in obj.areas.all()) or "—"


@admin.register(models.TimeEntry)
class TimeEntryAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    """Time entries are recorded and corrected on the case (workspace, API): the sum on the case
    and the events follow them there, so here they are read only."""

    list_display = ["case", "consultant", "day", "minutes", "billable", "estimate"]
    list_filter = ["billable", "day", "case__area"]
    search_fields = ["=case__reference", "case__cooperative__name", "consultant__username"]
    list_select_related = ["case", "consultant", "estimate"]
    date_hierarchy = "day"


@admin.register(models.Estimate)
class EstimateAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    """Estimates move their case (it waits on the cooperative): proposed and answered on the case
    only, so here they are read only."""

    list_display = ["case", "minutes", "status", "proposed_by", "proposed_at", "answered_at"]
    list_filter = ["status"]
    search_fields = ["=case__reference", "case__cooperative__name"]
    list_select_related = ["case", "proposed_by"]


class DeadlineReminderInline(admin.TabularInline):
    model = models.DeadlineReminder
    extra = 0
    fields = ["days_before", "sent_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(models.Deadline)
class DeadlineAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Deadlines are added, changed and marked done on their case (workspace, API), where the
    date is computed and each change is an event; the reminders sent are listed below each."""

    list_display = ["due_on", "title", "case", "cooperative", "area", "responsible", "status"]
    list_filter = ["status", "kind", "area", "shared"]
    search_fields = ["=case__reference", "title", "cooperative__name", "responsible__username"]
    list_select_related = ["case", "cooperative", "area", "responsible"]
    date_hierarchy = "due_on"
    inlines = [DeadlineReminderInline]
