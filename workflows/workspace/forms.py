"""Forms of the workspace besides the composer (`composer.py`): each feeds one process call."""

from __future__ import annotations

from django import forms
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from casework import limits
from casework.models import (
    Case,
    Consultant,
    PracticeArea,
    Priority,
    Specialty,
)

TEXT_ROWS = 4


class WorkspaceForm(forms.Form):
    """A form whose invalid inputs say so to assistive technology, not only in colour.

    Rendered by templates/workspace/form.html (the form renderer does not read project templates).
    """

    def add_error(self, field, error):
        super().add_error(field, error)
        for name in self.errors:
            if name not in self.fields:
                continue
            auto_id = self[name].auto_id
            described_by = [f"{auto_id}_errors"]
            if self.fields[name].help_text:
                described_by.append(f"{auto_id}_helptext")
            self.fields[name].widget.attrs.update(
                {"aria-invalid": "true", "aria-describedby": " ".join(described_by)}
            )


def _text(label, *, required=True, max_length=limits.LONG_TEXT, help_text="", rows=TEXT_ROWS):
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class AcknowledgeForm(WorkspaceForm):
    body = _text(
        _("Message to the cooperative"),
        required=False,
        help_text=_("Leave empty to send the standard acknowledgement."),
        rows=3,
    )


class TriageForm(WorkspaceForm):
    area = forms.ModelChoiceField(label=_("Practice area"), queryset=PracticeArea.objects.none())
    specialty = forms.ModelChoiceField(
        label=_("Specialty"),
        queryset=Specialty.objects.none(),
        required=False,
        empty_label=_("No specialty"),
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)

    def __init__(self, *args, case: Case, area_ids, **kwargs):
        kwargs.setdefault(
            "initial",
            {"area": case.area_id, "specialty": case.specialty_id, "priority": case.priority},
        )
        super().__init__(*args, **kwargs)
        areas = PracticeArea.objects.filter(is_active=True)
        if area_ids is not None:
            areas = areas.filter(pk__in=area_ids)
        self.fields["area"].queryset = areas
        specialty = self.fields["specialty"]
        specialty.queryset = Specialty.objects.filter(area__in=areas).select_related("area")
        # The same specialty name can exist in two areas: say which one it belongs to.
        specialty.label_from_instance = lambda s: f"{s.area.name} · {s.name}"

    def clean(self):
        data = super().clean()
        area, specialty = data.get("area"), data.get("specialty")
        if area and specialty and specialty.area_id != area.pk:
            self.add_error("specialty", _("The specialty belongs to another area."))
        return data


class RejectForm(WorkspaceForm):
    reason = forms.ChoiceField(
        label=_("Reason"), choices=Case.RejectionReason.choices, widget=forms.RadioSelect
    )
    explanation = _text(
        _("Explanation for the cooperative"),
        max_length=limits.REASON,
        help_text=_("The cooperative reads it."),
    )


def consultant_label(consultant: Consultant, *, today=None) -> str:
    """How a supervisor weighs a consultant: office, load against capacity, absence."""
    today = today or timezone.localdate()
    name = consultant.user.get_full_name() or consultant.user.get_username()
    parts = [
        f"{name} ({consultant.office.code})",
        ngettext(
            "%(load)d of %(capacity)d active case",
            "%(load)d of %(capacity)d active cases",
            consultant.capacity,
        )
        % {"load": consultant.active_cases, "capacity": consultant.capacity},
    ]
    if consultant.active_cases >= consultant.capacity:
        parts.append(str(_("at capacity")))
    if consultant.is_absent_on(today):
        parts.append(str(_("absent until %(day)s")) % {"day": date_filter(consultant.absent_until)})
    return " · ".join(parts)


class AssignForm(WorkspaceForm):
    consultant = forms.ModelChoiceField(
        label=_("Consultant"),
        queryset=Consultant.objects.none(),
        help_text=_("Consultants of the case's area, with their load and absences."),
    )

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["consultant"]
        field.queryset = (
            Consultant.objects.filter(areas=case.area_id, is_active=True, user__is_active=True)
            .exclude(user_id=case.assignee_id)
            .select_related("user", "office")
            .order_by("active_cases", "user__username")
        )
        today = timezone.localdate()
        field.label_from_instance = lambda c: consultant_label(c, today=today)


class PriorityForm(WorkspaceForm):
    priority = forms.ChoiceField(label=_("New priority"), choices=Priority.choices)

    def __init__(self, *args, case: Case, **kwargs):
        kwargs.setdefault("initial", {"priority": case.priority})
        super().__init__(*args, **kwargs)


class CancelForm(WorkspaceForm):
    reason = _text(
        _("Reason for cancelling"),
        max_length=limits.REASON,
        help_text=_("The cooperative is told this reason."),
        rows=3,
    )


class FollowUpForm(WorkspaceForm):
    note = _text(
        _("What was done about the rating"),
        max_length=limits.REASON,
        help_text=_("Kept with the case's history for the federation's staff."),
    )
