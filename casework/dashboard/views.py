"""Pages of the supervisor dashboard and the per-cooperative report (with its CSV export).

Figures come from `casework.reports`, computed in the database; the charts are server-drawn SVG.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

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
from .filters import DashboardFilterForm, PeriodForm

# --- Supervisor dashboard ------------------------------------------------------------------


def _dashboard_charts(data: dict) -> dict:
    history = data["backlog_history"]
    week = data["week"]
    compliance = data["compliance"]
    outcomes = data["outcomes"]
    trends = data["trends"]
    weeks = [row["week"] for row in trends]
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
        "trends": charts.line_chart(
            weeks,
            [
                (_("Opened"), [row["opened"] for row in trends]),
                (_("Resolved"), [row["resolved"] for row in trends]),
                (_("Breached"), [row["breached"] for row in trends]),
            ],
            title=_("Cases opened, resolved and breached per week (weeks starting on)"),
            label_header=_("Week"),
        ),
        "first_response": charts.column_chart(
            weeks,
            [
                (
                    _("Median first response (business minutes)"),
                    [row["median_first_response_minutes"] or 0 for row in trends],
                )
            ],
            title=_("Median first response per week, business minutes (weeks starting on)"),
            label_header=_("Week"),
        ),
        "compliance": charts.bar_chart(
            [(row["name"], row["percent"]) for row in compliance["by_area"]],
            title=_("Resolved by the due time, by area, %(since)s – %(until)s")
            % {
                "since": formats.date_format(compliance["since"], "SHORT_DATE_FORMAT"),
                "until": formats.date_format(compliance["until"], "SHORT_DATE_FORMAT"),
            },
            value_name=_("Resolved by the due time"),
            label_header=_("Area"),
            unit="%",
            max_value=100,
        ),
        "outcomes": charts.stacked_bar_chart(
            [(row["name"], row["values"]) for row in outcomes["rows"]],
            outcomes["outcomes"],
            title=_("Outcomes of the cooperatives with the most cases resolved in the period"),
            label_header=_("Cooperative"),
        ),
    }


def _dashboard_links(
    data: dict, *, area_codes: dict[int, str], filters: dict[str, str]
) -> dict[str, str]:
    """The staff case list filtered to exactly what each tile and count of the dashboard counts
    (the statuses and stored SLA states of `casework.reports`), and to the dashboard's own
    filters (area, office, consultant): the tiles' links are returned, each row of the tables
    gets its own under `links`.

    The list holds the cases one sees as staff, the dashboard those of the areas one
    supervises: the same cases for a supervisor, but a supervisor of some areas who is also a
    consultant of others finds those others' cases too in the tiles' lists (the list's `area`
    filter takes one area); the per-area rows stay exact."""
    S = CaseStatus
    links = {
        "open": case_links.open_cases_url(**filters),
        **{state: case_links.open_cases_url(sla=state, **filters) for state in SlaState.values},
        # The queues: one status each.
        **{
            status: case_links.status_url(status, **filters)
            for status in (S.TRIAGE, S.UNASSIGNED, S.WAITING, S.RESOLVED)
        },
    }
    for row in data["by_area"]:
        per_area = {**filters, "area": area_codes[row["id"]]}
        row["links"] = {
            "open": case_links.open_cases_url(**per_area),
            "at_risk": case_links.open_cases_url(sla=SlaState.AT_RISK, **per_area),
            "breached": case_links.open_cases_url(sla=SlaState.BREACHED, **per_area),
            "triage": case_links.status_url(S.TRIAGE, **per_area),
            "unassigned": case_links.status_url(S.UNASSIGNED, **per_area),
        }
    for row in data["by_office"]:
        per_office = {**filters, "office": row["code"]}
        row["links"] = {
            "open": case_links.open_cases_url(**per_office),
            "at_risk": case_links.open_cases_url(sla=SlaState.AT_RISK, **per_office),
            "breached": case_links.open_cases_url(sla=SlaState.BREACHED, **per_office),
        }
    without_assignee = {k: v for k, v in filters.items() if k != "assignee"}
    for row in data["consultants"]:
        row["links"] = {
            "load": case_links.load_url(row["username"], **without_assignee),
            "at_risk": case_links.load_url(
                row["username"], sla=SlaState.AT_RISK, **without_assignee
            ),
            "breached": case_links.load_url(
                row["username"], sla=SlaState.BREACHED, **without_assignee
            ),
        }
    return links


@login_required
@require_GET
def dashboard(request):
    if not reports.can_see_dashboard(request.user):
        raise PermissionDenied
    roles = roles_of(request.user)
    today = timezone.localdate()
    form = DashboardFilterForm(request.GET or None, user=request.user, today=today)
    if form.is_bound:
        form.is_valid()
    scope = form.scope()
    data = reports.dashboard(request.user, today=today, scope=scope)
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
            "form": form,
            "charts": _dashboard_charts(data),
            "links": _dashboard_links(
                data,
                area_codes=dict(
                    PracticeArea.objects.filter(
                        id__in=[row["id"] for row in data["by_area"]]
                    ).values_list("id", "code")
                ),
                filters=form.list_filters(),
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
    """The headline figures in the order the page and the CSV show them (same values). The
    first five add up: every case is in one of the four buckets."""
    buckets = report["buckets"]
    resolved_in = report.get("resolved_in_period")
    rows = [
        (_("Cases"), report["cases"]),
        (_("In progress"), buckets["in_progress"]),
        (_("Resolved, awaiting confirmation"), buckets["awaiting_confirmation"]),
        (_("Closed"), buckets["closed"]),
        (_("Cancelled or not accepted"), buckets["stopped"]),
        (_("Resolved (awaiting confirmation or closed)"), report["resolved"]),
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
    if resolved_in is not None:
        rows += [
            (_("Resolved in the period, whenever opened"), resolved_in["resolved"]),
            (_("of which on time"), resolved_in["on_time"]),
        ]
    return rows


def _case_columns() -> list[tuple[str, str]]:
    return [
        ("reference", _("Reference")),
        ("subject", _("Subject")),
        ("opened_at", _("Opened at")),
        ("area", _("Area")),
        ("channel", _("Channel")),
        ("status", _("Status")),
        ("assignee", _("Consultant")),
        ("first_response_due_at", _("First response due at")),
        ("first_response_at", _("First response at")),
        ("resolution_due_at", _("Resolution due at")),
        ("resolved_at", _("Resolved at")),
        ("closed_at", _("Closed at")),
        ("on_time", _("Resolved on time")),
        ("outcome", _("Outcome")),
        ("sla", _("SLA")),
        ("minutes", _("Minutes")),
        ("rating", _("Rating")),
    ]


def _yes_no(value):
    if value is None:
        return ""
    return _("yes") if value else _("no")


def _period_words(since, until) -> str:
    if since and until:
        return _("Cases opened from %(since)s to %(until)s") % {
            "since": formats.date_format(since, "SHORT_DATE_FORMAT"),
            "until": formats.date_format(until, "SHORT_DATE_FORMAT"),
        }
    if since:
        return _("Cases opened from %(since)s") % {
            "since": formats.date_format(since, "SHORT_DATE_FORMAT")
        }
    if until:
        return _("Cases opened until %(until)s") % {
            "until": formats.date_format(until, "SHORT_DATE_FORMAT")
        }
    return _("All the cooperative's cases")


def _report_sections(report: dict, rows: list[dict]) -> list[list[list]]:
    """The report as tables of cells (header first), shared by the CSV and the XLSX."""
    sections = [
        [
            [_("Cooperative"), report["cooperative"]["name"]],
            [_("Tax code"), report["cooperative"]["tax_code"]],
            [_("Period"), report["period_words"]],
            [
                _("Generated on"),
                formats.date_format(timezone.localtime(), "SHORT_DATETIME_FORMAT"),
            ],
        ],
        [[_("Figure"), _("Value")], *([label, value] for label, value in _report_rows(report))],
        [
            [_("Score"), _("Ratings")],
            *([item["score"], item["count"]] for item in report["satisfaction_distribution"]),
        ],
        [
            [
                _("Area"),
                _("Cases"),
                _("Open"),
                _("Resolved"),
                _("Resolved on time"),
                _("SLA compliance (%)"),
                _("Minutes"),
            ],
            *(
                [
                    area["name"],
                    area["total"],
                    area["open"],
                    area["resolved"],
                    area["on_time"],
                    area["percent"],
                    area["minutes"],
                ]
                for area in report["by_area"]
            ),
        ],
        [[_("Channel"), _("Cases")], *([item["label"], item["n"]] for item in report["channels"])],
        [
            [_("Area"), _("Outcome"), _("Cases")],
            *([i["area_name"], i["outcome_label"], i["n"]] for i in report["by_outcome"]),
        ],
    ]
    columns = _case_columns()
    sections.append(
        [
            [label for _key, label in columns],
            *(
                [_yes_no(row[key]) if key == "on_time" else row[key] for key, _label in columns]
                for row in rows
            ),
        ]
    )
    return sections


def _export_name(report: dict, extension: str) -> str:
    name = slugify(report["cooperative"]["name"]) or "cooperative"
    stamp = timezone.localdate().isoformat()
    return f"report-{name}-{stamp}.{extension}"


def report_csv(report: dict, rows: list[dict]) -> HttpResponse:
    """The report as CSV, UTF-8 with a BOM so that Excel reads accents right: the totals, then
    one row per case of the period.

    Numbers are written as the page shows them in the user's language; the separator follows
    the decimal mark, as spreadsheets expect: `;` with a decimal comma (Italian), `,` with a
    decimal point (English).
    """
    response = HttpResponse(content_type=csvexport.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{_export_name(report, "csv")}"'
    response.write(csvexport.BOM)
    writer = csv.writer(
        response, delimiter=csvexport.delimiter(), lineterminator=csvexport.LINE_END
    )
    for index, section in enumerate(_report_sections(report, rows)):
        if index:
            writer.writerow([])
        for line in section:
            writer.writerow([csvexport.cell(cell) for cell in line])
    return response


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def report_xlsx(report: dict, rows: list[dict]) -> HttpResponse:
    """The same report as an Excel workbook: a sheet of totals and a sheet of cases, numbers
    and instants as real cells (local time, without zone, as Excel keeps them)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sections = _report_sections(report, rows)
    totals = book.create_sheet(_("Totals")[:31])
    for index, section in enumerate(sections[:-1]):
        if index:
            totals.append([])
        for line in section:
            totals.append([_xlsx_cell(value) for value in line])
    cases = book.create_sheet(_("Cases")[:31])
    for line in sections[-1]:
        cases.append([_xlsx_cell(value) for value in line])
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{_export_name(report, "xlsx")}"'
    return response


