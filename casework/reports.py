"""Figures for the supervisor dashboard and the cooperative report, computed in the database.

Every function is a selector: it takes who is asking (for scoping) or the cooperative, runs a
fixed number of aggregate queries whatever the number of cases, and returns plain dicts and lists
that pages, CSV exports and the API can render alike.
"""

from __future__ import annotations

import statistics
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import Aggregate as _Aggregate
from django.db.models import (
    Avg,
    Count,
    DateTimeField,
    F,
    FloatField,
    Q,
    QuerySet,
    Sum,
    When,
)
from django.db.models import Case as _Case
from django.db.models.functions import TruncDate
from django.utils import timezone

from .models import (
    OPEN_STATUSES,
    Case,
    CaseStatus,
    Consultant,
    Cooperative,
    PracticeArea,
    Rating,
    SlaState,
)
from .roles import roles_of

S = CaseStatus
ACTIVE_STATUSES = (S.ASSIGNED, S.WAITING)
RESOLVED_STATUSES = (S.RESOLVED, S.CLOSED)
WATCH_LIMIT = 25
COMPLIANCE_DAYS = 90
BACKLOG_DAYS = 30
TREND_DAYS = 7
TOP_COOPERATIVES = 8

OPEN = Q(status__in=OPEN_STATUSES)
RESOLVED = Q(status__in=RESOLVED_STATUSES, resolved_at__isnull=False)
# Resolved on time: by the resolution due instant, or with no policy (nothing to miss).
RESOLVED_ON_TIME = RESOLVED & (
    Q(resolution_due_at__isnull=True) | Q(resolved_at__lte=F("resolution_due_at"))
)
ANSWERED = Q(first_response_at__isnull=False)
ANSWERED_ON_TIME = ANSWERED & (
    Q(first_response_due_at__isnull=True) | Q(first_response_at__lte=F("first_response_due_at"))
)


class Median(_Aggregate):
    """PostgreSQL's exact median (`percentile_cont(0.5)`); other databases use `median_of`."""

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


def _percent(part: int, whole: int):
    return _number(100 * part / whole) if whole else None


def _minutes(seconds):
    """Business seconds to business minutes, to a tenth (as the API reports them)."""
    return None if seconds is None else _number(float(seconds) / 60, 1)


def medians_in_seconds(cases: QuerySet[Case], columns: dict[str, Q]) -> dict[str, float | None]:
    """The median of each column over the cases matching its condition, computed by the database.

    PostgreSQL computes all of them in one query with `percentile_cont`; SQLite (the embedded demo
    only) has no such aggregate, so there one column at a time is read and the median taken here.
    """
    if connection.vendor == "postgresql":
        return cases.aggregate(
            **{column: Median(column, filter=condition) for column, condition in columns.items()}
        )
    result = {}
    for column, condition in columns.items():
        values = list(cases.filter(condition).values_list(column, flat=True))
        result[column] = statistics.median(values) if values else None
    return result


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
    counts = {state: Count("id", filter=OPEN & Q(sla_state=state)) for state in SlaState.values}
    return scoped_cases(user).aggregate(
        open=Count("id", filter=OPEN),
        unassigned=Count("id", filter=Q(status=S.UNASSIGNED)),
        triage=Count("id", filter=Q(status=S.TRIAGE)),
        waiting=Count("id", filter=Q(status=S.WAITING)),
        resolved=Count("id", filter=Q(status=S.RESOLVED)),
        **counts,
    )


def _relevant_due():
    """The due instant that matters: first response while it is pending or was late, else
    resolution."""
    return _Case(
        When(
            Q(first_response_at__isnull=True) | Q(first_response_at__gt=F("first_response_due_at")),
            then=F("first_response_due_at"),
        ),
        default=F("resolution_due_at"),
        output_field=DateTimeField(),
    )


def sla_watchlist(user, state: str, *, limit: int = WATCH_LIMIT) -> dict:
    """Open cases at risk or breached, the oldest due first (at most `limit`, with the total)."""
    cases = scoped_cases(user).filter(OPEN, sla_state=state)
    rows = (
        cases.select_related("cooperative", "area", "assignee")
        .annotate(due_at=_relevant_due())
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
            "clock": "first_response"
            if case.first_response_at is None
            or (case.first_response_due_at and case.first_response_at > case.first_response_due_at)
            else "resolution",
        }
        for case in rows
    ]
    total = len(listed) if len(listed) < limit else cases.count()
    return {"state": state, "cases": listed, "total": total}


def _state_counts(**extra):
    return {
        "open": Count("id"),
        "at_risk": Count("id", filter=Q(sla_state=SlaState.AT_RISK)),
        "breached": Count("id", filter=Q(sla_state=SlaState.BREACHED)),
        "unassigned": Count("id", filter=Q(status__in=(S.TRIAGE, S.UNASSIGNED))),
        **extra,
    }


def backlog_by_area(user) -> list[dict]:
    """Open cases per practice area in scope, areas with nothing open included (two queries)."""
    counts = {
        row["area_id"]: row
        for row in scoped_cases(user)
        .filter(OPEN)
        .values("area_id")
        .annotate(**_state_counts())
        .order_by()
    }
    empty = {"open": 0, "at_risk": 0, "breached": 0, "unassigned": 0}
    return [
        {"id": area.pk, "name": area.name, **{k: counts.get(area.pk, empty)[k] for k in empty}}
        for area in scoped_areas(user).order_by("position", "name")
        if area.is_active or area.pk in counts
    ]


