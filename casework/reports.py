"""Figures for the supervisor dashboard and the cooperative report, computed in the database.

Every function is a selector: it takes who is asking (for scoping), or cases already scoped to
them, runs a fixed number of aggregate queries whatever the number of cases, and returns plain
dicts and lists that pages, CSV exports and the API can render alike. This is the one place
these figures are computed; the API serializes what it returns.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import Aggregate as _Aggregate
from django.db.models import (
    Avg,
    Count,
    F,
    FloatField,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncDate
from django.db.models.lookups import Lookup
from django.utils import timezone

from .models import (
    Case,
    CaseStatus,
    Channel,
    Consultant,
    Cooperative,
    Office,
    PracticeArea,
    Rating,
    SlaState,
)
from .roles import roles_of
from .sla.clocks import clock_that_matters, due_that_matters

S = CaseStatus
WATCH_LIMIT = 25
COMPLIANCE_DAYS = 90
BACKLOG_DAYS = 30
TREND_DAYS = 7
TOP_COOPERATIVES = 8

OPEN = Q(status__in=CaseStatus.OPEN)
RESOLVED = Q(status__in=CaseStatus.RESOLUTION_REACHED, resolved_at__isnull=False)
# An outcome counts once the case is resolved or closed with it; a case cancelled after being
# resolved keeps the field but has no outcome the cooperative accepted.
WITH_OUTCOME = RESOLVED & Q(outcome__isnull=False)
# Resolved on time: by the resolution due instant, or with no policy (nothing to miss).
RESOLVED_ON_TIME = RESOLVED & (
    Q(resolution_due_at__isnull=True) | Q(resolved_at__lte=F("resolution_due_at"))
)
ANSWERED = Q(first_response_at__isnull=False)
ANSWERED_ON_TIME = ANSWERED & (
    Q(first_response_due_at__isnull=True) | Q(first_response_at__lte=F("first_response_due_at"))
)


class Median(_Aggregate):
    """PostgreSQL's exact median, `percentile_cont(0.5)` (elsewhere: `median_by_offset`)."""

    function = "percentile_cont"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _number(value, places: int = 1):
    """Round for display; a whole number comes back as an int so that it reads "75", not "75,0"."""
    if value is None:
        return None
    value = round(float(value), places)
    return int(value) if value == int(value) else value


def _minutes(seconds):
    """Business seconds to business minutes, to a tenth (as the API reports them)."""
    return None if seconds is None else _number(float(seconds) / 60, 1)


def medians_in_seconds(cases: QuerySet[Case], columns: dict[str, Q]) -> dict[str, float | None]:
    """The median of each column over the cases matching its condition, computed by the database.

    PostgreSQL computes all of them in one query with `percentile_cont`; SQLite (the embedded demo
    only) has no such aggregate, so there each column is read by `median_by_offset`.
    """
    cases = cases.order_by()
    if connection.vendor == "postgresql":
        return cases.aggregate(
            **{column: Median(column, filter=condition) for column, condition in columns.items()}
        )
    return {
        column: median_by_offset(cases.filter(condition), column)
        for column, condition in columns.items()
    }


