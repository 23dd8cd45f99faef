"""The staff's page of one cooperative: profile, people, latest cases, figures, report links."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from casework import case_links, hours
from casework.cooperatives import (
    RECENT_CASES,
    absorbed_by,
    cooperative_figures,
    cooperative_for_staff,
    people_of,
    recent_cases,
)
from casework.models import SlaState
from casework.presenters import sla_summary

from .views import staff_required


def _billing_url(now) -> str:
    """The billing file of this year so far (every cooperative the supervisor sees)."""
    today = timezone.localdate(now)
    return (
        f"{reverse('work:billing_csv')}?since={today.replace(month=1, day=1).isoformat()}"
        f"&until={today.isoformat()}"
    )


@staff_required
@require_GET
def cooperative_page(request, pk: int):
    """Any staff member may open any cooperative (staff serve them all); the cases listed and
    counted are those the reader may see. Members are refused (403) by `staff_required`."""
    cooperative = cooperative_for_staff(request.user, pk)
    if cooperative is None:
        raise Http404(_("No such cooperative."))
    now = timezone.now()
    cases = recent_cases(request.user, cooperative)
    figures = cooperative_figures(request.user, cooperative, today=timezone.localdate(now))
    rows = [
        {
            "case": case,
            "url": reverse("work:case", args=[case.pk]),
            "sla": sla_summary(case, now=now),
            "unread": bool(case.unread),
        }
        for case in cases
    ]
    return render(
        request,
        "workspace/cooperative.html",
        {
            "cooperative": cooperative,
            "people": people_of(cooperative),
            "absorbed": absorbed_by(cooperative),
            "rows": rows,
            "recent_limit": RECENT_CASES,
            "figures": figures,
            "hours": hours.plan_usage(cooperative, timezone.localdate(now).year),
            "billing_url": _billing_url(now) if hours.may_bill(request.user) else None,
            "links": {
                "all_cases": case_links.case_list_url(cooperative=cooperative.pk),
                "open": case_links.open_cases_url(cooperative=cooperative.pk),
                "breached": case_links.open_cases_url(
                    sla=SlaState.BREACHED, cooperative=cooperative.pk
                ),
                "report": reverse("report-cooperative", args=[cooperative.pk]),
                "csv": reverse("report-cooperative-csv", args=[cooperative.pk]),
            },
            "section": "cooperatives",
        },
    )
