"""Figures for the supervisor dashboard and the cooperative report, computed in the database.

Every function is a selector: it takes who is asking (for scoping), or cases already scoped to
them, runs a fixed number of aggregate queries whatever the number of cases, and returns plain
dicts and lists that pages, CSV exports and the API can render alike. This is the one place
these figures are computed; the API serializes what it returns.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
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
from django.db.models.functions import TruncDate, TruncWeek
from django.db.models.lookups import Lookup
from django.utils import timezone

from .i18n import localized
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
from .models.cases import due_that_matters
from .roles import roles_of
from .sla.clocks import clock_that_matters

S = CaseStatus
WATCH_LIMIT = 10
COMPLIANCE_DAYS = 90
BACKLOG_DAYS = 30
TREND_DAYS = 7
TOP_COOPERATIVES = 8
TREND_WEEKS = 12
LOW_RATING = 2  # scores up to this one are shown to supervisors with their comment
LOW_RATINGS_SHOWN = 10

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


@dataclass(frozen=True)
class Scope:
    """What the dashboard's filters narrow its figures to (each None: no filter), and the period
    its flow figures count (compliance, trends, ratings): whole local days, both included."""

    area_id: int | None = None
    office_id: int | None = None
    assignee_id: int | None = None
    since: date | None = None
    until: date | None = None

    def period(self, today: date) -> tuple[date, date]:
        until = self.until or today
        since = self.since or until - timedelta(days=COMPLIANCE_DAYS - 1)
        return since, until


def scoped_cases(user, scope: Scope | None = None) -> QuerySet[Case]:
    """The cases a supervisor watches: every case, or those of the areas they supervise;
    narrowed to the scope's area, office (of the cooperative) and assignee."""
    condition = scope_condition(user, scope)
    return Case.objects.none() if condition is None else Case.objects.filter(condition)


def scope_condition(user, scope: Scope | None = None, *, case: str = "") -> Q | None:
    """`scoped_cases` as a condition on the case that `case` (a path like `"case__"`) leads
    to, so rows of another table (ratings) are filtered by joining their case rather than by
    collecting every id of the federation; None: the user watches no case."""
    roles = roles_of(user)
    condition = Q()
    if not roles.supervises_all:
        if not (roles.is_supervisor and roles.supervised_area_ids):
            return None
        condition &= Q(**{f"{case}area_id__in": roles.supervised_area_ids})
    if scope is not None:
        for field, value in (
            ("area_id", scope.area_id),
            ("cooperative__office_id", scope.office_id),
            ("assignee_id", scope.assignee_id),
        ):
            if value is not None:
                condition &= Q(**{f"{case}{field}": value})
    return condition


def scoped_areas(user) -> QuerySet[PracticeArea]:
    roles = roles_of(user)
    if roles.supervises_all:
        return PracticeArea.objects.all()
    return PracticeArea.objects.filter(id__in=roles.supervised_area_ids)


def _local_day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


# --- Supervisor dashboard ------------------------------------------------------------------


def open_case_counts(user, scope: Scope | None = None) -> dict[str, int]:
    """Open cases by SLA state, plus the two queues that wait on a supervisor (one query, of
    the open cases only: the index of them, not every case ever opened)."""
    return (
        scoped_cases(user, scope)
        .filter(OPEN)
        .aggregate(
            open=Count("id"),
            unassigned=Count("id", filter=Q(status=S.UNASSIGNED)),
            triage=Count("id", filter=Q(status=S.TRIAGE)),
            waiting=Count("id", filter=Q(status=S.WAITING)),
            resolved=Count("id", filter=Q(status=S.RESOLVED)),
            **_sla_state_counts(),
        )
    )


def sla_watchlist(
    user, state: str, *, limit: int = WATCH_LIMIT, scope: Scope | None = None
) -> dict:
    """Open cases at risk or breached, the oldest due first (at most `limit`, with the total)."""
    cases = scoped_cases(user, scope).filter(OPEN, sla_state=state)
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


def _sla_state_counts() -> dict[str, Count]:
    return {state: Count("id", filter=Q(sla_state=state)) for state in SlaState.values}


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
            # The two queues apart, as the dashboard's tiles count them.
            triage=Count("id", filter=Q(status=S.TRIAGE)),
            unassigned_only=Count("id", filter=Q(status=S.UNASSIGNED)),
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


