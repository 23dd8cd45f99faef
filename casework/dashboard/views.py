"""Pages of the supervisor dashboard and the per-cooperative report (with its CSV export).

Figures come from `casework.reports`, computed in the database; the charts are server-drawn SVG.
"""

from __future__ import annotations

import csv

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from casework import case_links, csvexport, reports
from casework.models import CaseStatus, PracticeArea, SlaState
from casework.roles import roles_of
from casework.selectors import (
    cases_visible_to,
)

from . import charts

# --- Supervisor dashboard ------------------------------------------------------------------


def _dashboard_charts(data: dict) -> dict:
    history = data["backlog_history"]
    week = data["week"]
    compliance = data["compliance"]
    outcomes = data["outcomes"]
    return {
        "backlog": charts.line_chart(
            [row["day"] for row in history],
            [(_("Open cases"), [row["backlog"] for row in history])],
            title=_("Open cases at the end of each day, last %(n)d days") % {"n": len(history)},
            label_header=_("Day"),
        ),
        "week": charts.column_chart(
            [row["day"] for row in week],
            [
                (_("Cases opened"), [row["opened"] for row in week]),
                (_("Cases closed"), [row["closed"] for row in week]),
            ],
            title=_("Cases opened and closed, last %(n)d days") % {"n": len(week)},
            label_header=_("Day"),
        ),
        "compliance": charts.bar_chart(
            [(row["name"], row["percent"]) for row in compliance],
            title=_("Resolved on time by area, last %(n)d days") % {"n": data["compliance_days"]},
            value_name=_("Resolved on time"),
            label_header=_("Area"),
            unit="%",
            max_value=100,
        ),
        "outcomes": charts.stacked_bar_chart(
            [(row["name"], row["values"]) for row in outcomes["rows"]],
            outcomes["outcomes"],
            title=_("Outcomes of the cooperatives with the most resolved cases"),
            label_header=_("Cooperative"),
        ),
    }


def _dashboard_links(data: dict, *, area_codes: dict[int, str]) -> dict[str, str]:
    """The staff case list filtered to exactly what each tile and count of the dashboard counts
    (the statuses and stored SLA states of `casework.reports`): the tiles' links are returned,
    each row of the tables gets its own under `links`.

    The list holds the cases one sees as staff, the dashboard those of the areas one
    supervises: the same cases for a supervisor, but a supervisor of some areas who is also a
    consultant of others finds those others' cases too in the tiles' lists (the list's `area`
    filter takes one area); the per-area rows stay exact."""
    S = CaseStatus
    links = {
        "open": case_links.open_cases_url(),
        **{state: case_links.open_cases_url(sla=state) for state in SlaState.values},
        # The queues: one status each.
        **{
            status: case_links.status_url(status)
            for status in (S.TRIAGE, S.UNASSIGNED, S.WAITING, S.RESOLVED)
        },
    }
    for row in data["by_area"]:
        area = area_codes[row["id"]]
        row["links"] = {
            "open": case_links.open_cases_url(area=area),
            "at_risk": case_links.open_cases_url(sla=SlaState.AT_RISK, area=area),
            "breached": case_links.open_cases_url(sla=SlaState.BREACHED, area=area),
            "unassigned": case_links.status_url(*case_links.NOT_YET_HELD, area=area),
        }
    for row in data["by_office"]:
        row["links"] = {
            "open": case_links.open_cases_url(office=row["code"]),
            "at_risk": case_links.open_cases_url(sla=SlaState.AT_RISK, office=row["code"]),
            "breached": case_links.open_cases_url(sla=SlaState.BREACHED, office=row["code"]),
        }
    for row in data["consultants"]:
        row["links"] = {
            "load": case_links.load_url(row["username"]),
            "at_risk": case_links.load_url(row["username"], sla=SlaState.AT_RISK),
            "breached": case_links.load_url(row["username"], sla=SlaState.BREACHED),
        }
    return links


@login_required
@require_GET
def dashboard(request):
    if not reports.can_see_dashboard(request.user):
        raise PermissionDenied
    roles = roles_of(request.user)
    data = reports.dashboard(request.user)
    areas = (
        None
        if roles.supervises_all
        else list(
            PracticeArea.objects.filter(id__in=roles.supervised_area_ids).values_list(
                "name", flat=True
            )
        )
    )
    return render(
        request,
        "dashboard/index.html",
        {
            "data": data,
            "charts": _dashboard_charts(data),
            "links": _dashboard_links(
                data,
                area_codes=dict(
                    PracticeArea.objects.filter(
                        id__in=[row["id"] for row in data["by_area"]]
                    ).values_list("id", "code")
                ),
            ),
            "scope_areas": areas,
            "queue_url": reverse("work:queue"),
            "now": timezone.now(),
        },
    )


# --- Cooperative report --------------------------------------------------------------------


