"""SLA counts and cooperative reports, computed by the database (grouped counts, sums, medians)."""

from __future__ import annotations

from datetime import date, datetime, time

from django.db import connections
from django.db.models import Aggregate, Avg, Count, F, FloatField, Q, QuerySet, Sum
from django.utils import timezone

from casework.models import Case, CaseStatus, Rating, SlaState

STATES = [state.value for state in SlaState]
RESOLVED_STATUSES = (CaseStatus.RESOLVED, CaseStatus.CLOSED)


class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate `percentile_cont(p) WITHIN GROUP (ORDER BY x)`."""

    function = "PERCENTILE_CONT"
    name = "PercentileCont"
    template = "%(function)s(%(percentile)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, *, percentile: float, **extra):
        # A float literal in the SQL text: float() keeps anything else out of it.
        super().__init__(expression, percentile=float(percentile), **extra)


def median(queryset: QuerySet, field: str) -> float | None:
    """The median of a column over a queryset, in the database.

    PostgreSQL computes it with `percentile_cont`; elsewhere (SQLite, the embedded default) see
    `median_by_offset`.
    """
    values = queryset.order_by().exclude(**{f"{field}__isnull": True})
    if connections[values.db].vendor == "postgresql":
        return values.aggregate(m=PercentileCont(field, percentile=0.5))["m"]
    return median_by_offset(values, field)


def median_by_offset(queryset: QuerySet, field: str) -> float | None:
    """The median read as the one or two middle rows (COUNT, then ORDER BY ... LIMIT/OFFSET).

    Works on any database and never brings more than two values out of it.
    """
    values = queryset.order_by().exclude(**{f"{field}__isnull": True})
    count = values.count()
    if count == 0:
        return None
    middle = values.order_by(field).values_list(field, flat=True)[(count - 1) // 2 : count // 2 + 1]
    middle = list(middle)
    return sum(middle) / len(middle)


def _state_counts(rows, key: str | None = None) -> dict:
    """{key value: {state: n, ..., "total": n}} from rows grouped by (key, sla_state)."""
    grouped: dict = {}
    for row in rows:
        counts = grouped.setdefault(row[key] if key else None, dict.fromkeys(STATES, 0))
        counts[row["sla_state"]] = counts.get(row["sla_state"], 0) + row["n"]
    for counts in grouped.values():
        counts["total"] = sum(counts[state] for state in STATES)
    return grouped


def sla_summary(cases: QuerySet[Case]) -> dict:
    """Open cases by SLA state, by area × state and by office × state (three grouped counts)."""
    open_cases = cases.open().order_by()
    overall = _state_counts(open_cases.values("sla_state").annotate(n=Count("id")))
    by_area_rows = list(
        open_cases.values("area__code", "area__name", "area__position", "sla_state").annotate(
            n=Count("id")
        )
    )
    by_office_rows = list(
        open_cases.values(
            "cooperative__office__code", "cooperative__office__name", "sla_state"
        ).annotate(n=Count("id"))
    )
    areas = {row["area__code"]: (row["area__position"], row["area__name"]) for row in by_area_rows}
    offices = {
        row["cooperative__office__code"]: row["cooperative__office__name"] for row in by_office_rows
    }
    area_counts = _state_counts(by_area_rows, "area__code")
    office_counts = _state_counts(by_office_rows, "cooperative__office__code")
    return {
        "counts": overall.get(None, {**dict.fromkeys(STATES, 0), "total": 0}),
        "by_area": [
            {"area": code, "name": areas[code][1], "counts": area_counts[code]}
            for code in sorted(areas, key=lambda c: (areas[c][0], c))
        ],
        "by_office": [
            {"office": code, "name": offices[code], "counts": office_counts[code]}
            for code in sorted(offices)
        ],
    }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _minutes(seconds: float | None) -> float | None:
    return round(seconds / 60, 1) if seconds is not None else None


def period_cases(cases: QuerySet[Case], *, since: date | None, until: date | None):
    """Cases opened within the period (whole days, Europe/Rome)."""
    tz = timezone.get_current_timezone()
    if since:
        cases = cases.filter(created_at__gte=datetime.combine(since, time.min, tzinfo=tz))
    if until:
        cases = cases.filter(created_at__lte=datetime.combine(until, time.max, tzinfo=tz))
    return cases


def cooperative_report(cases: QuerySet[Case]) -> dict:
    """Figures over a cooperative's cases: by area and outcome, SLA compliance, medians, ratings."""
    cases = cases.order_by()
    resolved = Q(status__in=RESOLVED_STATUSES, resolved_at__isnull=False)
    responded = Q(first_response_at__isnull=False)
    totals = cases.aggregate(
        total=Count("id"),
        minutes=Sum("minutes_spent"),
        resolved=Count("id", filter=resolved),
        resolved_on_time=Count(
            "id",
            filter=resolved
            & (Q(resolution_due_at__isnull=True) | Q(resolved_at__lte=F("resolution_due_at"))),
        ),
        responded=Count("id", filter=responded),
        responded_on_time=Count(
            "id",
            filter=responded
            & (
                Q(first_response_due_at__isnull=True)
                | Q(first_response_at__lte=F("first_response_due_at"))
            ),
        ),
    )
    by_status = dict.fromkeys(CaseStatus.values, 0)
    by_status.update(dict(cases.values_list("status").annotate(n=Count("id"))))

    areas = {
        row["area__code"]: {
            "area": row["area__code"],
            "name": row["area__name"],
            "total": row["n"],
            "outcomes": [],
        }
        for row in cases.values("area__code", "area__name", "area__position")
        .annotate(n=Count("id"))
        .order_by("area__position", "area__code")
    }
    outcome_rows = (
        cases.filter(outcome__isnull=False)
        .values("area__code", "outcome__code", "outcome__label")
        .annotate(n=Count("id"))
        .order_by("area__code", "-n", "outcome__code")
    )
    for row in outcome_rows:
        areas[row["area__code"]]["outcomes"].append(
            {"code": row["outcome__code"], "label": row["outcome__label"], "count": row["n"]}
        )

    ratings = Rating.objects.filter(case__in=cases.values("id"))
    rating_totals = ratings.aggregate(count=Count("id"), average=Avg("score"))
    distribution = {str(score): 0 for score in range(1, 6)}
    for score, n in ratings.order_by().values_list("score").annotate(n=Count("id")):
        distribution[str(score)] = n

    return {
        "cases": {
            "total": totals["total"],
            "by_status": by_status,
            "by_area": list(areas.values()),
        },
        "sla": {
            "responded": totals["responded"],
            "responded_on_time": totals["responded_on_time"],
            "first_response_compliance": _share(totals["responded_on_time"], totals["responded"]),
            "resolved": totals["resolved"],
            "resolved_on_time": totals["resolved_on_time"],
            "resolution_compliance": _share(totals["resolved_on_time"], totals["resolved"]),
        },
        "times": {
            # Business time, as the SLA clocks count it (pauses excluded), stored on each case.
            "median_first_response_minutes": _minutes(
                median(cases.filter(responded), "first_response_elapsed_seconds")
            ),
            "median_resolution_minutes": _minutes(
                median(cases.filter(resolved), "resolution_elapsed_seconds")
            ),
        },
        "satisfaction": {
            "ratings": rating_totals["count"],
            "average": round(rating_totals["average"], 2)
            if rating_totals["average"] is not None
            else None,
            "distribution": distribution,
        },
        "minutes_delivered": totals["minutes"] or 0,
    }
