"""Reads for the staff's page of one cooperative: its profile, its people, its cases, its figures.

Staff serve every cooperative, so any of them may open any cooperative's profile and people
(as they may open its report, `reports.cooperatives_for_report`); the cases and every figure
are counted over the cases the reader sees as staff (`selectors.staff_cases_of`, the rows of
the staff case list, which the page links to), so a consultant of one area sees and counts
that area's cases. Each function runs a fixed number of queries whatever the number of rows.
"""

from __future__ import annotations

from datetime import date, datetime, time

from django.db.models import Avg, Count, IntegerField, Q, QuerySet, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from .models import Case, CaseEvent, CaseStatus, Cooperative, Membership, SlaState
from .reports import cooperatives_for_report, ratings_of
from .roles import roles_of
from .selectors import staff_cases_of, with_read_state

RECENT_CASES = 20
# The events that carry minutes of consulting: a time entry, and the minutes of a resolution.
MINUTES_EVENTS = (CaseEvent.Kind.TIME_RECORDED, CaseEvent.Kind.RESOLVED)
ROLE_ORDER = {role: position for position, role in enumerate(Membership.Role.values)}


def cooperative_for_staff(user, pk: int) -> Cooperative | None:
    """The cooperative with its office and sector, or None when it does not exist or `user` is
    not federation staff (members have their portal and their report, not this page)."""
    if not roles_of(user).is_staff_role:
        return None
    return cooperatives_for_report(user).select_related("office", "sector").filter(pk=pk).first()


def people_of(cooperative: Cooperative) -> list[Membership]:
    """Who acts for the cooperative (one query): legal representatives first, then referents,
    then members, each by name."""
    memberships = Membership.objects.filter(cooperative=cooperative).select_related("user")
    return sorted(
        memberships,
        key=lambda m: (
            ROLE_ORDER.get(m.role, len(ROLE_ORDER)),
            not m.user.is_active,
            (m.user.last_name or "").lower(),
            (m.user.first_name or "").lower(),
            m.user.username,
        ),
    )


def cases_of_cooperative(user, cooperative: Cooperative) -> QuerySet[Case]:
    """The cooperative's cases that `user` sees as staff: those `/work/cases/?cooperative=`
    lists (a subset of `cases_visible_to`)."""
    return staff_cases_of(user).filter(cooperative=cooperative)


def recent_cases(user, cooperative: Cooperative, *, limit: int = RECENT_CASES) -> list[Case]:
    """The cooperative's most recently opened cases the user may see, each with its area, its
    assignee and the reader's `unread` (one query)."""
    cases = cases_of_cooperative(user, cooperative).select_related("area", "assignee")
    return list(with_read_state(cases, user).order_by("-created_at", "-id")[:limit])


def _year_start(today: date) -> datetime:
    return timezone.make_aware(
        datetime.combine(today.replace(month=1, day=1), time.min), timezone.get_current_timezone()
    )


def _average(value) -> int | float | None:
    """Rounded to two places; a whole average reads "4", not "4.0"."""
    if value is None:
        return None
    value = round(float(value), 2)
    return int(value) if value.is_integer() else value


def cooperative_figures(user, cooperative: Cooperative, *, today: date | None = None) -> dict:
    """Cases, open cases, open cases past an SLA due time, minutes of consulting delivered this
    calendar year, ratings: over the cases `user` sees as staff (three queries).

    The open and breached counts are the dashboard's (`reports.open_case_counts`: an open
    status, the stored SLA state). The year's minutes are read from the time entries (the
    minutes recorded, and those of each resolution) made since 1 January, local time: a case's
    `minutes_spent` is its all-time total and says nothing of when the time was spent.
    """
    today = today or timezone.localdate()
    cases = cases_of_cooperative(user, cooperative).order_by()
    open_ = Q(status__in=CaseStatus.OPEN)
    counts = cases.aggregate(
        total=Count("id"),
        open=Count("id", filter=open_),
        breached=Count("id", filter=open_ & Q(sla_state=SlaState.BREACHED)),
    )
    minutes = CaseEvent.objects.filter(
        case__in=cases.values("id"),
        kind__in=MINUTES_EVENTS,
        created_at__gte=_year_start(today),
    ).aggregate(minutes=Sum(Cast(KT("after__minutes"), IntegerField()), default=0))["minutes"]
    ratings = ratings_of(cases).aggregate(average=Avg("score"), count=Count("id"))
    return {
        **counts,
        "minutes_this_year": minutes,
        "year": today.year,
        "rating_average": _average(ratings["average"]),
        "ratings": ratings["count"],
    }