def median_by_offset(cases: QuerySet[Case], column: str) -> float | None:
    """The median read as the one or two middle rows (COUNT, then ORDER BY ... LIMIT/OFFSET).

    Works on any database and never brings more than two values out of it.
    """
    values = cases.order_by().exclude(**{f"{column}__isnull": True})
    count = values.count()
    if count == 0:
        return None
    middle = list(
        values.order_by(column).values_list(column, flat=True)[(count - 1) // 2 : count // 2 + 1]
    )
    return sum(middle) / len(middle)


def _share(part: int, whole: int) -> float | None:
    """The fraction (0–1) of `whole` that `part` is; None when there is nothing to measure."""
    return part / whole if whole else None


def _percent(fraction: float | None):
    return None if fraction is None else _number(100 * fraction)


# --- Scope ---------------------------------------------------------------------------------


def can_see_dashboard(user) -> bool:
    roles = roles_of(user)
    return roles.supervises_all or roles.is_supervisor


def scoped_cases(user) -> QuerySet[Case]:
    """The cases a supervisor watches: every case, or those of the areas they supervise."""
    roles = roles_of(user)
    if roles.supervises_all:
        return Case.objects.all()
    if roles.is_supervisor and roles.supervised_area_ids:
        return Case.objects.filter(area_id__in=roles.supervised_area_ids)
    return Case.objects.none()


def scoped_areas(user) -> QuerySet[PracticeArea]:
    roles = roles_of(user)
    if roles.supervises_all:
        return PracticeArea.objects.all()
    return PracticeArea.objects.filter(id__in=roles.supervised_area_ids)


def _local_day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


# --- Supervisor dashboard ------------------------------------------------------------------


def open_case_counts(user) -> dict[str, int]:
    """Open cases by SLA state, plus the two queues that wait on a supervisor (one query)."""
    return scoped_cases(user).aggregate(
        open=Count("id", filter=OPEN),
        unassigned=Count("id", filter=Q(status=S.UNASSIGNED)),
        triage=Count("id", filter=Q(status=S.TRIAGE)),
        waiting=Count("id", filter=Q(status=S.WAITING)),
        resolved=Count("id", filter=Q(status=S.RESOLVED)),
        **_sla_state_counts(within=OPEN),
    )


def sla_watchlist(user, state: str, *, limit: int = WATCH_LIMIT) -> dict:
    """Open cases at risk or breached, the oldest due first (at most `limit`, with the total)."""
    cases = scoped_cases(user).filter(OPEN, sla_state=state)
    rows = (
        cases.select_related("cooperative", "area", "assignee")
        .annotate(due_at=due_that_matters())
        .order_by(F("due_at").asc(nulls_last=True), "id")[:limit]
    )
    listed = [
        {
            "id": case.pk,
            "reference": case.reference,
            "subject": case.subject,
            "cooperative": case.cooperative.name,
            "area": case.area.name,
            "assignee": (case.assignee.get_full_name() or case.assignee.username)
            if case.assignee
            else None,
            "priority": case.priority,
            "priority_label": case.get_priority_display(),
            "status": case.status,
            "status_label": case.get_status_display(),
            "due_at": case.due_at,
            "clock": clock_that_matters(case),
        }
        for case in rows
    ]
    total = len(listed) if len(listed) < limit else cases.count()
    return {"state": state, "cases": listed, "total": total}


def _sla_state_counts(within: Q | None = None) -> dict[str, Count]:
    within = within or Q()
    return {state: Count("id", filter=within & Q(sla_state=state)) for state in SlaState.values}


def _open_counts_by(cases: QuerySet[Case], *fields: str, **expressions) -> QuerySet:
    """Open cases grouped by the given columns: all of them, by SLA state, and those no
    consultant holds yet (in triage or waiting for assignment)."""
    return (
        cases.filter(OPEN)
        .order_by()
        .values(*fields, **expressions)
        .annotate(
            open=Count("id"),
            unassigned=Count("id", filter=Q(status__in=(S.TRIAGE, S.UNASSIGNED))),
            **_sla_state_counts(),
        )
    )


def sla_summary(cases: QuerySet[Case]) -> dict:
    """Open cases by SLA state: overall, per practice area and per territorial office.

    `cases` is already scoped to who is asking. One grouped count reads the open cases once, by
    area and office ids (a row per pair, whatever their number: grouping by names made the
    database sort every open case by text); the three views are its sums, named afterwards.
    """
    rows = list(_open_counts_by(cases, "area_id", office_id=F("cooperative__office_id")))
    areas = PracticeArea.objects.in_bulk({row["area_id"] for row in rows})
    offices = Office.objects.in_bulk({row["office_id"] for row in rows})
    figures = ("open", "unassigned", *SlaState.values)
    counts = dict.fromkeys(("open", *SlaState.values), 0)
    by_area: dict[int, dict] = {}
    by_office: dict[int, dict] = {}
    for row in rows:
        area, office = areas[row["area_id"]], offices[row["office_id"]]
        area_totals = by_area.setdefault(
            area.pk, {"code": area.code, "name": area.name, **dict.fromkeys(figures, 0)}
        )
        office_totals = by_office.setdefault(
            office.pk, {"code": office.code, "name": office.name, **dict.fromkeys(figures, 0)}
        )
        for figure in figures:
            area_totals[figure] += row[figure]
            office_totals[figure] += row[figure]
        for figure in counts:
            counts[figure] += row[figure]
    return {
        "counts": counts,
        "by_area": [
            by_area[pk]
            for pk in sorted(by_area, key=lambda pk: (areas[pk].position, areas[pk].code))
        ],
        "by_office": [by_office[pk] for pk in sorted(by_office, key=lambda pk: offices[pk].code)],
    }


def backlog_by_area(user) -> list[dict]:
    """Open cases per practice area in scope, areas with nothing open included (two queries)."""
    counts = {row["area_id"]: row for row in _open_counts_by(scoped_cases(user), "area_id")}
    empty = {"open": 0, "at_risk": 0, "breached": 0, "unassigned": 0}
    return [
        {"id": area.pk, "name": area.name, **{k: counts.get(area.pk, empty)[k] for k in empty}}
        for area in scoped_areas(user).order_by("position", "name")
        if area.is_active or area.pk in counts
    ]


def backlog_by_office(user) -> list[dict]:
    """Open cases per territorial office of the cooperative, busiest first."""
    rows = _open_counts_by(
        scoped_cases(user),
        code=F("cooperative__office__code"),
        name=F("cooperative__office__name"),
    ).order_by("-open", "name")
    return list(rows)


def consultant_load(user, *, today: date | None = None) -> list[dict]:
    """Each consultant of the areas in scope: load versus capacity, absence, SLA trouble."""
    today = today or timezone.localdate()
    roles = roles_of(user)
    consultants = Consultant.objects.filter(is_active=True)
    area_filter = Q()
    if not roles.supervises_all:
        consultants = consultants.filter(
            id__in=Consultant.areas.through.objects.filter(
                practicearea_id__in=roles.supervised_area_ids
            ).values("consultant_id")
        )
        area_filter = Q(user__assigned_cases__area_id__in=roles.supervised_area_ids)
    active = Q(user__assigned_cases__status__in=CaseStatus.ACTIVE) & area_filter
    consultants = (
        consultants.select_related("user", "office")
        .prefetch_related("areas")
        .annotate(
            at_risk=Count(
                "user__assigned_cases",
                filter=active & Q(user__assigned_cases__sla_state=SlaState.AT_RISK),
            ),
            breached=Count(
                "user__assigned_cases",
                filter=active & Q(user__assigned_cases__sla_state=SlaState.BREACHED),
            ),
        )
        .order_by("-active_cases", "user__username")
    )
    return [
        {
            "id": c.pk,
            "user_id": c.user_id,
            "name": c.user.get_full_name() or c.user.username,
            "username": c.user.username,
            "office": c.office.name,
            "areas": [area.name for area in c.areas.all()],
            "active_cases": c.active_cases,
            "capacity": c.capacity,
            "load_percent": _percent(_share(c.active_cases, c.capacity)),
            "over_capacity": c.active_cases >= c.capacity,
            "absent": c.is_absent_on(today),
            "absent_until": c.absent_until,
            "at_risk": c.at_risk,
            "breached": c.breached,
        }
        for c in consultants
    ]


def _count_per_day(cases: QuerySet[Case], column: str, *, since: datetime) -> dict[date, int]:
    """{local day: number of cases} whose `column` instant falls on that day, from `since`."""
    tz = timezone.get_current_timezone()
    return dict(
        cases.filter(**{f"{column}__gte": since})
        .annotate(day=TruncDate(column, tzinfo=tz))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
        .order_by()
    )


def daily_flow(user, *, days: int = BACKLOG_DAYS, today: date | None = None) -> list[dict]:
    """Per day of the last `days` (today included): opened, closed and the backlog at day's end.

    The backlog is what was open at the window's start plus the running difference of opened
    and closed, so three aggregate queries give every day (closed_at is set once a case leaves
    the open statuses, and never unset).
    """
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    start = _local_day_start(first)
    cases = scoped_cases(user)
    at_start = cases.filter(
        Q(created_at__lt=start) & (Q(closed_at__isnull=True) | Q(closed_at__gte=start))
    ).count()
    opened = _count_per_day(cases, "created_at", since=start)
    closed = _count_per_day(cases, "closed_at", since=start)
    rows, backlog = [], at_start
    for offset in range(days):
        day = first + timedelta(days=offset)
        backlog += opened.get(day, 0) - closed.get(day, 0)
        rows.append(
            {
                "day": day,
                "opened": opened.get(day, 0),
                "closed": closed.get(day, 0),
                "backlog": backlog,
            }
        )
    return rows


def sla_compliance_by_area(
    user, *, days: int = COMPLIANCE_DAYS, today: date | None = None
) -> list[dict]:
    """Cases resolved in the last `days` per area, and how many by their resolution due time."""
    today = today or timezone.localdate()
    since = _local_day_start(today - timedelta(days=days - 1))
    rows = (
        scoped_cases(user)
        .filter(RESOLVED, resolved_at__gte=since)
        .values("area_id", name=F("area__name"))
        .annotate(resolved=Count("id"), on_time=Count("id", filter=RESOLVED_ON_TIME))
        .order_by("area__position", "area__name")
    )
    return [{**row, "percent": _percent(_share(row["on_time"], row["resolved"]))} for row in rows]


def outcomes_by_cooperative(user, *, top: int = TOP_COOPERATIVES) -> dict:
    """The cooperatives with the most resolved cases, each split by outcome (two queries)."""
    cases = scoped_cases(user).filter(WITH_OUTCOME)
    leaders = list(
        cases.values("cooperative_id", name=F("cooperative__name"))
        .annotate(total=Count("id"))
        .order_by("-total", "name")[:top]
    )
    split = (
        cases.filter(cooperative_id__in=[row["cooperative_id"] for row in leaders])
        .values("cooperative_id", label=F("outcome__label"))
        .annotate(n=Count("id"))
        .order_by("label")
    )
    outcomes: list[str] = []
    by_cooperative: dict[int, dict[str, int]] = {}
    for row in split:
        if row["label"] not in outcomes:
            outcomes.append(row["label"])
        by_cooperative.setdefault(row["cooperative_id"], {})[row["label"]] = row["n"]
    outcomes.sort()
    return {
        "outcomes": outcomes,
        "rows": [
            {
                "id": row["cooperative_id"],
                "name": row["name"],
                "total": row["total"],
                "values": [
                    by_cooperative.get(row["cooperative_id"], {}).get(label, 0)
                    for label in outcomes
                ],
            }
            for row in leaders
        ],
    }


def dashboard(user, *, today: date | None = None) -> dict:
    """Everything the supervisor dashboard shows, scoped to the user's areas."""
    today = today or timezone.localdate()
    flow = daily_flow(user, days=BACKLOG_DAYS, today=today)
    return {
        "counts": open_case_counts(user),
        "at_risk": sla_watchlist(user, SlaState.AT_RISK),
        "breached": sla_watchlist(user, SlaState.BREACHED),
        "by_area": backlog_by_area(user),
        "by_office": backlog_by_office(user),
        "consultants": consultant_load(user, today=today),
        "backlog_history": flow,
        "week": flow[-TREND_DAYS:],
        "compliance": sla_compliance_by_area(user, today=today),
        "compliance_days": COMPLIANCE_DAYS,
        "outcomes": outcomes_by_cooperative(user),
    }


# --- Cooperative report --------------------------------------------------------------------


def cooperatives_for_report(user) -> QuerySet[Cooperative]:
    """Cooperatives whose report the user may open: all for staff, their own for members."""
    roles = roles_of(user)
    if roles.is_staff_role:
        return Cooperative.objects.all()
    return Cooperative.objects.filter(id__in=roles.cooperative_ids)


def cases_opened_between(
    cases: QuerySet[Case], *, since: date | None = None, until: date | None = None
) -> QuerySet[Case]:
    """The cases opened within the period, both ends whole local days and included."""
    start = _period_bound(since, days_after=0) if since else None
    end = _period_bound(until, days_after=1) if until else None
    if start is not None:
        cases = cases.filter(created_at__gte=start)
    if end is not None:
        cases = cases.filter(created_at__lt=end)
    return cases


def _period_bound(day: date, *, days_after: int) -> datetime | None:
    """The start of the local day `days_after` days after `day`, as a UTC instant.

    None at the edges of the calendar: the day after 9999-12-31 does not exist, and 0001-01-01
    starts before year 1 in UTC in any zone east of it (Rome). No case was opened beyond either,
    so the period is simply open on that side.
    """
    try:
        return _local_day_start(day + timedelta(days=days_after)).astimezone(UTC)
    except OverflowError:
        return None


def ratings_of(cases: QuerySet[Case]) -> QuerySet[Rating]:
    """The ratings of `cases`, found from the cases (the rating table is not scanned).

    `case_id IN (SELECT ...)` is planned on PostgreSQL as a hash join over the whole rating table,
    whose cost grows with the federation rather than with the cooperative. `case_id =
    ANY(ARRAY(SELECT ...))` collects the case ids first, then looks each rating up by its
    unique case index.
    """
    ids = cases.order_by().values("id")
    if connection.vendor == "postgresql":
        return Rating.objects.filter(_EqualsAny(F("case_id"), ArraySubquery(ids)))
    return Rating.objects.filter(case__in=ids)


class _EqualsAny(Lookup):
    """`lhs = ANY(rhs)`, rhs an array (PostgreSQL)."""

    lookup_name = "equals_any"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = compiler.compile(self.lhs)
        rhs, rhs_params = compiler.compile(self.rhs)
        return f"{lhs} = ANY({rhs})", (*lhs_params, *rhs_params)


def cooperative_report(cooperative: Cooperative, *, cases: QuerySet[Case] | None = None) -> dict:
    """Cases by status, channel, area and outcome, SLA compliance, median times, satisfaction,
    minutes.

    Over `cases` (already scoped to who is asking, and to a period if any), by default every case
    of the cooperative. Compliance is a fraction (0–1, None when nothing was measured); the page
    shows it as a percentage (`*_percent`), the API as it is. Times are business minutes from the
    stored clock fields: first response over the answered cases, resolution over the resolved ones
    (the clock stops while the case waits on the cooperative, so these are the federation's own
    times). Four queries whatever the number of cases.
    """
    if cases is None:
        cases = Case.objects.filter(cooperative=cooperative)
    cases = cases.order_by()
    # One grouped scan (a row per area, status and channel) gives the totals, the statuses, the
    # channels and the areas.
    counted = ("total", "resolved", "resolved_on_time", "answered", "answered_on_time", "minutes")
    groups = cases.values(
        "area_id",
        "status",
        "channel",
        code=F("area__code"),
        name=F("area__name"),
        position=F("area__position"),
    ).annotate(
        total=Count("id"),
        resolved=Count("id", filter=RESOLVED),
        resolved_on_time=Count("id", filter=RESOLVED_ON_TIME),
        answered=Count("id", filter=ANSWERED),
        answered_on_time=Count("id", filter=ANSWERED_ON_TIME),
        minutes=Sum("minutes_spent", default=0),
    )
    totals = dict.fromkeys(counted, 0)
    by_status = dict.fromkeys(S.values, 0)
    by_channel = dict.fromkeys(Channel.values, 0)
    areas: dict[int, dict] = {}
    positions: dict[int, tuple] = {}
    for group in groups:
        positions[group["area_id"]] = (group["position"], group["name"])
        area = areas.setdefault(
            group["area_id"],
            {
                "area_id": group["area_id"],
                "code": group["code"],
                "name": group["name"],
                "total": 0,
                "open": 0,
                "resolved": 0,
                "on_time": 0,
                "minutes": 0,
                "outcomes": [],
            },
        )
        for figure in counted:
            totals[figure] += group[figure]
        by_status[group["status"]] += group["total"]
        by_channel[group["channel"]] += group["total"]
        area["total"] += group["total"]
        area["open"] += group["total"] if group["status"] in CaseStatus.OPEN else 0
        area["resolved"] += group["resolved"]
        area["on_time"] += group["resolved_on_time"]
        area["minutes"] += group["minutes"]
    by_area = {pk: areas[pk] for pk in sorted(areas, key=positions.__getitem__)}
    medians = medians_in_seconds(
        cases, {"first_response_elapsed_seconds": ANSWERED, "resolution_elapsed_seconds": RESOLVED}
    )
    outcomes = (
        cases.filter(WITH_OUTCOME)
        .values("area_id", code=F("outcome__code"), label=F("outcome__label"))
        .annotate(count=Count("id"))
        .order_by("-count", "label")
    )
    for row in outcomes:
        by_area[row.pop("area_id")]["outcomes"].append(row)
    for row in by_area.values():
        row["compliance"] = _share(row["on_time"], row["resolved"])
        row["percent"] = _percent(row["compliance"])
    ratings = ratings_of(cases).aggregate(
        average=Avg("score"),
        count=Count("id"),
        **{f"score_{n}": Count("id", filter=Q(score=n)) for n in range(1, 6)},
    )
    resolution_compliance = _share(totals["resolved_on_time"], totals["resolved"])
    first_response_compliance = _share(totals["answered_on_time"], totals["answered"])
    return {
        "cooperative": {
            "id": cooperative.pk,
            "name": cooperative.name,
            "tax_code": cooperative.tax_code,
        },
        "cases": sum(by_status.values()),
        "by_status": by_status,
        "by_channel": by_channel,
        # The same counts with the channels' names, as the page and the CSV list them.
        "channels": [
            {"code": code, "label": str(label), "n": by_channel[code]}
            for code, label in Channel.choices
        ],
        "open": sum(by_status[status] for status in CaseStatus.OPEN),
        "cancelled": by_status[S.CANCELLED] + by_status[S.REJECTED],
        "resolved": totals["resolved"],
        "resolved_on_time": totals["resolved_on_time"],
        "resolution_compliance": resolution_compliance,
        "sla_compliance_percent": _percent(resolution_compliance),
        "answered": totals["answered"],
        "answered_on_time": totals["answered_on_time"],
        "first_response_compliance": first_response_compliance,
        "first_response_compliance_percent": _percent(first_response_compliance),
        "median_first_response_minutes": _minutes(medians["first_response_elapsed_seconds"]),
        "median_resolution_minutes": _minutes(medians["resolution_elapsed_seconds"]),
        "satisfaction_average": _number(ratings["average"], 2),
        "ratings": ratings["count"],
        "satisfaction_distribution": [
            {"score": n, "count": ratings[f"score_{n}"]} for n in range(1, 6)
        ],
        "minutes_delivered": totals["minutes"],
        "by_area": list(by_area.values()),
        # The same outcome counts, one row per area and outcome, as the page's table lists them.
        "by_outcome": [
            {"area_name": area["name"], "outcome_label": outcome["label"], "n": outcome["count"]}
            for area in by_area.values()
            for outcome in area["outcomes"]
        ],
    }