@login_required
@require_GET
def report_cooperatives(request):
    """The cooperatives whose report one may open: all for staff, one's own for members."""
    roles = roles_of(request.user)
    cooperatives = reports.cooperatives_for_report(request.user)
    if not roles.is_staff_role:
        own = list(cooperatives.order_by("name")[:2])
        if not own:
            raise Http404
        if len(own) == 1:
            return redirect("report-cooperative", pk=own[0].pk)
    query = request.GET.get("q", "").strip()
    if query:
        cooperatives = cooperatives.filter(Q(name__icontains=query) | Q(tax_code__icontains=query))
    # Totals over the cases this user may see (a consultant: the cases of their areas).
    open_cases = Q(cases__status__in=CaseStatus.OPEN)
    if roles.supervises_all:
        totals = {"cases_total": Count("cases"), "cases_open": Count("cases", filter=open_cases)}
    else:
        visible = Q(cases__in=cases_visible_to(request.user))
        totals = {
            "cases_total": Count("cases", filter=visible),
            "cases_open": Count("cases", filter=visible & open_cases),
        }
    cooperatives = cooperatives.select_related("office").annotate(**totals).order_by("name")
    page = Paginator(cooperatives, 50).get_page(request.GET.get("page"))
    return render(request, "dashboard/cooperative_list.html", {"page": page, "q": query})


def _report_rows(report: dict) -> list[tuple[str, object]]:
    """The headline figures in the order the page and the CSV show them (same values)."""
    return [
        (_("Cases"), report["cases"]),
        (_("Open cases"), report["open"]),
        (_("Cancelled or not accepted"), report["cancelled"]),
        (_("Resolved cases"), report["resolved"]),
        (_("Resolved on time"), report["resolved_on_time"]),
        (_("SLA compliance (% resolved on time)"), report["sla_compliance_percent"]),
        (_("First response on time (%)"), report["first_response_compliance_percent"]),
        (
            _("Median first response (business minutes)"),
            report["median_first_response_minutes"],
        ),
        (_("Median resolution (business minutes)"), report["median_resolution_minutes"]),
        (_("Satisfaction (average, 1–5)"), report["satisfaction_average"]),
        (_("Ratings"), report["ratings"]),
        (_("Minutes of consulting delivered"), report["minutes_delivered"]),
    ]


def report_csv(report: dict) -> HttpResponse:
    """The report as CSV, UTF-8 with a BOM so that Excel reads accents right.

    Numbers are written as the page shows them in the user's language; the separator follows
    the decimal mark, as spreadsheets expect: `;` with a decimal comma (Italian), `,` with a
    decimal point (English).
    """
    response = HttpResponse(content_type=csvexport.CONTENT_TYPE)
    name = slugify(report["cooperative"]["name"]) or "cooperative"
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="report-{name}-{stamp}.csv"'
    response.write(csvexport.BOM)
    writer = csv.writer(
        response, delimiter=csvexport.delimiter(), lineterminator=csvexport.LINE_END
    )

    def row(*cells):
        writer.writerow([csvexport.cell(cell) for cell in cells])

    row(_("Cooperative"), report["cooperative"]["name"])
    row(_("Tax code"), report["cooperative"]["tax_code"])
    row(_("Generated on"), formats.date_format(timezone.localtime(), "SHORT_DATETIME_FORMAT"))
    row()
    row(_("Figure"), _("Value"))
    for label, value in _report_rows(report):
        row(label, value)
    row()
    row(_("Score"), _("Ratings"))
    for item in report["satisfaction_distribution"]:
        row(item["score"], item["count"])
    row()
    row(
        _("Area"),
        _("Cases"),
        _("Open"),
        _("Resolved"),
        _("Resolved on time"),
        _("SLA compliance (%)"),
        _("Minutes"),
    )
    for area in report["by_area"]:
        row(
            area["name"],
            area["total"],
            area["open"],
            area["resolved"],
            area["on_time"],
            area["percent"],
            area["minutes"],
        )
    row()
    row(_("Channel"), _("Cases"))
    for item in report["channels"]:
        row(item["label"], item["n"])
    row()
    row(_("Area"), _("Outcome"), _("Cases"))
    for item in report["by_outcome"]:
        row(item["area_name"], item["outcome_label"], item["n"])
    return response


@login_required
@require_GET
def report_cooperative(request, pk, export=False):
    """One cooperative's figures, for the federation's staff and the cooperative's members."""
    cooperative = reports.cooperatives_for_report(request.user).filter(pk=pk).first()
    if cooperative is None:
        raise Http404(_("No such cooperative."))
    # The same scope as the API: a consultant of one area counts that area's cases only.
    report = reports.cooperative_report(
        cooperative, cases=cases_visible_to(request.user).filter(cooperative=cooperative)
    )
    if export or request.GET.get("format") == "csv":
        return report_csv(report)
    distribution = report["satisfaction_distribution"]
    context = {
        "cooperative": cooperative,
        "report": report,
        "rows": _report_rows(report),
        "charts": {
            "satisfaction": charts.bar_chart(
                [(str(item["score"]), item["count"]) for item in distribution],
                title=_("Ratings by score (1 = very dissatisfied, 5 = very satisfied)"),
                value_name=_("Ratings"),
                label_header=_("Score"),
            ),
            "areas": charts.bar_chart(
                [(area["name"], area["total"]) for area in report["by_area"]],
                title=_("Cases by practice area"),
                value_name=_("Cases"),
                label_header=_("Area"),
            ),
        },
    }
    return render(request, "dashboard/cooperative_report.html", context)