def _xlsx_cell(value):
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None)
    if value is None or isinstance(value, int | float | date):
        return value
    text = str(value)
    # As in the CSV: a text that a spreadsheet would run as a formula stays text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@login_required
@require_GET
def report_cooperative(request, pk, export=False):
    """One cooperative's figures for a period, for the federation's staff and the cooperative."""
    cooperative = reports.cooperatives_for_report(request.user).filter(pk=pk).first()
    if cooperative is None:
        raise Http404(_("No such cooperative."))
    form = PeriodForm(request.GET or None, today=timezone.localdate())
    since, until = form.chosen()
    # The same scope as the API: a consultant of one area counts that area's cases only.
    visible = cases_visible_to(request.user).filter(cooperative=cooperative)
    cases = reports.cases_opened_between(visible, since=since, until=until)
    report = reports.cooperative_report(cooperative, cases=cases)
    report["period_words"] = _period_words(since, until)
    if since or until:
        report["resolved_in_period"] = reports.resolved_between(visible, since=since, until=until)
    wanted = "csv" if export else request.GET.get("format")
    if wanted == "csv":
        return report_csv(report, reports.case_rows(cases))
    if wanted == "xlsx":
        return report_xlsx(report, reports.case_rows(cases))
    distribution = report["satisfaction_distribution"]
    query = request.GET.copy()
    query.pop("format", None)
    context = {
        "cooperative": cooperative,
        "report": report,
        "rows": _report_rows(report),
        "form": form,
        "export_query": query.urlencode(),
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
