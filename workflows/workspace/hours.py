"""The workspace's hours: correcting or deleting a time entry, and the billing file of a period.

Time is recorded with the composer ("Record time only", or minutes with any action); the case
page's hours panel (`casework.hours.case_panel`) lists the entries, and its forms post here.
The billing file (`/work/reports/billing.csv?since=&until=`) is for supervisors: one row per
time entry of the cases they see, dated in the period.
"""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from casework import csvexport, hours, limits
from casework.errors import CaseError
from workflows import process

from .forms import WorkspaceForm
from .views import _visible_case, staff_required

# The longest period one billing file covers: a few years of entries, streamed.
MAX_BILLING_DAYS = 3 * 366


class TimeEntryChangeForm(WorkspaceForm):
    minutes = forms.IntegerField(
        label=gettext_lazy("Minutes"), min_value=1, max_value=limits.ENTRY_MINUTES
    )
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=limits.ENTRY_NOTE)
    billable = forms.BooleanField(label=gettext_lazy("Billable"), required=False)


def _back(case) -> str:
    return reverse("work:case", args=[case.pk]) + "#hours"


def _refused(request, case, error: CaseError):
    messages.error(request, error.message)
    return redirect(_back(case))


@staff_required
@require_POST
def entry_change(request, case_id, entry_id):
    case = _visible_case(request.user, case_id)
    form = TimeEntryChangeForm(request.POST, prefix=f"entry-{entry_id}")
    if not form.is_valid():
        words = "; ".join(
            f"{form.fields[name].label}: {' '.join(errors)}"
            if name in form.fields
            else " ".join(errors)
            for name, errors in form.errors.items()
        )
        messages.error(request, _("The time entry was not changed. %(why)s") % {"why": words})
        return redirect(_back(case))
    try:
        process.time_entry_change(
            case=case, entry=entry_id, actor=request.user, **form.cleaned_data
        )
    except CaseError as refused:
        return _refused(request, case, refused)
    messages.success(request, _("Time entry changed on %(ref)s.") % {"ref": case.reference})
    return redirect(_back(case))


@staff_required
@require_POST
def entry_delete(request, case_id, entry_id):
    case = _visible_case(request.user, case_id)
    try:
        process.time_entry_delete(case=case, entry=entry_id, actor=request.user)
    except CaseError as refused:
        return _refused(request, case, refused)
    messages.success(request, _("Time entry deleted from %(ref)s.") % {"ref": case.reference})
    return redirect(_back(case))


class BillingPeriodForm(forms.Form):
    since = forms.DateField(input_formats=["%Y-%m-%d"])
    until = forms.DateField(input_formats=["%Y-%m-%d"])

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until:
            if until < since:
                raise forms.ValidationError(_("`until` comes before `since`."))
            if (until - since).days > MAX_BILLING_DAYS:
                raise forms.ValidationError(
                    _("One file covers at most %(days)d days.") % {"days": MAX_BILLING_DAYS}
                )
        return data


def billing_period(params) -> tuple[date, date] | str:
    """The period asked for, or what is wrong with it (one line)."""
    form = BillingPeriodForm(params)
    if form.is_valid():
        return form.cleaned_data["since"], form.cleaned_data["until"]
    problems = []
    for name, errors in form.errors.items():
        prefix = f"{name}: " if name != "__all__" else ""
        problems.append(prefix + " ".join(errors))
    return _("Give the period as since=YYYY-MM-DD&until=YYYY-MM-DD. %(problems)s") % {
        "problems": " ".join(problems)
    }


@staff_required
@require_GET
def billing_csv(request):
    """The time entries of a period, one row each, for supervisors; a bad period is a 400."""
    if not hours.may_bill(request.user):
        raise PermissionDenied
    period = billing_period(request.GET)
    if isinstance(period, str):
        return HttpResponse(period, status=400, content_type="text/plain; charset=utf-8")
    since, until = period
    return csvexport.streaming_csv(
        hours.billing_rows(request.user, since=since, until=until),
        filename=f"billing-{since.isoformat()}-{until.isoformat()}.csv",
    )
