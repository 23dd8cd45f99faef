"""The dashboard's filters (area, office, consultant, period), read from the URL and kept there."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from casework import reports
from casework.models import Consultant, Office
from casework.roles import roles_of

FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(9999, 12, 30)


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def period_presets(today: date) -> list[tuple[str, str, date, date]]:
    """(code, label, since, until) of the periods one picks most: a federation reports by
    quarter and by year."""
    quarter = _quarter_start(today)
    previous_end = quarter - timedelta(days=1)
    return [
        ("30d", _("Last 30 days"), today - timedelta(days=29), today),
        ("90d", _("Last 90 days"), today - timedelta(days=89), today),
        ("quarter", _("This quarter"), quarter, today),
        ("last_quarter", _("Last quarter"), _quarter_start(previous_end), previous_end),
        ("year", _("This year"), date(today.year, 1, 1), today),
        ("last_year", _("Last year"), date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
    ]


class DashboardFilterForm(forms.Form):
    area = forms.ChoiceField(label=_("Area"), required=False)
    office = forms.ChoiceField(label=_("Office"), required=False)
    consultant = forms.ChoiceField(label=_("Consultant"), required=False)
    period = forms.ChoiceField(label=_("Period"), required=False)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, data, *, user, today: date):
        super().__init__(data)
        self.today = today
        self.areas = {area.code: area for area in reports.scoped_areas(user).order_by("position")}
        self.fields["area"].choices = [("", _("All areas"))] + [
            (code, area.name) for code, area in self.areas.items()
        ]
        self.offices = {office.code: office for office in Office.objects.order_by("code")}
        self.fields["office"].choices = [("", _("All offices"))] + [
            (code, office.name) for code, office in self.offices.items()
        ]
        consultants = Consultant.objects.filter(is_active=True).select_related("user")
        if not roles_of(user).supervises_all:
            consultants = consultants.filter(areas__in=list(self.areas.values())).distinct()
        self.consultants = {
            c.user.username: c for c in consultants.order_by("user__last_name", "user__username")
        }
        self.fields["consultant"].choices = [("", _("All consultants"))] + [
            (username, c.user.get_full_name() or username)
            for username, c in self.consultants.items()
        ]
        self.presets = period_presets(today)
        self.fields["period"].choices = (
            [("", _("Last 90 days"))]
            + [(code, label) for code, label, _s, _u in self.presets]
            + [("custom", _("Dates below"))]
        )

    def clean(self):
        data = super().clean()
        for name in ("since", "until"):
            day = data.get(name)
            if day is not None and not FIRST_DAY <= day <= LAST_DAY:
                self.add_error(name, _("Choose a date between 1900 and 9999."))
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end date is before the start date."))
        return data

    def scope(self) -> reports.Scope:
        """The filters as a report scope; what is invalid is left out (the form shows why)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        since, until = data.get("since"), data.get("until")
        preset = data.get("period")
        for code, _label, preset_since, preset_until in self.presets:
            if code == preset:
                since, until = preset_since, preset_until
        area = self.areas.get(data.get("area") or "")
        office = self.offices.get(data.get("office") or "")
        consultant = self.consultants.get(data.get("consultant") or "")
        return reports.Scope(
            area_id=area.pk if area else None,
            office_id=office.pk if office else None,
            assignee_id=consultant.user_id if consultant else None,
            since=since,
            until=until,
        )

    def list_filters(self) -> dict[str, str]:
        """The same filters in the staff case list's parameters (area and office by code,
        assignee by username), for the links of the tiles and counts."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        filters = {}
        if data.get("area") in self.areas:
            filters["area"] = data["area"]
        if data.get("office") in self.offices:
            filters["office"] = data["office"]
        if data.get("consultant") in self.consultants:
            filters["assignee"] = data["consultant"]
        return filters


class PeriodForm(forms.Form):
    """The period of a cooperative report: a preset or two dates (both optional, both included)."""

    period = forms.ChoiceField(label=_("Period"), required=False)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, data, *, today: date):
        super().__init__(data)
        self.presets = period_presets(today)
        self.fields["period"].choices = (
            [("", _("Every case"))]
            + [(code, label) for code, label, _s, _u in self.presets]
            + [("custom", _("Dates below"))]
        )

    def clean(self):
        data = super().clean()
        for name in ("since", "until"):
            day = data.get(name)
            if day is not None and not FIRST_DAY <= day <= LAST_DAY:
                self.add_error(name, _("Choose a date between 1900 and 9999."))
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end date is before the start date."))
        return data

    def chosen(self) -> tuple[date | None, date | None]:
        """(since, until) chosen; nothing of what is invalid (the form says why)."""
        if not (self.is_bound and self.is_valid()):
            return None, None
        data = self.cleaned_data
        for code, _label, since, until in self.presets:
            if code == data.get("period"):
                return since, until
        return data.get("since"), data.get("until")