def backlog_by_area(user, scope: Scope | None = None) -> list[dict]:
    """Open cases per practice area in scope, areas with nothing open included (two queries)."""
    counts = {row["area_id"]: row for row in _open_counts_by(scoped_cases(user, scope), "area_id")}
    empty = {"open": 0, "at_risk": 0, "breached": 0, "triage": 0, "unassigned_only": 0}
    areas = scoped_areas(user).order_by("position", "name")
    if scope is not None and scope.area_id is not None:
        areas = areas.filter(pk=scope.area_id)
    return [
        {"id": area.pk, "name": area.name, **{k: counts.get(area.pk, empty)[k] for k in empty}}
        for area in areas
        if area.is_active or area.pk in counts
    ]


def backlog_by_office(user, scope: Scope | None = None) -> list[dict]:
    """Open cases per territorial office of the cooperative, busiest first."""
    rows = _open_counts_by(
        scoped_cases(user, scope),
        code=F("cooperative__office__code"),
        name=F("cooperative__office__name"),
    ).order_by("-open", "name")
    return list(rows)


def consultant_load(user, *, today: date | None = None, scope: Scope | None = None) -> list[dict]:
    """Each consultant of the areas in scope: load versus capacity, absence, SLA trouble."""
    today = today or timezone.localdate()
    roles = roles_of(user)
    consultants = Consultant.objects.filter(is_active=True)
    area_filter = Q()
    if scope is not None:
        if scope.area_id is not None:
            consultants = consultants.filter(areas=scope.area_id)
        if scope.office_id is not None:
            consultants = consultants.filter(office_id=scope.office_id)
        if scope.assignee_id is not None:
            consultants = consultants.filter(user_id=scope.assignee_id)
    if not roles.supervises_all:
        consultants = consultants.filter(
            id__in=Consultant.areas.through.objects.filter(
                practicearea_id__in=roles.supervised_area_ids
            ).values("consultant_id")
        )
        area_filter = Q(area_id__in=roles.supervised_area_ids)
    # The SLA trouble of the open cases, counted apart and grouped by assignee (through the open
    # cases' index): joined to each consultant's cases, it read every case ever assigned.
    trouble: dict[tuple[int, str], int] = {}
    for assignee_id, state, n in (
        Case.objects.filter(
            area_filter,
            status__in=CaseStatus.ACTIVE,
            assignee__isnull=False,
            sla_state__in=[SlaState.AT_RISK, SlaState.BREACHED],
        )
        .values("assignee_id", "sla_state")
        .annotate(n=Count("id"))
        .values_list("assignee_id", "sla_state", "n")
        .order_by()
    ):
        trouble[(assignee_id, state)] = n
    consultants = (
        consultants.select_related("user", "office")
        .prefetch_related("areas")
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
            # The load meter: green below 70 %, amber from there, red when full.
            "meter_low": round(c.capacity * 0.7, 1),
            "meter_high": max(c.capacity - 0.5, 0.5),
            "absent": c.is_absent_on(today),
            "absent_until": c.absent_until,
            "at_risk": trouble.get((c.user_id, SlaState.AT_RISK), 0),
            "breached": trouble.get((c.user_id, SlaState.BREACHED), 0),
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


def daily_flow(
    user, *, days: int = BACKLOG_DAYS, today: date | None = None, scope: Scope | None = None
) -> list[dict]:
    """Per day of the last `days` (today included): opened, closed and the backlog at day's end.

    The backlog is what was open at the window's start plus the running difference of opened
    and closed, so three aggregate queries give every day (closed_at is set once a case leaves
    the open statuses, and never unset).
    """
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    start = _local_day_start(first)
    cases = scoped_cases(user, scope)
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


def _period_instants(scope: Scope, today: date) -> tuple[datetime, datetime]:
    """The scope's period as [start, end) instants: local midnight of its first day to local
    midnight after its last (open-ended at the calendar's edge)."""
    since, until = scope.period(today)
    start = _period_bound(since, days_after=0) or datetime.min.replace(tzinfo=UTC)
    end = _period_bound(until, days_after=1) or datetime.max.replace(tzinfo=UTC)
    return start, end


def _due_figures(prefix: str, due_field: str, done_field: str) -> dict:
    """Counts of the cases whose due time fell in the window: met by it, missed because
    answered or resolved late, missed and still open (breached, nothing done yet)."""
    due = F(due_field)
    return {
        f"{prefix}_due": Count("id"),
        f"{prefix}_met": Count("id", filter=Q(**{f"{done_field}__lte": due})),
        f"{prefix}_late": Count("id", filter=Q(**{f"{done_field}__gt": due})),
        f"{prefix}_open": Count("id", filter=Q(**{f"{done_field}__isnull": True})),
    }


RESOLUTION_DUE = ("resolved", "resolution_due_at", "resolved_at")
FIRST_RESPONSE_DUE = ("first_response", "first_response_due_at", "first_response_at")


def compliance(
    user, *, scope: Scope | None = None, today: date | None = None, now: datetime | None = None
) -> dict:
    """SLA compliance as a supervisor means it: of the cases whose due time fell in the period
    (up to now), how many were answered / resolved by it. A case resolved late and an open case
    past its due time count alike as missed; a case not yet due counts nowhere; cancelled and
    rejected cases are left out. Two queries (overall, per area)."""
    scope = scope or Scope()
    now = now or timezone.now()
    start, end = _period_instants(scope, today or timezone.localdate())
    end = min(end, now)
    cases = scoped_cases(user, scope).exclude(status__in=CaseStatus.STOPPED).order_by()
    # Resolution: cases reaching a resolution set resolved_at; first response: first_response_at.
    resolution = cases.filter(resolution_due_at__gte=start, resolution_due_at__lt=end)
    answer = cases.filter(first_response_due_at__gte=start, first_response_due_at__lt=end)
    totals = resolution.aggregate(**_due_figures(*RESOLUTION_DUE)) | answer.aggregate(
        **_due_figures(*FIRST_RESPONSE_DUE)
    )
    by_area = (
        resolution.values("area_id", name=localized("area__name"))
        .annotate(**_due_figures(*RESOLUTION_DUE))
        .order_by("area__position", "area__name")
    )
    return {
        "since": scope.period(today or timezone.localdate())[0],
        "until": scope.period(today or timezone.localdate())[1],
        "resolution": {
            "due": totals["resolved_due"],
            "met": totals["resolved_met"],
            "late": totals["resolved_late"],
            "open": totals["resolved_open"],
            "percent": _percent(_share(totals["resolved_met"], totals["resolved_due"])),
        },
        "first_response": {
            "due": totals["first_response_due"],
            "met": totals["first_response_met"],
            "late": totals["first_response_late"],
            "open": totals["first_response_open"],
            "percent": _percent(_share(totals["first_response_met"], totals["first_response_due"])),
        },
        "by_area": [
            {
                "area_id": row["area_id"],
                "name": row["name"],
                "due": row["resolved_due"],
                "met": row["resolved_met"],
                "percent": _percent(_share(row["resolved_met"], row["resolved_due"])),
            }
            for row in by_area
        ],
    }


def low_ratings(
    user, *, scope: Scope | None = None, today: date | None = None, limit: int = LOW_RATINGS_SHOWN
) -> dict:
    """The ratings of LOW_RATING or less given in the period, newest first, with their comment
    and case (at most `limit`, with the total)."""
    scope = scope or Scope()
    start, end = _period_instants(scope, today or timezone.localdate())
    # The period's ratings, newest first through their date's index, each joined to its case
    # for the scope (collecting the case ids of a whole federation first took seconds).
    condition = scope_condition(user, scope, case="case__")
    ratings = (
        Rating.objects.none()
        if condition is None
        else Rating.objects.filter(
            condition, score__lte=LOW_RATING, created_at__gte=start, created_at__lt=end
        )
    )
    rows = list(
        ratings.select_related("case__cooperative", "case__assignee", "case__area").order_by(
            "-created_at", "-id"
        )[:limit]
    )
    listed = [
        {
            "case_id": rating.case_id,
            "reference": rating.case.reference,
            "subject": rating.case.subject,
            "cooperative": rating.case.cooperative.name,
            "area": rating.case.area.name,
            "assignee": (rating.case.assignee.get_full_name() or rating.case.assignee.username)
            if rating.case.assignee
            else None,
            "score": rating.score,
            "comment": rating.comment,
            "created_at": rating.created_at,
        }
        for rating in rows
    ]
    total = len(listed) if len(listed) < limit else ratings.count()
    return {"ratings": listed, "total": total}


def _per_week(cases: QuerySet[Case], column: str, *, start: datetime, end: datetime) -> dict:
    tz = timezone.get_current_timezone()
    rows = (
        cases.filter(**{f"{column}__gte": start, f"{column}__lt": end})
        .annotate(week=TruncWeek(column, tzinfo=tz))
        .values("week")
        .annotate(n=Count("id"))
        .values_list("week", "n")
        .order_by()
    )
    return {_as_day(week): n for week, n in rows}


def _as_day(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def weekly_trends(
    user, *, scope: Scope | None = None, today: date | None = None, weeks: int = TREND_WEEKS
) -> list[dict]:
    """Per week (Monday to Sunday) of the period's last `weeks`: cases opened, resolved,
    breached (a first response or resolution that passed its due time that week) and the
    median first response in business minutes of the cases first answered that week. Five
    grouped queries whatever the number of cases."""
    scope = scope or Scope()
    today = today or timezone.localdate()
    since, until = scope.period(today)
    last_monday = until - timedelta(days=until.weekday())
    first_monday = max(
        since - timedelta(days=since.weekday()), last_monday - timedelta(weeks=weeks - 1)
    )
    start = _local_day_start(first_monday)
    end = _local_day_start(last_monday + timedelta(days=7))
    cases = scoped_cases(user, scope).order_by()
    opened = _per_week(cases, "created_at", start=start, end=end)
    resolved = _per_week(cases, "resolved_at", start=start, end=end)
    breached_first = _per_week(cases, "first_response_breached_at", start=start, end=end)
    breached_resolution = _per_week(cases, "resolution_breached_at", start=start, end=end)
    medians = _weekly_median_first_response(cases, start=start, end=end)
    rows = []
    monday = first_monday
    while monday <= last_monday:
        rows.append(
            {
                "week": monday,
                "opened": opened.get(monday, 0),
                "resolved": resolved.get(monday, 0),
                "breached": breached_first.get(monday, 0) + breached_resolution.get(monday, 0),
                "median_first_response_minutes": _minutes(medians.get(monday)),
            }
        )
        monday += timedelta(days=7)
    return rows


def _weekly_median_first_response(
    cases: QuerySet[Case], *, start: datetime, end: datetime
) -> dict[date, float]:
    answered = cases.filter(first_response_at__gte=start, first_response_at__lt=end)
    week = TruncWeek("first_response_at", tzinfo=timezone.get_current_timezone())
    if connection.vendor == "postgresql":
        rows = (
            answered.annotate(week=week)
            .values("week")
            .annotate(median=Median("first_response_elapsed_seconds"))
            .values_list("week", "median")
        )
        return {_as_day(w): m for w, m in rows if m is not None}
    # SQLite (the embedded default) has no percentile: the few rows come to Python.
    by_week: dict[date, list[int]] = {}
    for w, seconds in answered.annotate(week=week).values_list(
        "week", "first_response_elapsed_seconds"
    ):
        by_week.setdefault(_as_day(w), []).append(seconds)
    return {w: statistics.median(values) for w, values in by_week.items()}


def outcomes_by_cooperative(
    user, *, top: int = TOP_COOPERATIVES, scope: Scope | None = None, today: date | None = None
) -> dict:
    """The cooperatives with the most cases resolved in the period, each split by outcome (two
    queries)."""
    cases = scoped_cases(user, scope).filter(WITH_OUTCOME)
    if scope is not None:
        start, end = _period_instants(scope, today or timezone.localdate())
        cases = cases.filter(resolved_at__gte=start, resolved_at__lt=end)
    leaders = list(
        cases.values("cooperative_id", name=F("cooperative__name"))
        .annotate(total=Count("id"))
        .order_by("-total", "name")[:top]
    )
    split = (
        cases.filter(cooperative_id__in=[row["cooperative_id"] for row in leaders])
        .values("cooperative_id", label=localized("outcome__label"))
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


def dashboard(user, *, today: date | None = None, scope: Scope | None = None) -> dict:
    """Everything the supervisor dashboard shows, scoped to the user's areas and the filters."""
    today = today or timezone.localdate()
    scope = scope or Scope()
    flow = daily_flow(user, days=BACKLOG_DAYS, today=today, scope=scope)
    return {
        "counts": open_case_counts(user, scope),
        "at_risk": sla_watchlist(user, SlaState.AT_RISK, scope=scope),
        "breached": sla_watchlist(user, SlaState.BREACHED, scope=scope),
        "by_area": backlog_by_area(user, scope),
        "by_office": backlog_by_office(user, scope),
        "consultants": consultant_load(user, today=today, scope=scope),
        "backlog_history": flow,
        "week": flow[-TREND_DAYS:],
        "compliance": compliance(user, scope=scope, today=today),
        "trends": weekly_trends(user, scope=scope, today=today),
        "low_ratings": low_ratings(user, scope=scope, today=today),
        "outcomes": outcomes_by_cooperative(user, scope=scope, today=today),
    }


# --- Cooperative report --------------------------------------------------------------------


def cooperatives_for_report(user) -> QuerySet[Cooperative]:
    """Cooperatives whose report the user may open: all for staff; for the cooperative's people,
    those where they are legal representative or referent (an ordinary member sees only their
    own cases, so the cooperative's figures are not theirs: 404)."""
    roles = roles_of(user)
    if roles.is_staff_role:
        return Cooperative.objects.all()
    return Cooperative.objects.filter(id__in=roles.full_view_cooperative_ids)


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


# Each status in exactly one bucket, in the order of the process: the report's totals add up.
BUCKETS = (
    ("in_progress", (S.TRIAGE, S.UNASSIGNED, S.ASSIGNED, S.WAITING)),
    ("awaiting_confirmation", (S.RESOLVED,)),
    ("closed", (S.CLOSED,)),
    ("stopped", CaseStatus.STOPPED),
)
assert sorted(s for _name, statuses in BUCKETS for s in statuses) == sorted(S.values)


def _buckets(by_status: dict[str, int]) -> dict[str, int]:
    return {name: sum(by_status[s] for s in statuses) for name, statuses in BUCKETS}


def resolved_between(
    cases: QuerySet[Case], *, since: date | None = None, until: date | None = None
) -> dict[str, int]:
    """Cases resolved within the period whenever they were opened, and how many on time (one
    query): what a federation reports for a quarter besides the cases opened in it."""
    if since is not None and (start := _period_bound(since, days_after=0)) is not None:
        cases = cases.filter(resolved_at__gte=start)
    if until is not None and (end := _period_bound(until, days_after=1)) is not None:
        cases = cases.filter(resolved_at__lt=end)
    return cases.filter(RESOLVED).aggregate(
        resolved=Count("id"), on_time=Count("id", filter=RESOLVED_ON_TIME)
    )


def case_rows(cases: QuerySet[Case]) -> list[dict]:
    """One row per case for the report's export: dates, area, status, outcome, SLA figures,
    minutes and rating, oldest first (one query)."""
    rows = (
        cases.order_by("created_at", "id")
        .select_related("area", "outcome", "assignee")
        .annotate(score=F("rating__score"))
    )
    return [
        {
            "reference": case.reference,
            "subject": case.subject,
            "opened_at": case.created_at,
            "area": case.area.name,
            "channel": case.get_channel_display(),
            "status": case.get_status_display(),
            "assignee": (case.assignee.get_full_name() or case.assignee.username)
            if case.assignee
            else "",
            "first_response_due_at": case.first_response_due_at,
            "first_response_at": case.first_response_at,
            "resolution_due_at": case.resolution_due_at,
            "resolved_at": case.resolved_at,
            "closed_at": case.closed_at,
            "on_time": None
            if case.resolved_at is None or case.resolution_due_at is None
            else case.resolved_at <= case.resolution_due_at,
            "outcome": case.outcome.label if case.outcome else "",
            "sla": case.get_sla_state_display(),
            "minutes": case.minutes_spent,
            "rating": case.score,
        }
        for case in rows
    ]


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
        name=localized("area__name"),
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
        .values("area_id", code=F("outcome__code"), label=localized("outcome__label"))
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
        # One bucket per case, so that they add up to `cases` (`open` above counts the resolved
        # cases awaiting confirmation too, as `resolved` does).
        "buckets": _buckets(by_status),
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
