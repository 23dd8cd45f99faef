"""Reads for the staff's page of one cooperative: its profile, its people, its cases, its figures.

Staff serve every cooperative, so any of them may open any cooperative's profile and people
(as they may open its report, `reports.cooperatives_for_report`); the cases and every figure
are counted over the cases the reader sees as staff (`selectors.staff_cases_of`, the rows of
the staff case list, which the page links to), so a consultant of one area sees and counts
that area's cases. Each function runs a fixed number of queries whatever the number of rows.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.utils import timezone

from .models import Case, CaseStatus, Cooperative, Membership, SlaState, TimeEntry
from .reports import cooperatives_for_report, ratings_of
from .roles import roles_of
from .selectors import staff_cases_of, with_read_state

RECENT_CASES = 20
ROLE_ORDER = {role: position for position, role in enumerate(Membership.Role.values)}


def cooperative_for_staff(user, pk: int) -> Cooperative | None:
    """The cooperative with its office and sector, or None when it does not exist or `user` is
    not federation staff (members have their portal and their report, not this page)."""
    if not roles_of(user).is_staff_role:
        return None
    return (
        cooperatives_for_report(user)
        .select_related("office", "sector", "merged_into")
        .filter(pk=pk)
        .first()
    )


def absorbed_by(cooperative: Cooperative) -> list[Cooperative]:
    """The cooperatives this one absorbed in a merger, the latest first (one query)."""
    return list(cooperative.absorbed.order_by("-merged_at", "name"))


def cooperatives_known_to(user) -> QuerySet[Cooperative]:
    """The cooperatives whose existence `user` may know of (and whose people page they may ask
    for): every one for staff, those they act for (any role, active) for members. Whether they
    may manage its people is `policy.may_manage_people`: a 403, where an unknown one is a 404."""
    roles = roles_of(user)
    if roles.is_staff_role:
        return Cooperative.objects.all()
    return Cooperative.objects.filter(id__in=roles.cooperative_ids)


def people_of(cooperative: Cooperative) -> list[Membership]:
    """Who acts for the cooperative (one query): legal representatives first, then referents,
    then members, each by name; those who left it are on its People page only."""
    memberships = Membership.objects.filter(cooperative=cooperative, is_active=True).select_related(
        "user"
    )
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
    status, the stored SLA state). The year's minutes are those of the time entries dated
    since 1 January (the minutes recorded, and those of each resolution): a case's
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
    minutes = TimeEntry.objects.filter(
        case__in=cases.values("id"), day__gte=today.replace(month=1, day=1), day__lte=today
    ).aggregate(minutes=Sum("minutes", default=0))["minutes"]
    ratings = ratings_of(cases).aggregate(average=Avg("score"), count=Count("id"))
    return {
        **counts,
        "minutes_this_year": minutes,
        "year": today.year,
        "rating_average": _average(ratings["average"]),
        "ratings": ratings["count"],
    }