def backlog_by_office(user) -> list[dict]:
    """Open cases per territorial office of the cooperative, busiest first."""
    rows = (
        scoped_cases(user)
        .filter(OPEN)
        .values(code=F("cooperative__office__code"), name=F("cooperative__office__name"))
        .annotate(**_state_counts())
        .order_by("-open", "name")
    )
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
    active = Q(user__assigned_cases__status__in=ACTIVE_STATUSES) & area_filter
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
            "load_percent": _percent(c.active_cases, c.capacity),
            "over_capacity": c.active_cases >= c.capacity,
            "absent": c.is_absent_on(today),
            "absent_until": c.absent_until,
            "at_risk": c.at_risk,
            "breached": c.breached,
        }
        for c in consultants
    ]


def daily_flow(user, *, days: int = BACKLOG_DAYS, today: date | None = None) -> list[dict]:
    """Per day of the last `days` (today included): opened, closed and the backlog at day's end.

    The backlog is what was open at the window's start plus the running difference of opened
    and closed, so three aggregate queries give every day (closed_at is set once a case leaves
    the open statuses, and never unset).
    """
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    start = _local_day_start(first)
    tz = timezone.get_current_timezone()
    cases = scoped_cases(user)
    at_start = cases.filter(
        Q(created_at__lt=start) & (Q(closed_at__isnull=True) | Q(closed_at__gte=start))
    ).count()
    opened = dict(
        cases.filter(created_at__gte=start)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
        .order_by()
    )
    closed = dict(
        cases.filter(closed_at__gte=start)
        .annotate(day=TruncDate("closed_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
        .order_by()
    )
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
    return [{**row, "percent": _percent(row["on_time"], row["resolved"])} for row in rows]


def outcomes_by_cooperative(user, *, top: int = TOP_COOPERATIVES) -> dict:
    """The cooperatives with the most resolved cases, each split by outcome (two queries)."""
    cases = scoped_cases(user).filter(RESOLVED, outcome__isnull=False)
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


def cooperative_report(cooperative: Cooperative) -> dict:
    """Cases by area and outcome, SLA compliance, median times, satisfaction, minutes delivered.

    Times are business minutes from the stored clock fields: first response over the answered
    cases, resolution over the resolved ones (the clock stops while the case waits on the
    cooperative, so these are the federation's own times).
    """
    cases = Case.objects.filter(cooperative=cooperative)
    totals = cases.aggregate(
        total=Count("id"),
        open=Count("id", filter=OPEN),
        resolved=Count("id", filter=RESOLVED),
        resolved_on_time=Count("id", filter=RESOLVED_ON_TIME),
        answered=Count("id", filter=ANSWERED),
        answered_on_time=Count("id", filter=ANSWERED_ON_TIME),
        cancelled=Count("id", filter=Q(status__in=(S.CANCELLED, S.REJECTED))),
        minutes=Sum("minutes_spent", default=0),
    )
    medians = medians_in_seconds(
        cases, {"first_response_elapsed_seconds": ANSWERED, "resolution_elapsed_seconds": RESOLVED}
    )
    by_area = list(
        cases.values("area_id", name=F("area__name"))
        .annotate(
            total=Count("id"),
            open=Count("id", filter=OPEN),
            resolved=Count("id", filter=RESOLVED),
            on_time=Count("id", filter=RESOLVED_ON_TIME),
            minutes=Sum("minutes_spent", default=0),
        )
        .order_by("area__position", "area__name")
    )
    for row in by_area:
        row["percent"] = _percent(row["on_time"], row["resolved"])
    by_outcome = list(
        cases.filter(RESOLVED, outcome__isnull=False)
        .values(area_name=F("area__name"), outcome_label=F("outcome__label"))
        .annotate(n=Count("id"))
        .order_by("area__position", "area__name", "-n", "outcome__label")
    )
    ratings = Rating.objects.filter(case__cooperative=cooperative).aggregate(
        average=Avg("score"),
        count=Count("id"),
        **{f"score_{n}": Count("id", filter=Q(score=n)) for n in range(1, 6)},
    )
    return {
        "cooperative": {
            "id": cooperative.pk,
            "name": cooperative.name,
            "tax_code": cooperative.tax_code,
        },
        "cases": totals["total"],
        "open": totals["open"],
        "cancelled": totals["cancelled"],
        "resolved": totals["resolved"],
        "resolved_on_time": totals["resolved_on_time"],
        "sla_compliance_percent": _percent(totals["resolved_on_time"], totals["resolved"]),
        "answered": totals["answered"],
        "answered_on_time": totals["answered_on_time"],
        "first_response_compliance_percent": _percent(
            totals["answered_on_time"], totals["answered"]
        ),
        "median_first_response_minutes": _minutes(medians["first_response_elapsed_seconds"]),
        "median_resolution_minutes": _minutes(medians["resolution_elapsed_seconds"]),
        "satisfaction_average": _number(ratings["average"], 2),
        "ratings": ratings["count"],
        "satisfaction_distribution": [
            {"score": n, "count": ratings[f"score_{n}"]} for n in range(1, 6)
        ],
        "minutes_delivered": totals["minutes"],
        "by_area": by_area,
        "by_outcome": by_outcome,
    }
